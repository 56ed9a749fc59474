/**
 * Finds the copies in a text of this client's tokens that no longer work: expired ones, and ones
 * replaced by the stored (current) token. These become diagnostics with a quick fix that puts the
 * current token in. Pure: offsets, not editor positions.
 */
import { encodeToken, findTokenReferences, findTokensOfClient, maskToken } from '@profilegate/core/client';
import { isoDay } from './messages';
import { readClaims } from './token-check';

/** Why a copy is flagged. */
export type StaleKind = 'expired' | 'replaced' | 'newer';

/** One flagged copy. */
export interface StaleToken {
  kind: StaleKind;
  start: number;
  end: number;
  message: string;
  /** The current token written like this copy, for the quick fix; null when there is nothing to put in. */
  replacement: string | null;
}

/** Flags the copies of the client's tokens in `text` that are not the current, working token. */
export function findStaleTokens(
  text: string,
  options: { client: string; currentToken: string | undefined; now: number },
): StaleToken[] {
  const { client, currentToken, now } = options;
  const tokens = findTokensOfClient(text, client).filter((token) => token !== currentToken);
  if (tokens.length === 0) return [];
  const current = currentToken === undefined ? null : readClaims(currentToken);
  const currentUsable = current !== null && (current.expiresAt === null || current.expiresAt > now);
  const found: StaleToken[] = [];
  for (const ref of findTokenReferences(text, tokens)) {
    const token = tokens[ref.tokenIndex] as string;
    const claims = readClaims(token);
    const replacement = currentUsable ? encodeToken(currentToken as string, ref.encoding) : null;
    const masked = maskToken(token);
    let kind: StaleKind | null = null;
    let message = '';
    if (claims.expiresAt !== null && claims.expiresAt <= now) {
      kind = 'expired';
      message = `Expired profile token of client ${client} (${masked}, expired on ${isoDay(claims.expiresAt)}): requests that send it get 401.`;
    } else if (current !== null) {
      const newer = claims.issuedAt !== null && current.issuedAt !== null && claims.issuedAt > current.issuedAt;
      kind = newer ? 'newer' : 'replaced';
      message = newer
        ? `Profile token of client ${client} (${masked}) newer than the one stored in VS Code: if it is the current one, run Profilegate: Update Stored Token….`
        : `Replaced profile token of client ${client} (${masked}): it stopped working when a new token was generated.`;
    }
    if (kind === null) continue;
    const fixable = kind !== 'newer' && replacement !== null;
    if (fixable) message += ` Quick fix: put the current token (${maskToken(currentToken as string)}) in.`;
    found.push({ kind, start: ref.start, end: ref.end, message, replacement: fixable ? replacement : null });
  }
  return found;
}
