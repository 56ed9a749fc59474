import { ProfilegateError } from '../errors';

/** Why a profile request's bearer token was refused. */
export type TokenErrorReason =
  | 'missing'
  | 'invalid_request'
  | 'malformed'
  | 'bad_signature'
  | 'expired'
  | 'revoked'
  | 'wrong_client'
  | 'invalid_claims';

/** The realm every `WWW-Authenticate` challenge of the profile API names (API.md 2.0). */
export const BEARER_REALM = 'profile-api';

/**
 * Longest token accepted. Our tokens are about 250 characters; anything far longer cannot be one,
 * so it is refused before any parsing or HMAC work. A longer token is a well-formed RFC 6750
 * request carrying a token we could never have issued, hence `malformed` (401 invalid_token),
 * not `invalid_request`.
 */
export const MAX_TOKEN_LENGTH = 4096;

const DEFAULT_DESCRIPTIONS: Record<TokenErrorReason, string> = {
  missing: 'This client requires authentication: send the header Authorization: Bearer <profile token>',
  invalid_request: 'The Authorization header must be: Bearer <profile token>',
  malformed: 'The token is not a well-formed JWT',
  bad_signature: 'The token signature is not valid for this server',
  expired: 'The token has expired',
  revoked: 'The token has been revoked',
  wrong_client: 'The token was issued for another client',
  invalid_claims: 'The token claims are not valid for the profile API',
};

/** Longest `error_description` sent; it is read by people, so the first sentence is enough. */
const MAX_DESCRIPTION_LENGTH = 200;

/** Makes text safe inside a quoted-string of a `WWW-Authenticate` header (RFC 6750 3: no `"` or `\`). */
export function sanitizeDescription(text: string): string {
  // error_description is limited to %x20-21 / %x23-5B / %x5D-7E: printable ASCII minus " and \.
  const cleaned = text
    .replace(/[^\x20-\x7e]/g, ' ')
    .replace(/["\\]/g, "'")
    .replace(/ {2,}/g, ' ')
    .trim();
  return cleaned.length > MAX_DESCRIPTION_LENGTH ? `${cleaned.slice(0, MAX_DESCRIPTION_LENGTH - 3)}...` : cleaned;
}

function challenge(reason: TokenErrorReason, description: string): string {
  const realm = `Bearer realm="${BEARER_REALM}"`;
  if (reason === 'missing') return realm;
  const error = reason === 'invalid_request' ? 'invalid_request' : 'invalid_token';
  return `${realm}, error="${error}", error_description="${description}"`;
}

function codeOf(reason: TokenErrorReason): string {
  if (reason === 'missing') return 'Unauthorized';
  if (reason === 'invalid_request') return 'InvalidRequest';
  return 'InvalidToken';
}

/**
 * A refused bearer token (RFC 6750): 400 for a bad Authorization header, 401 otherwise, with the
 * matching `WWW-Authenticate` challenge. The message never contains the token.
 */
export class TokenError extends ProfilegateError {
  readonly reason: TokenErrorReason;

  constructor(reason: TokenErrorReason, description?: string) {
    const text = sanitizeDescription(description ?? DEFAULT_DESCRIPTIONS[reason]);
    // The contract fixes these two descriptions word for word; clients match on them.
    const fixed = reason === 'expired' || reason === 'revoked' ? DEFAULT_DESCRIPTIONS[reason] : text;
    super(reason === 'invalid_request' ? 400 : 401, codeOf(reason), fixed, {
      'WWW-Authenticate': challenge(reason, fixed),
    });
    this.reason = reason;
  }
}

// RFC 6750 2.1: credentials = "Bearer" 1*SP b64token; b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
// No character class overlaps its neighbour, so the match is linear (no catastrophic backtracking).
const BEARER_HEADER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const SCHEME = /^(\S*)/;

/** Longest Authorization header parsed at all: the token cap plus room for the scheme and spaces. */
const MAX_HEADER_LENGTH = MAX_TOKEN_LENGTH + 64;

/** Before any header is accepted: a value no argument can equal (null or '' could). */
const NO_HEADER = Symbol('no header accepted yet');
/** The last header read to a token (a pure function of the header, so it never goes stale). */
let lastBearer: { header: string | typeof NO_HEADER; token: string } = { header: NO_HEADER, token: '' };

/**
 * Returns the token of an `Authorization: Bearer <token>` header (RFC 6750 2.1).
 * Throws TokenError `missing` (401) when there is no header, `invalid_request` (400) when it is
 * not exactly one Bearer credential, `malformed` (401) when the token is over MAX_TOKEN_LENGTH.
 */
export function extractBearerToken(authorization: string | undefined): string {
  // A client sends the same header again and again: one comparison instead of the expression.
  if (authorization === lastBearer.header) return lastBearer.token;
  if (authorization === undefined || authorization === '') throw new TokenError('missing');
  if (typeof authorization !== 'string') {
    // Node joins repeated headers for most names, but a host may hand us an array.
    throw new TokenError('invalid_request', 'Send exactly one Authorization header: Bearer <profile token>');
  }
  if (authorization.length > MAX_HEADER_LENGTH) {
    throw new TokenError('malformed', `The token is longer than ${MAX_TOKEN_LENGTH} characters`);
  }
  const match = BEARER_HEADER.exec(authorization);
  if (match) {
    const token = match[1] as string;
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new TokenError('malformed', `The token is longer than ${MAX_TOKEN_LENGTH} characters`);
    }
    lastBearer = { header: authorization, token };
    return token;
  }
  const scheme = (SCHEME.exec(authorization)?.[1] ?? '').toLowerCase();
  if (scheme !== 'bearer') {
    throw new TokenError(
      'invalid_request',
      'The Authorization header must use the Bearer scheme: Bearer <profile token>',
    );
  }
  if (authorization.slice(scheme.length).trim() === '') {
    throw new TokenError('invalid_request', 'The Authorization header has no token after Bearer');
  }
  throw new TokenError(
    'invalid_request',
    'The Authorization header must be Bearer, one space and one token of A-Z a-z 0-9 - . _ ~ + / (then optional =)',
  );
}
