/**
 * Adobe's batch file is the text `batch=` then CSV lines, each cell URL-encoded (API.md 2.1). A
 * body or file is in that form when it starts with `batch=`, after an optional UTF-8 byte order
 * mark (as Windows editors save UTF-8). The server's parser, its multipart sniffing and the CLI
 * all decide it here.
 */

const BOM = [0xef, 0xbb, 0xbf] as const;
const FORM_PREFIX = [...'batch='].map((char) => char.charCodeAt(0));

/** How a batch body starts. */
export interface BatchFormPrefix {
  /** Whether the body is Adobe's form: `batch=` after the optional BOM. */
  form: boolean;
  /** Bytes of the UTF-8 BOM at the start: 3, or 0 without one. */
  bomBytes: number;
  /** Where the batch's first line starts: after the BOM, and after `batch=` for a form. */
  contentStart: number;
}

/**
 * Whether the batch body starting with `head` is Adobe's form (`batch=` after an optional UTF-8
 * BOM), and where its lines start. Undefined while `head` is too short to tell and more may come
 * (`complete` false): a stream calls again with more bytes, or with `complete` true at its end.
 */
export function batchFormPrefix(head: Uint8Array, complete = true): BatchFormPrefix | undefined {
  const bom = startsWith(head, 0, BOM);
  if (bom === 'too-short' && !complete) return undefined;
  const bomBytes = bom === 'yes' ? BOM.length : 0;
  const form = startsWith(head, bomBytes, FORM_PREFIX);
  if (form === 'too-short' && !complete) return undefined;
  if (form === 'yes') return { form: true, bomBytes, contentStart: bomBytes + FORM_PREFIX.length };
  return { form: false, bomBytes, contentStart: bomBytes };
}

/** Whether `bytes` holds `prefix` at `at`; `too-short` when it ends inside a match so far. */
function startsWith(bytes: Uint8Array, at: number, prefix: readonly number[]): 'yes' | 'no' | 'too-short' {
  for (let i = 0; i < prefix.length; i++) {
    if (at + i >= bytes.length) return 'too-short';
    if (bytes[at + i] !== prefix[i]) return 'no';
  }
  return 'yes';
}
