import { TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER } from '@profilegate/client';
import jwt from 'jsonwebtoken';
import type { TokenRecord } from '../store/types';
import { MAX_TOKEN_LENGTH, TokenError } from './bearer';
import type { KeyRing, SigningKey } from './keys';

/** What a signature-checked profile token says about itself. */
export interface TokenClaims {
  /** The client code (`sub`). */
  client: string;
  jti: string;
  kid: string;
  /** Seconds since the epoch. */
  exp: number;
  /** Seconds since the epoch, when the token has `nbf`. */
  nbf?: number;
  /** Seconds since the epoch, when the token has a numeric `iat`. */
  iat?: number;
}

/**
 * Signs the JWT of a stored token record. Deterministic (HS256 over a fixed header and claim
 * order), so the same record and key always give the same string: that is how `current()` shows
 * the token again without the store ever holding it.
 */
export function mintToken(client: string, record: TokenRecord, key: SigningKey): string {
  // The order of these claims is part of the format: the file updater finds a client's tokens by
  // the start of their payload (tokenMarkerOf). Never reorder them.
  const payload = {
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    sub: client,
    jti: record.jti,
    iat: Math.floor(record.createdAt / 1000),
    exp: Math.floor(record.expiresAt / 1000),
  };
  return jwt.sign(payload, key.key, { algorithm: TOKEN_ALGORITHM, keyid: record.kid });
}

function decodeHeader(token: string): Record<string, unknown> {
  const dot = token.indexOf('.');
  if (dot <= 0) throw new TokenError('malformed');
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
  } catch {
    throw new TokenError('malformed', 'The token header is not base64url JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new TokenError('malformed', 'The token header is not a JSON object');
  }
  return header as Record<string, unknown>;
}

/** Maps a jsonwebtoken failure to our reasons, with a description that never echoes the token. */
function mapVerifyError(error: unknown): TokenError {
  if (error instanceof jwt.TokenExpiredError) return new TokenError('expired');
  if (error instanceof jwt.NotBeforeError) return new TokenError('invalid_claims', 'The token is not valid yet (nbf)');
  const message = error instanceof Error ? error.message : '';
  if (message === 'invalid signature') return new TokenError('bad_signature');
  if (message.startsWith('jwt audience invalid')) {
    return new TokenError('invalid_claims', `The token audience must be ${TOKEN_AUDIENCE}`);
  }
  if (message.startsWith('jwt issuer invalid')) {
    return new TokenError('invalid_claims', `The token issuer must be ${TOKEN_ISSUER}`);
  }
  if (message === 'invalid exp value' || message === 'invalid nbf value') {
    return new TokenError('invalid_claims', 'The token exp or nbf claim is not a number');
  }
  if (message === 'invalid algorithm' || message.startsWith('jwt signature is required')) {
    return new TokenError('bad_signature', `The token must be signed with ${TOKEN_ALGORITHM}`);
  }
  return new TokenError('malformed');
}

/**
 * Checks a token's form, algorithm, key, signature, issuer, audience, exp and nbf at
 * `nowSeconds`, and that it has `exp`, `jti` and `sub`. Throws TokenError. Does not check the
 * client or whether the token is still the current one.
 */
export function verifySignature(token: string, keys: KeyRing, nowSeconds: number): TokenClaims {
  if (typeof token !== 'string' || token.length === 0) throw new TokenError('malformed');
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new TokenError('malformed', `The token is longer than ${MAX_TOKEN_LENGTH} characters`);
  }
  // The algorithm and key are chosen by us, never by the token: read the header only to refuse
  // anything but HS256 (alg none, RS256 signed or HMAC'ed with a public key) and to pick the kid.
  const header = decodeHeader(token);
  if (header.alg !== TOKEN_ALGORITHM) {
    throw new TokenError('bad_signature', `The token must be signed with ${TOKEN_ALGORITHM}`);
  }
  const key = typeof header.kid === 'string' ? keys.get(header.kid) : undefined;
  if (!key) throw new TokenError('bad_signature', 'The token was not signed with a key of this server');

  let payload: unknown;
  try {
    payload = jwt.verify(token, key.key, {
      algorithms: [TOKEN_ALGORITHM],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      clockTimestamp: nowSeconds,
    });
  } catch (error) {
    throw mapVerifyError(error);
  }
  if (typeof payload !== 'object' || payload === null) {
    throw new TokenError('invalid_claims', 'The token payload is not a JSON object');
  }
  const { exp, jti, sub, nbf, iat } = payload as Record<string, unknown>;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new TokenError('invalid_claims', 'The token has no exp');
  if (typeof jti !== 'string' || jti === '') throw new TokenError('invalid_claims', 'The token has no jti');
  if (typeof sub !== 'string' || sub === '') throw new TokenError('invalid_claims', 'The token has no sub');
  const claims: TokenClaims = { client: sub, jti, kid: key.kid, exp };
  if (typeof nbf === 'number') claims.nbf = nbf;
  if (typeof iat === 'number' && Number.isFinite(iat)) claims.iat = iat;
  return claims;
}
