import { createHmac } from 'node:crypto';
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

/** A JWT segment: base64url without padding (what jsonwebtoken and `mintToken` write). */
const SEGMENT = /^[A-Za-z0-9_-]*$/;
/** HS256 signatures are 32 bytes: 43 base64url characters. */
const SIGNATURE_CHARS = 43;

/**
 * Whether two strings of SIGNATURE_CHARS characters are equal, in a time that does not depend on
 * where they differ (no early exit), so a forger learns nothing from how long a refusal takes.
 */
function sameSignature(expected: string, given: string): boolean {
  let difference = 0;
  for (let i = 0; i < SIGNATURE_CHARS; i++) difference |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return difference === 0;
}

/** Decoded headers by their base64url text: a key's tokens all share one header. */
const headers = new Map<string, { alg: unknown; kid: unknown }>();
const MAX_CACHED_HEADERS = 64;

/** The header read last: most tokens share it, and comparing two strings costs less than a Map lookup. */
let lastHeader = { segment: '', fields: { alg: undefined as unknown, kid: undefined as unknown } };

/**
 * The `alg` and `kid` of the header that is the first `length` characters of `token`, from a
 * small cache (every token of a key has the same header).
 */
function headerOf(token: string, length: number): { alg: unknown; kid: unknown } {
  // A slice compared with ===, not startsWith: in Node 20 startsWith costs about 4× as much.
  const segment = token.slice(0, length);
  if (segment === lastHeader.segment) return lastHeader.fields;
  let fields = headers.get(segment);
  if (fields === undefined) {
    const header = decodeJson(Buffer.from(segment, 'base64url').toString('utf8'), 'header');
    fields = { alg: header.alg, kid: header.kid };
    if (headers.size >= MAX_CACHED_HEADERS) headers.clear();
    headers.set(segment, fields);
  }
  lastHeader = { segment, fields };
  return fields;
}

/** A string for a regular expression that matches `text` itself. */
const literal = (text: string) => text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
/** A JSON string without escapes or control characters: its text between the quotes is its value. */
const PLAIN_STRING = '"([^"\\\\\\u0000-\\u001f]*)"';
/** A non-negative JSON integer of at most 15 digits (exact as a double), without leading zeros. */
const PLAIN_INTEGER = '(0|[1-9][0-9]{0,14})';
/**
 * The payload as mintToken writes it (jsonwebtoken's JSON.stringify of iss, aud, sub, jti, iat
 * and exp, in that order), read without JSON.parse: most of what a verify costs beyond the HMAC.
 * It matches only text whose values JSON.parse would read as the captured text itself (strings
 * without escapes, plain integers); any other payload goes to JSON.parse. A differential property
 * test (tokens-differential.test.ts) holds the two readings to the same claims and verdicts.
 */
const MINTED_PAYLOAD = new RegExp(
  `^\\{"iss":${literal(JSON.stringify(TOKEN_ISSUER))},"aud":${literal(JSON.stringify(TOKEN_AUDIENCE))},` +
    `"sub":${PLAIN_STRING},"jti":${PLAIN_STRING},"iat":${PLAIN_INTEGER},"exp":${PLAIN_INTEGER}\\}$`,
);

/** Where a payload is decoded: it is at most MAX_TOKEN_LENGTH base64url characters. */
const payloadBytes = Buffer.alloc(Math.ceil((MAX_TOKEN_LENGTH * 3) / 4));

/**
 * Whether `segment` holds only base64url characters (SEGMENT), given how many bytes Node's
 * base64url decoder wrote for it: the decoder skips any character outside base64 (and stops at
 * `=`), so fewer bytes come out, except that it reads `+` and `/` as `-` and `_`, and that one
 * skipped character in a length of 4n + 1 leaves the count unchanged (the expression decides
 * then). Cheaper than the expression on a payload: the decoding is needed anyway.
 */
export function isSegment(segment: string, written: number): boolean {
  if (segment.length % 4 === 1) return SEGMENT.test(segment);
  return written === Math.floor((segment.length * 3) / 4) && !segment.includes('+') && !segment.includes('/');
}

/**
 * The checked claims of a payload in mintToken's form (MINTED_PAYLOAD matched), refused as
 * checkedClaims would refuse them: its issuer and audience are ours by the match, it has no nbf,
 * and its exp and iat are plain integers.
 */
function mintedClaims(minted: RegExpExecArray, kid: string, nowSeconds: number): TokenClaims {
  const exp = Number(minted[4]);
  if (nowSeconds >= exp) throw new TokenError('expired');
  const [, sub, jti] = minted as unknown as [string, string, string];
  if (jti === '') throw new TokenError('invalid_claims', 'The token has no jti');
  if (sub === '') throw new TokenError('invalid_claims', 'The token has no sub');
  return { client: sub, jti, kid, exp, iat: Number(minted[3]) };
}

/** A signature that is not base64url is malformed, else a refused one is bad. */
function signatureRefused(signature: string): TokenError {
  return new TokenError(SEGMENT.test(signature) ? 'bad_signature' : 'malformed');
}

