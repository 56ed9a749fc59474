/**
 * Checks a token pasted into Update Stored Token… before it is stored or written anywhere: a JWT
 * (HS256) issued by Profilegate for the profile API of this client, not expired. The signature
 * cannot be checked here (only the server holds the key); the server does that on first use.
 */
import {
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  decodeJwtPayloadUnverified,
  maskToken,
} from '@profilegate/client';
import { isoDay } from './messages';

/** The claims the extension uses. */
export interface TokenClaims {
  sub: string;
  /** Expiry, ms since the epoch. */
  expiresAt: number;
  /** Issue time, ms since the epoch, when the token has one. */
  issuedAt: number | null;
}

/** Outcome of checkPastedToken: the claims, or why the token is refused. */
export type TokenCheck = { ok: true; token: string; claims: TokenClaims } | { ok: false; reason: string };

const BASE64URL_PART = /^[A-Za-z0-9_-]+$/;

function decodeHeader(part: string): Record<string, unknown> | null {
  try {
    const header: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && !Array.isArray(header)
      ? (header as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function short(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** Checks `pasted` (surrounding white space ignored) as a profile token of `client` at `now`. */
export function checkPastedToken(pasted: string, client: string, now: number): TokenCheck {
  const token = pasted.trim();
  if (token === '') return { ok: false, reason: 'Paste the profile token' };
  if (/^bearer\s/i.test(token)) {
    return { ok: false, reason: 'Paste the token alone, without "Bearer " in front of it' };
  }
  if (/^["'].*["']$/.test(token)) return { ok: false, reason: 'Paste the token without the quotes around it' };
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL_PART.test(part))) {
    return {
      ok: false,
      reason:
        'This is not a JWT (three base64url parts separated by dots, starting "eyJ"); copy the whole profile token',
    };
  }
  const header = decodeHeader(parts[0] as string);
  const claims = decodeJwtPayloadUnverified(token);
  if (header === null || claims === null) {
    return { ok: false, reason: 'This is not a JWT: its header or payload is not JSON; copy the whole profile token' };
  }
  const audience = claims.aud;
  const audienceOk = audience === TOKEN_AUDIENCE || (Array.isArray(audience) && audience.includes(TOKEN_AUDIENCE));
  if (header.alg !== TOKEN_ALGORITHM || claims.iss !== TOKEN_ISSUER || !audienceOk) {
    return {
      ok: false,
      reason: `This JWT (${maskToken(token)}) is not a Profilegate profile token: it needs issuer "${TOKEN_ISSUER}", audience "${TOKEN_AUDIENCE}" and algorithm ${TOKEN_ALGORITHM}`,
    };
  }
  if (claims.sub !== client) {
    return {
      ok: false,
      reason: `This token belongs to client "${short(claims.sub)}", not "${client}"; paste the token of client ${client}, or change profilegate.client`,
    };
  }
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) {
    return { ok: false, reason: 'This token has no expiry (exp); Profilegate tokens always have one' };
  }
  const expiresAt = claims.exp * 1000;
  if (expiresAt <= now) {
    return {
      ok: false,
      reason: `This token expired on ${isoDay(expiresAt)}; generate a new one (admin page, CLI, or Profilegate: Generate New Profile Authentication Token)`,
    };
  }
  const issuedAt = typeof claims.iat === 'number' && Number.isFinite(claims.iat) ? claims.iat * 1000 : null;
  return { ok: true, token, claims: { sub: client, expiresAt, issuedAt } };
}

/** The claims of a token already known to be of `client` (stored, or found in a file), or null. */
export function readClaims(token: string): { expiresAt: number | null; issuedAt: number | null } {
  const claims = decodeJwtPayloadUnverified(token);
  const exp = claims?.exp;
  const iat = claims?.iat;
  return {
    expiresAt: typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null,
    issuedAt: typeof iat === 'number' && Number.isFinite(iat) ? iat * 1000 : null,
  };
}
