/**
 * What the server says its current token is, and how the token stored in VS Code relates to it:
 * still the current one, replaced by a rotation done elsewhere (the CLI, the admin page, a
 * colleague), or revoked. Pure: the server's answers are arguments.
 */
import { maskToken, type AuthenticationSettings, type ProfileTokenInfo } from '@profilegate/client';
import { isoDay } from './messages';
import { readClaims } from './token-check';

/** The server's current token as last read. */
export type ServerToken =
  /** Not known: no admin key, invalid settings, or the server could not be asked. */
  | { kind: 'unknown' }
  /** The server has no token (revoked, or never generated). */
  | { kind: 'none' }
  /**
   * The server's token: its value when the admin key may read it (GET token), else null (GET
   * settings, for a key of a role that may only read the settings).
   */
  | { kind: 'token'; token: string | null; issuedAt: number; expiresAt: number; createdBy: string };

/** The server's token has not been read. */
export const UNKNOWN_SERVER_TOKEN: ServerToken = Object.freeze({ kind: 'unknown' });

/** From GET token's answer (null: no token). */
export function serverTokenFromInfo(info: ProfileTokenInfo | null): ServerToken {
  if (info === null) return { kind: 'none' };
  return {
    kind: 'token',
    token: info.accessToken,
    issuedAt: Date.parse(info.createdAt),
    expiresAt: Date.parse(info.expiresAt),
    createdBy: info.createdBy,
  };
}

/** From GET settings' answer (it tells the token's times, never its value). */
export function serverTokenFromSettings(settings: AuthenticationSettings): ServerToken {
  const token = settings.token;
  if (token === null) return { kind: 'none' };
  return {
    kind: 'token',
    token: null,
    issuedAt: Date.parse(token.createdAt),
    expiresAt: Date.parse(token.expiresAt),
    createdBy: token.createdBy,
  };
}

/**
 * Whether `token` is the server's current token: the same string when the server's value is
 * known, else the same issue and expiry second (the server mints `iat` and `exp` from them).
 */
export function isServerToken(token: string, server: Extract<ServerToken, { kind: 'token' }>): boolean {
  if (server.token !== null) return token === server.token;
  const claims = readClaims(token);
  return (
    claims.issuedAt !== null &&
    claims.expiresAt !== null &&
    claims.issuedAt / 1000 === Math.floor(server.issuedAt / 1000) &&
    claims.expiresAt / 1000 === Math.floor(server.expiresAt / 1000)
  );
}

/** How the stored token relates to the server's. */
export type StoredTokenState = 'current' | 'replaced' | 'revoked' | 'unknown';

/** The stored token's state; 'unknown' when nothing is stored or the server was not read. */
export function storedTokenState(stored: string | undefined, server: ServerToken): StoredTokenState {
  if (stored === undefined || server.kind === 'unknown') return 'unknown';
  if (server.kind === 'none') return 'revoked';
  return isServerToken(stored, server) ? 'current' : 'replaced';
}

/** How the diagnostics judge the copies of the client's tokens (see findStaleTokens). */
export interface StaleReference {
  /** The working token, to compare with and to put in: the server's when read, else the stored one. */
  currentToken: string | undefined;
  /** The server's token was issued at this instant (ms) but its value is unknown: older tokens are dead. */
  replacedBefore?: number;
  /** The server has no token: every token of the client is dead. */
  revoked?: boolean;
}

/** What the diagnostics compare copies with, given the stored token and the server's. */
export function staleReference(stored: string | undefined, server: ServerToken): StaleReference {
  if (server.kind === 'none' && stored !== undefined) return { currentToken: undefined, revoked: true };
  if (server.kind !== 'token') return { currentToken: stored };
  if (server.token !== null) return { currentToken: server.token };
  if (stored !== undefined && isServerToken(stored, server)) return { currentToken: stored };
  return { currentToken: undefined, replacedBefore: Math.floor(server.issuedAt / 1000) * 1000 };
}

/** A warning about a rotation or revocation done elsewhere, shown once per server token. */
export interface RotationNotice {
  /** Identifies the server's token (or its absence): the notice is shown once for it. */
  key: string;
  message: string;
  /** The button that finishes the job: replace the copies, or paste the new token (its value is unknown). */
  fix: 'replace-old-tokens' | 'paste-token' | 'generate-token';
}

/** The notice when the stored token is no longer the server's; undefined when it still is (or nothing is known). */
export function rotationNotice(input: {
  stored: string | undefined;
  server: ServerToken;
  client: string;
  serverUrl: string;
}): RotationNotice | undefined {
  const { stored, server, client, serverUrl } = input;
  const state = storedTokenState(stored, server);
  if (state === 'current' || state === 'unknown' || stored === undefined) return undefined;
  const where = `client ${client} on ${serverUrl}`;
  const masked = maskToken(stored);
  if (server.kind !== 'token') {
    return {
      key: `none:${serverUrl}:${client}`,
      message:
        `The profile token of ${where} was revoked elsewhere: the token stored in VS Code (${masked}) and its copies in this workspace no longer work. ` +
        'Generate a new one to replace them.',
      fix: 'generate-token',
    };
  }
  const when = `on ${isoDay(server.issuedAt)} by ${server.createdBy}`;
  return {
    key: `token:${serverUrl}:${client}:${server.issuedAt}:${server.expiresAt}`,
    message:
      `The profile token of ${where} was regenerated on the server ${when}: the token stored in VS Code (${masked}) and its copies in this workspace no longer work` +
      (server.token !== null
        ? '. Replace Old Tokens stores the new token and puts it in every copy.'
        : ', and this admin key may not read the new one: paste it with Update Stored Token….'),
    fix: server.token !== null ? 'replace-old-tokens' : 'paste-token',
  };
}
