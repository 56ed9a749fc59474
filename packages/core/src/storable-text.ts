/**
 * The one text rule of every store (issue 15.4): an id, an attribute name or a value may hold any
 * Unicode text except NUL (U+0000: PostgreSQL's text and jsonb refuse it), a UTF-16 surrogate
 * without its pair (not text at all: PostgreSQL would store U+FFFD, SQLite invalid UTF-8) and the
 * 66 noncharacters (U+FDD0–U+FDEF and the last two code points of every plane, U+FFFE, U+FFFF,
 * U+1FFFE … U+10FFFF), which Unicode keeps out of interchange. Validation refuses such text, so
 * memory, SQLite and PostgreSQL store exactly the same things.
 */
const UNSTORABLE = /[\0\p{Cs}\p{Noncharacter_Code_Point}]/u;
const UNSTORABLE_ALL = /[\0\p{Cs}\p{Noncharacter_Code_Point}]/gu;

/** Whether `text` keeps the text rule: the cheap check, for callers whose `textProblem` label costs more than it. */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/**
 * Why `text` breaks the text rule (naming the first character that does and where), or null when
 * it is fine. `what` names the text: `thirdPartyId`, `Value of attribute "tier"`.
 */
export function textProblem(what: string, text: string): string | null {
  const found = UNSTORABLE.exec(text);
  if (found === null) return null;
  const code = found[0].codePointAt(0)!;
  const hex = code.toString(16).toUpperCase().padStart(4, '0');
  const character =
    code === 0 ? 'NUL (U+0000)' : code <= 0xdfff ? `an unpaired surrogate (U+${hex})` : `the noncharacter U+${hex}`;
  return `${what} contains ${character} at character ${found.index + 1}; remove it (ids, attribute names and values may not hold NUL, unpaired surrogates or Unicode noncharacters)`;
}

/**
 * `text` with every character the text rule refuses replaced by U+FFFD, for text that is kept
 * although it came from outside unchecked (an admin's actor id, the id of a failed batch row), so
 * that every store keeps it alike instead of failing the write on PostgreSQL.
 */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE_ALL, '\uFFFD');
}
