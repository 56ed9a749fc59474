/**
 * Finding and replacing copies of a token in text, whatever the file format: `.env` (quoted,
 * unquoted, `export X=`), YAML, shell, `Authorization: Bearer` lines are all raw text around the
 * token; JSON may escape it (`/` as `\/`, and `"`/`\` for exotic tokens). Only the token's own
 * characters are replaced, so quotes, line endings and indentation stay exactly as they were.
 */

/** How a copy of a token is written in the text. */
export type TokenEncoding = 'raw' | 'json-escaped' | 'json-escaped-slash';

/** One copy of a token in a text. */
export interface TokenReference {
  /** Index in the `tokens` argument of the token found. */
  tokenIndex: number;
  /** Offset of the copy's first character (UTF-16 code units). */
  start: number;
  /** Offset just after the copy. */
  end: number;
  /** 1-based line and column of `start`. */
  line: number;
  column: number;
  encoding: TokenEncoding;
  /** The quote right before the copy (`"` or `'`), or null when it is unquoted. */
  quote: '"' | "'" | null;
}

/** Characters that continue a token (RFC 6750 b64token, minus `/` and `.`, handled apart). */
const CONTINUES = /[A-Za-z0-9_\-~+]/;

function encodings(token: string): Array<{ encoding: TokenEncoding; text: string }> {
  const forms: Array<{ encoding: TokenEncoding; text: string }> = [{ encoding: 'raw', text: token }];
  const escaped = JSON.stringify(token).slice(1, -1);
  if (escaped !== token) forms.push({ encoding: 'json-escaped', text: escaped });
  const slashEscaped = escaped.replace(/\//g, '\\/');
  if (slashEscaped !== escaped) forms.push({ encoding: 'json-escaped-slash', text: slashEscaped });
  return forms;
}

/** Writes `token` the way a copy with `encoding` was written. */
export function encodeToken(token: string, encoding: TokenEncoding): string {
  if (encoding === 'raw') return token;
  const escaped = JSON.stringify(token).slice(1, -1);
  return encoding === 'json-escaped' ? escaped : escaped.replace(/\//g, '\\/');
}

/** True when the copy at [start, end) is a whole token, not a piece of a longer one. */
function isWholeToken(text: string, start: number, end: number): boolean {
  const before = text[start - 1];
  if (before !== undefined) {
    if (CONTINUES.test(before)) return false;
    if (before === '.' && start >= 2 && CONTINUES.test(text[start - 2] as string)) return false;
  }
  const after = text[end];
  if (after !== undefined) {
    if (CONTINUES.test(after) || after === '=') return false;
    const next = text[end + 1];
    if (after === '.' && next !== undefined && CONTINUES.test(next)) return false;
    if (after === '\\' && next === '/') return false;
  }
  return true;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function position(starts: number[], offset: number): { line: number; column: number } {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] as number) <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - (starts[low] as number) + 1 };
}

/**
 * Every whole copy of any of `tokens` in `text`, in order, raw or JSON-escaped. A token that is
 * only part of a longer token-like run of characters is not a copy. Empty tokens are ignored.
 */
export function findTokenReferences(text: string, tokens: readonly string[]): TokenReference[] {
  const found: TokenReference[] = [];
  tokens.forEach((token, tokenIndex) => {
    if (token === '') return;
    for (const form of encodings(token)) {
      for (let at = text.indexOf(form.text); at !== -1; at = text.indexOf(form.text, at + 1)) {
        const end = at + form.text.length;
        if (!isWholeToken(text, at, end)) continue;
        const before = text[at - 1];
        found.push({
          tokenIndex,
          start: at,
          end,
          line: 0,
          column: 0,
          encoding: form.encoding,
          quote: before === '"' || before === "'" ? before : null,
        });
      }
    }
  });
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  // Two tokens may overlap only when one contains the other; keep the first, longest copy.
  const kept: TokenReference[] = [];
  for (const ref of found) {
    const last = kept[kept.length - 1];
    if (last !== undefined && ref.start < last.end) continue;
    kept.push(ref);
  }
  if (kept.length > 0) {
    const starts = lineStarts(text);
    for (const ref of kept) Object.assign(ref, position(starts, ref.start));
  }
  return kept;
}

/** Result of replaceTokens. */
export interface ReplaceResult {
  text: string;
  /** Copies replaced, all tokens together. */
  copies: number;
  /** Copies replaced per old token. */
  copiesByToken: Map<string, number>;
}

/**
 * Replaces every whole copy of each old token (the map's keys) by its new token, written the same
 * way (raw, or JSON-escaped like the copy). Everything around the copies is left byte for byte.
 */
export function replaceTokens(text: string, replacements: ReadonlyMap<string, string>): ReplaceResult {
  const olds = [...replacements.keys()].filter((old) => old !== '' && replacements.get(old) !== old);
  const refs = findTokenReferences(text, olds);
  const copiesByToken = new Map<string, number>();
  if (refs.length === 0) return { text, copies: 0, copiesByToken };
  const parts: string[] = [];
  let last = 0;
  for (const ref of refs) {
    const old = olds[ref.tokenIndex] as string;
    parts.push(text.slice(last, ref.start), encodeToken(replacements.get(old) as string, ref.encoding));
    last = ref.end;
    copiesByToken.set(old, (copiesByToken.get(old) ?? 0) + 1);
  }
  parts.push(text.slice(last));
  return { text: parts.join(''), copies: refs.length, copiesByToken };
}
