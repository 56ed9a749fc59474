/**
 * Plans the replacements in one file's text: which old tokens to replace (the ones the extension
 * knows, plus any other token of the client found in the text, never the new one) and the exact
 * ranges, each rewritten the way its copy was written (raw or JSON-escaped). Everything else in
 * the text is left alone. The VS Code adapter turns the plan into a WorkspaceEdit.
 */
import { encodeToken, findTokenReferences, findTokensOfClient, maskToken } from '@profilegate/client';
import { readClaims } from './token-check';

/** One replacement: text offsets (UTF-16) in the file's text and what goes there. */
export interface PlannedEdit {
  start: number;
  end: number;
  newText: string;
  /** The token this copy is of. */
  oldToken: string;
}

/** The plan for one file. */
export interface FilePlan {
  edits: PlannedEdit[];
  /** Every old token looked for in this file (known ones and the client's others found in it). */
  oldTokens: string[];
}

/** What to replace, and by what. */
export interface RotationRequest {
  /** Tokens known to be old: the server's token read before regenerating, the previously stored one. */
  knownOldTokens: readonly string[];
  /** The token written instead. */
  newToken: string;
  /** Other tokens of this client found in a file are old too; undefined: known tokens only (Adobe's opaque ones). */
  client: string | undefined;
}

/**
 * The distinct old tokens to look for in `text`: known ones, then the client's others found in it,
 * except any issued after the new token (pasting an older token by mistake must not overwrite a
 * newer one).
 */
export function oldTokensFor(text: string, request: RotationRequest): string[] {
  const olds = new Set<string>();
  for (const token of request.knownOldTokens) if (token !== '' && token !== request.newToken) olds.add(token);
  if (request.client === undefined) return [...olds];
  const found = findTokensOfClient(text, request.client).filter((token) => token !== request.newToken);
  if (found.length === 0) return [...olds];
  const newIssuedAt = readClaims(request.newToken).issuedAt;
  for (const token of found) {
    const issuedAt = readClaims(token).issuedAt;
    if (newIssuedAt !== null && issuedAt !== null && issuedAt > newIssuedAt && !olds.has(token)) continue;
    olds.add(token);
  }
  return [...olds];
}

/** The replacements to make in `text`; none when it holds no copy of an old token. */
export function planFileEdits(text: string, request: RotationRequest): FilePlan {
  const oldTokens = oldTokensFor(text, request);
  if (oldTokens.length === 0) return { edits: [], oldTokens };
  const edits = findTokenReferences(text, oldTokens).map((ref) => ({
    start: ref.start,
    end: ref.end,
    newText: encodeToken(request.newToken, ref.encoding),
    oldToken: oldTokens[ref.tokenIndex] as string,
  }));
  return { edits, oldTokens };
}

/** Copies of any of `oldTokens` still in `text` (to count what an edit really replaced). */
export function countCopies(text: string, oldTokens: readonly string[]): number {
  return oldTokens.length === 0 ? 0 : findTokenReferences(text, oldTokens).length;
}

/** The text with the plan applied (what the file holds afterwards); for tests and dry runs. */
export function applyPlan(text: string, plan: FilePlan): string {
  let result = '';
  let last = 0;
  for (const edit of plan.edits) {
    result += text.slice(last, edit.start) + edit.newText;
    last = edit.end;
  }
  return result + text.slice(last);
}

/** The label of the replacements in the Refactor Preview: masked tokens only. */
export function previewLabel(oldTokens: readonly string[], newToken: string): string {
  const distinct = [...new Set(oldTokens)];
  const first = distinct[0];
  if (first === undefined) return `Profile token → ${maskToken(newToken)}`;
  const more = distinct.length > 1 ? ` and ${distinct.length - 1} older` : '';
  return `Replace profile token ${maskToken(first)}${more} with ${maskToken(newToken)}`;
}

/** How much of a file is checked for a NUL byte to call it binary (as git does). */
export const BINARY_SNIFF_BYTES = 8192;

/** True when the first bytes hold a NUL: a binary file, never searched. */
export function looksBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0);
}
