import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../token-format';

/** A JWT in compact form: header and payload always start with `eyJ` (base64url of `{"`). */
const JWT_PATTERN = /eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+/g;
const TOKEN_CHAR = /[A-Za-z0-9_-]/;

/** The claims of a JWT read without checking its signature, or null when it is not a JWT. */
export function decodeJwtPayloadUnverified(token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) return null;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'));
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
    return payload as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * True when `text` is a profile token of `client` (iss `profilegate`, aud `profile_api`, sub =
 * client), decoded without checking the signature: enough to recognise older copies in a file.
 */
export function isLikelyTokenOfClient(text: string, client: string): boolean {
  const claims = decodeJwtPayloadUnverified(text);
  if (claims === null) return false;
  const aud = claims.aud;
  const audienceOk = aud === TOKEN_AUDIENCE || (Array.isArray(aud) && aud.includes(TOKEN_AUDIENCE));
  return claims.iss === TOKEN_ISSUER && audienceOk && claims.sub === client;
}

/**
 * Base64url text that every profile token of `client` holds: the start of its payload, which
 * mintToken always writes in the same order (`{"iss":"profilegate","aud":"profile_api","sub":…,
 * "jti":"`), cut to whole 3-byte groups so that it encodes the same wherever the payload goes on.
 * A file without it holds no token of the client: a quick test before looking for JWTs.
 */
export function tokenMarkerOf(client: string): string {
  const start = `{"iss":${JSON.stringify(TOKEN_ISSUER)},"aud":${JSON.stringify(TOKEN_AUDIENCE)},"sub":${JSON.stringify(client)},"jti":"`;
  const bytes = Buffer.from(start, 'utf8');
  return bytes.subarray(0, bytes.length - (bytes.length % 3)).toString('base64url');
}

/** Every distinct profile token of `client` found in `text`, in order of first appearance. */
export function findTokensOfClient(text: string, client: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(JWT_PATTERN)) {
    const start = match.index ?? 0;
    const end = start + match[0].length;
    // A JWT glued to other token characters is part of something else.
    if (start > 0 && TOKEN_CHAR.test(text[start - 1] as string)) continue;
    if (end < text.length && (TOKEN_CHAR.test(text[end] as string) || text[end] === '=')) continue;
    if (isLikelyTokenOfClient(match[0], client)) found.add(match[0]);
  }
  return [...found];
}

/** Expiry (`exp`, ms since the epoch) of a JWT read without checking it, or null. */
export function unverifiedExpiry(token: string): number | null {
  const exp = decodeJwtPayloadUnverified(token)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null;
}
