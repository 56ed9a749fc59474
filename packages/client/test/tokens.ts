import { createHmac } from 'node:crypto';

/** A fixed issue time: the scanner never reads it, and no test depends on today's date. */
const ISSUED_AT = 1_700_000_000;

/**
 * A compact HS256 JWT with the claims in the order given (as core's mintToken writes them), made
 * here so that the client's tests need no JWT library, as the client itself does not.
 */
export function signedToken(claims: Record<string, unknown>, secret = 'test-secret-of-32-bytes-at-least!!'): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ ...claims, iat: ISSUED_AT })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** A profile token of `client` (iss, aud, sub, jti), with `overrides` spread over the claims. */
export function profileToken(client: string, jti: string, overrides: Record<string, unknown> = {}): string {
  return signedToken({ iss: 'profilegate', aud: 'profile_api', sub: client, jti, ...overrides });
}
