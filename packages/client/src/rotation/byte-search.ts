/** Byte search for the file scan of updateTokenInFiles (internal: not exported by the package). */

/** Bytes that are everywhere in text: a search that starts from one of them stops all the time. */
const COMMON_BYTES = Buffer.from(' etaoinshrdlcumwfgypbvk.,;:=-_/"\'\n\t(){}<>0123456789', 'latin1');

/** Index of the needle's least common byte: where a search for the needle starts. */
export function anchorOf(needle: Uint8Array): number {
  let anchor = 0;
  let rank = Infinity;
  for (let i = 0; i < needle.length; i++) {
    const r = COMMON_BYTES.indexOf(needle[i]!); // -1, rarest of all, when not listed
    if (r < rank) {
      rank = r;
      anchor = i;
    }
  }
  return anchor;
}

/**
 * True when `bytes` holds `needle`. A short needle is looked for from its least common byte
 * (found with memchr, several times quicker than a search from `e` of `eyJ`); a long one with
 * Buffer.includes, whose skip search is quick already.
 */
export function holds(bytes: Buffer, needle: Buffer): boolean {
  if (needle.length === 0 || needle.length > 8) return bytes.includes(needle);
  const anchor = anchorOf(needle);
  const rare = needle[anchor]!;
  for (let at = bytes.indexOf(rare, anchor); at !== -1; at = bytes.indexOf(rare, at + 1)) {
    const start = at - anchor;
    if (start + needle.length > bytes.length) return false;
    let i = 0;
    while (i < needle.length && bytes[start + i] === needle[i]) i++;
    if (i === needle.length) return true;
  }
  return false;
}
