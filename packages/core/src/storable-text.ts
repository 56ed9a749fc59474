/** A NUL, or a UTF-16 surrogate without its pair: text that PostgreSQL (text and jsonb) refuses. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this must find
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * `text` with every character no store can keep (NUL, lone surrogates) replaced by U+FFFD, so that
 * an id that came from outside (an admin's actor id) is stored alike by every store instead of
 * failing the write on PostgreSQL.
 */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE, '\uFFFD');
}
