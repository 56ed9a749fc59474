/**
 * Text from outside (a batch file, a server, a file name) made safe to show a person: every
 * character that could drive a terminal or hide or reorder what is shown is written as an escape.
 * The CLI prints through these; the VS Code extension's notifications need the same for server text.
 */

/**
 * What is escaped: C0 controls (ESC, BEL, CR, LF, TAB, NUL…), DEL, C1 controls (U+0080–U+009F,
 * which some terminals obey as 8-bit CSI or OSC), format characters (bidi overrides and isolates
 * as in Trojan Source, zero-width spaces and joiners, soft hyphen, BOM, tag characters), the line
 * and paragraph separators, and lone surrogates.
 */
// With the u flag a surrogate pair is one character, so \p{Cs} matches lone surrogates only.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

/** The same set less C0 controls, which JSON.stringify already escapes inside strings (a raw LF is layout). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]/gu;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}

function escapeOne(char: string): string {
  const short = SHORT[char];
  if (short !== undefined) return short;
  const code = char.codePointAt(0) as number;
  if (code <= 0xff) return `\\x${hex(code, 2)}`;
  if (code <= 0xffff) return `\\u${hex(code, 4)}`;
  return `\\u{${hex(code, 5)}}`;
}

/**
 * `text` as one line a person can read, with every unsafe character written as an escape
 * (`\x1b`, `\x07`, `\n`, `\x9b`, `\u202e`, `\u{e0041}`). Other text, backslashes included, is
 * left as it is, so the result is for reading, not for parsing back; `displayJson` is exact.
 */
export function displayText(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}

/**
 * `value` as JSON (`JSON.stringify(value, null, indent)`) in which the characters `displayText`
 * escapes are written as `\uXXXX` escapes too: it parses back to the same value, and printing it
 * sends no control, bidi or invisible character to a terminal.
 */
export function displayJson(value: unknown, indent = 2): string {
  // Outside strings JSON is ASCII, so every match is inside a string, where \uXXXX means the same.
  return (JSON.stringify(value, null, indent) ?? 'null').replace(UNSAFE_IN_JSON, (char) => {
    let escaped = '';
    for (let i = 0; i < char.length; i++) escaped += `\\u${hex(char.charCodeAt(i), 4)}`;
    return escaped;
  });
}
