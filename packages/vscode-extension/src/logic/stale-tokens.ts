/**
 * Finds the copies in a text of this client's tokens that no longer work: expired ones, ones
 * replaced by the current token (the server's when it could be read, else the stored one), and,
 * once the server has no token, every one. These become diagnostics with a quick fix that puts the
 * current token in. Pure: offsets, not editor positions.
 */
import { encodeToken, findTokenReferences, findTokensOfClient, maskToken } from '@profilegate/client';
import { isoDay } from './messages';
import { readClaims } from './token-check';

/** Why a copy is flagged. */
export type StaleKind = 'expired' | 'replaced' | 'revoked' | 'newer';

/** One flagged copy. */
export interface StaleToken {
  kind: StaleKind;
  start: number;
  end: number;
  message: string;
  /** The current token written like this copy, for the quick fix; null when there is nothing to put in. */
  replacement: string | null;
}

/** What findStaleTokens compares the copies with. */
export interface StaleOptions {
  client: string;
  /** The current, working token: copies of it are fine, and the quick fix puts it in. */
  currentToken: string | undefined;
  now: number;
  /** The server's token, of unknown value, was issued at this instant (ms): tokens issued before are dead. */
  replacedBefore?: number;
  /** The server has no token: every token of the client is dead. */
  revoked?: boolean;
}

/** Flags the copies of the client's tokens in `text` that are not the current, working token. */
export function findStaleTokens(text: string, options: StaleOptions): StaleToken[] {
  const { client, currentToken, now, replacedBefore, revoked = false } = options;
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
    } else if (revoked) {
      kind = 'revoked';
      message = `Revoked profile token of client ${client} (${masked}): the server has no token now, so requests that send it get 401. Generate a new one.`;
    } else if (current === null && replacedBefore !== undefined) {
      if (claims.issuedAt === null || claims.issuedAt >= replacedBefore) continue;
      kind = 'replaced';
      message = `Replaced profile token of client ${client} (${masked}): it stopped working when a new token was generated on the server. Paste the new one with Profilegate: Update Stored Token….`;
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
