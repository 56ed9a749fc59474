import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { holds } from './byte-search';
import { findTokensOfClient, tokenMarkerOf } from './jwt-client';
import { encodeToken, replaceTokens } from './references';

/**
 * What updateTokenInFiles does to one file, synchronously: read it, skip it when binary or too
 * large, and work out its new bytes. Shared by the calling thread and the scan worker
 * (scan-worker.ts), so both treat a file the same way. Internal: not exported by the package.
 */

/**
 * Size of the buffer every file is read into first. Reading into a small buffer is quicker than
 * into a large one: at 200 KiB and over (memory the allocator maps apart), reading 10,000 small
 * files took 40% longer here.
 */
const SCRATCH_BYTES = 64 * 1024;
/** How much of a file is checked for a NUL byte to call it binary (as git does). */
export const BINARY_SNIFF_BYTES = 8192;

/** Why a file was not scanned. */
export type SkipReason = 'binary' | 'too-large' | 'unreadable';

/** What a scan is asked for; plain data, so it can be posted to the scan worker. */
export interface ScanSpec {
  /** Tokens to replace, as given (UTF-8 text). */
  oldTokens: readonly string[];
  newToken: string;
  client: string | undefined;
  maxFileBytes: number;
}

/** A file to write: its new bytes, its mode and the copies replaced. */
export interface Change {
  data: Uint8Array;
  mode: number;
  copies: number;
}

/** What scanning one file gave: a change, null (nothing to change) or why it was skipped. */
export type Outcome = Change | null | SkipReason;

/** A ScanSpec made ready for scanning (tokens as latin1 strings of their UTF-8 bytes). */
export interface Scanner {
  olds: readonly string[];
  newToken: string;
  client: string | undefined;
  needles: readonly Buffer[];
  /** The size cap. */
  maxFileBytes: number;
  /** Where every file is read first (up to 64 KiB; most files fit). */
  scratch: Buffer;
  /** maxFileBytes + 1 bytes, allocated when a file does not fit in `scratch`. */
  large: Buffer | null;
}

/** The JS string whose latin1 code units are the UTF-8 bytes of `text`: byte-exact matching. */
function asBytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/**
 * Byte strings of which a file must hold at least one to need a change: each way an old token can
 * be written (see findTokenReferences) and, when other tokens of `client` are looked for, the
 * start of their payload. Most files hold none, and searching bytes is far cheaper than decoding them.
 */
function needlesOf(olds: readonly string[], client: string | undefined): Buffer[] {
  const forms = new Set<string>();
  for (const old of olds) {
    for (const encoding of ['raw', 'json-escaped', 'json-escaped-slash'] as const)
      forms.add(encodeToken(old, encoding));
  }
  const needles = [...forms].map((form) => Buffer.from(form, 'latin1'));
  if (client !== undefined) needles.push(Buffer.from(tokenMarkerOf(client), 'latin1'));
  // A needle holding another is found only where that one is: searching the shorter is enough.
  return needles.filter(
    (needle, i) => !needles.some((other, j) => j !== i && other.length < needle.length && needle.includes(other)),
  );
}

/** Prepares a spec for scanning (one scratch buffer per thread). */
export function makeScanner(spec: ScanSpec): Scanner {
  const olds = spec.oldTokens.filter((t) => t !== '' && t !== spec.newToken).map(asBytes);
  return {
    olds,
    newToken: asBytes(spec.newToken),
    client: spec.client,
    needles: needlesOf(olds, spec.client),
    maxFileBytes: spec.maxFileBytes,
    scratch: Buffer.allocUnsafe(Math.min(SCRATCH_BYTES, spec.maxFileBytes + 1)),
    large: null,
  };
}

/**
 * The file's bytes, or why it is not scanned. Read into the scanner's buffers (reused for every
 * file) until the end or one byte over the cap: no stat and no allocation per file.
 */
function readSmallFile(path: string, scanner: Scanner): Buffer | SkipReason {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 'unreadable';
  }
  try {
    const limit = scanner.maxFileBytes + 1;
    let buffer = scanner.scratch;
    let length = 0;
    while (length < limit) {
      if (length === buffer.length) {
        scanner.large ??= Buffer.allocUnsafe(limit);
        buffer.copy(scanner.large, 0, 0, length);
        buffer = scanner.large;
      }
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return length === limit ? 'too-large' : buffer.subarray(0, length);
  } catch {
    return 'unreadable';
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Nothing was written through it; a failed close loses nothing.
    }
  }
}

/** What to write to one file (null: nothing to change), or why it was skipped. */
export function scanFile(path: string, scanner: Scanner): Outcome {
  const bytes = readSmallFile(path, scanner);
  if (typeof bytes === 'string') return bytes;
  if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return 'binary';
  if (!scanner.needles.some((needle) => holds(bytes, needle))) return null;

  const text = bytes.toString('latin1');
  const replacements = new Map<string, string>();
  for (const old of scanner.olds) replacements.set(old, scanner.newToken);
  if (scanner.client !== undefined) {
    for (const older of findTokensOfClient(text, scanner.client)) {
      if (older !== scanner.newToken) replacements.set(older, scanner.newToken);
    }
  }
  if (replacements.size === 0) return null;
  const replaced = replaceTokens(text, replacements);
  if (replaced.copies === 0) return null;
  let mode: number;
  try {
    mode = statSync(path).mode & 0o7777;
  } catch {
    return 'unreadable';
  }
  return { data: Buffer.from(replaced.text, 'latin1'), mode, copies: replaced.copies };
}