/** A header's or payload's JSON text (decoded from base64url) as an object, or a TokenError. */
function decodeJson(text: string, part: 'header' | 'payload'): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw part === 'header'
      ? new TokenError('malformed', 'The token header is not base64url JSON')
      : new TokenError('malformed');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw part === 'header'
      ? new TokenError('malformed', 'The token header is not a JSON object')
      : new TokenError('invalid_claims', 'The token payload is not a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Whether `aud` names our audience (a string, or an array holding it, as jsonwebtoken accepts). */
function audienceMatches(aud: unknown): boolean {
  return aud === TOKEN_AUDIENCE || (Array.isArray(aud) && aud.includes(TOKEN_AUDIENCE));
}

/**
 * Checks a token's form, algorithm, key, signature, issuer, audience, exp and nbf at
 * `nowSeconds`, and that it has `exp`, `jti` and `sub`. Throws TokenError. Does not check the
 * client or whether the token is still the current one.
 *
 * HS256 is checked here directly (an HMAC of `header.payload` with the key's KeyObject and a
 * constant-time compare) rather than through jsonwebtoken, whose general path costs about 4× the
 * HMAC (bench/token-verify.mjs); the claim checks are jsonwebtoken's, and a differential property
 * test (tokens-differential.test.ts) holds the two to the same verdicts.
 */
export function verifySignature(token: string, keys: KeyRing, nowSeconds: number): TokenClaims {
  if (typeof token !== 'string' || token.length === 0) throw new TokenError('malformed');
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new TokenError('malformed', `The token is longer than ${MAX_TOKEN_LENGTH} characters`);
  }
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (first <= 0 || second === -1 || token.indexOf('.', second + 1) !== -1) throw new TokenError('malformed');
  const payloadPart = token.slice(first + 1, second);
  const signaturePart = token.slice(second + 1);
  // The algorithm and key are chosen by us, never by the token: read the header only to refuse
  // anything but HS256 (alg none, RS256 signed or HMAC'ed with a public key) and to pick the kid.
  const header = headerOf(token, first);
  if (header.alg !== TOKEN_ALGORITHM) {
    throw new TokenError('bad_signature', `The token must be signed with ${TOKEN_ALGORITHM}`);
  }
  const key = typeof header.kid === 'string' ? keys.get(header.kid) : undefined;
  if (!key) throw new TokenError('bad_signature', 'The token was not signed with a key of this server');
  if (signaturePart.length === 0) {
    throw new TokenError('bad_signature', `The token must be signed with ${TOKEN_ALGORITHM}`);
  }
  const payloadLength = payloadBytes.write(payloadPart, 'base64url');
  if (!isSegment(payloadPart, payloadLength)) throw new TokenError('malformed');
  // The signature's characters are tested only once it is refused: the comparison below lets
  // through only the canonical text of our HMAC.
  if (signaturePart.length !== SIGNATURE_CHARS) throw signatureRefused(signaturePart);
  // Compared as text with the canonical spelling (the one jsonwebtoken accepts): base64url
  // decoding ignores the last character's two unused low bits, so comparing decoded bytes would
  // let three other spellings of one signature pass. The digest as text also costs less than as
  // a Buffer (bench/token-verify.mjs).
  const expected = createHmac('sha256', key.key).update(token.slice(0, second)).digest('base64url');
  if (!sameSignature(expected, signaturePart)) throw signatureRefused(signaturePart);

  const text = payloadBytes.toString('utf8', 0, payloadLength);
  const minted = MINTED_PAYLOAD.exec(text);
  return minted === null
    ? checkedClaims(decodeJson(text, 'payload'), key.kid, nowSeconds)
    : mintedClaims(minted, key.kid, nowSeconds);
}

/** The claims of a signature-checked payload, checked as jsonwebtoken checks them. Throws TokenError. */
function checkedClaims(payload: Record<string, unknown>, kid: string, nowSeconds: number): TokenClaims {
  const { exp, nbf, iss, aud, jti, sub, iat } = payload;
  if (nbf !== undefined && typeof nbf !== 'number') {
    throw new TokenError('invalid_claims', 'The token exp or nbf claim is not a number');
  }
  if (typeof nbf === 'number' && nbf > nowSeconds) {
    throw new TokenError('invalid_claims', 'The token is not valid yet (nbf)');
  }
  if (exp !== undefined && typeof exp !== 'number') {
    throw new TokenError('invalid_claims', 'The token exp or nbf claim is not a number');
  }
  if (typeof exp === 'number' && nowSeconds >= exp) throw new TokenError('expired');
  if (!audienceMatches(aud)) throw new TokenError('invalid_claims', `The token audience must be ${TOKEN_AUDIENCE}`);
  if (iss !== TOKEN_ISSUER) throw new TokenError('invalid_claims', `The token issuer must be ${TOKEN_ISSUER}`);
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new TokenError('invalid_claims', 'The token has no exp');
  if (typeof jti !== 'string' || jti === '') throw new TokenError('invalid_claims', 'The token has no jti');
  if (typeof sub !== 'string' || sub === '') throw new TokenError('invalid_claims', 'The token has no sub');
  const claims: TokenClaims = { client: sub, jti, kid, exp };
  if (typeof nbf === 'number') claims.nbf = nbf;
  if (typeof iat === 'number' && Number.isFinite(iat)) claims.iat = iat;
  return claims;
}
