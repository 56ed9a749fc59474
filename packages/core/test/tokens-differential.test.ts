/**
 * verifySignature checks HS256 itself (issue 18: the uncached verify within 2× a bare HMAC); this
 * property holds it to jsonwebtoken's verdicts, the library it replaced on the verify path: over
 * tokens built from a valid one by changing its header, claims, signature or shape, it accepts
 * exactly what jsonwebtoken (with the same key, algorithm, issuer, audience and clock) accepts,
 * with the same claims.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { TokenError } from '../src/tokens/bearer';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '@profilegate/client';
import { isSegment, verifySignature } from '../src/tokens/jwt';
import { KeyRing, generateSigningKey } from '../src/tokens/keys';

const NOW = Date.UTC(2026, 5, 1) / 1000;
const key = generateSigningKey(NOW * 1000);
const other = generateSigningKey(NOW * 1000 + 1);
const ring = new KeyRing([key]);

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const sign = (input: string, secret = key) => createHmac('sha256', secret.key).update(input).digest('base64url');

/** What jsonwebtoken says of the token: its payload, or that it refuses it. */
function oracle(token: string): Record<string, unknown> | 'refused' {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
      alg?: unknown;
      kid?: unknown;
    };
    if (header === null || typeof header !== 'object' || header.alg !== 'HS256' || header.kid !== key.kid)
      return 'refused';
    const payload = jwt.verify(token, key.key, {
      algorithms: ['HS256'],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      clockTimestamp: NOW,
    }) as Record<string, unknown>;
    const { exp, jti, sub } = payload;
    if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'refused';
    if (typeof jti !== 'string' || jti === '' || typeof sub !== 'string' || sub === '') return 'refused';
    return payload;
  } catch {
    return 'refused';
  }
}

const claimValue = fc.oneof(
  fc.constantFrom(undefined, null, '', 'x', 0, -1, 1.5, NOW - 10, NOW, NOW + 10, NOW + 3600, '3600', [], {}, true),
  fc.integer(),
  fc.string({ maxLength: 6 }),
);
const header = fc.record(
  {
    alg: fc.constantFrom('HS256', 'HS256', 'HS256', 'HS256', 'HS256', 'none', 'RS256', 'HS512', 'hs256', undefined),
    kid: fc.constantFrom(key.kid, key.kid, key.kid, key.kid, key.kid, other.kid, 'nope', undefined, 7),
    typ: fc.constantFrom('JWT', undefined, 'x'),
  },
  { requiredKeys: ['alg', 'kid'] },
);
const payload = fc.record(
  {
    iss: fc.oneof({ weight: 5, arbitrary: fc.constant(TOKEN_ISSUER) }, claimValue),
    aud: fc.oneof(
      { weight: 5, arbitrary: fc.constant(TOKEN_AUDIENCE) },
      fc.constant([TOKEN_AUDIENCE, 'other']),
      fc.constant(['other']),
      claimValue,
    ),
    sub: fc.oneof({ weight: 5, arbitrary: fc.constant('demo') }, claimValue),
    jti: fc.oneof({ weight: 5, arbitrary: fc.constant('j1') }, claimValue),
    iat: claimValue,
    exp: fc.oneof(
      { weight: 5, arbitrary: fc.constant(NOW + 3600) },
      fc.constant(NOW),
      fc.constant(NOW - 1),
      claimValue,
    ),
    nbf: claimValue,
  },
  { requiredKeys: ['iss', 'aud', 'sub', 'jti', 'exp'] },
);
const shape = fc.constantFrom(
  'as is',
  'as is',
  'as is',
  'other key',
  'flip signature',
  'no signature',
  'extra part',
  'padded',
  'bad char',
  'short signature',
  'respelt signature 1',
  'respelt signature 2',
  'respelt signature 3',
);

/** Builds one token from a header, a payload and a change of its shape. */
function tokenOf(h: object, p: object, change: string): string {
  const head = b64(h);
  const body = b64(p);
  const input = `${head}.${body}`;
  switch (change) {
    case 'other key':
      return `${input}.${sign(input, other)}`;
    case 'flip signature': {
      const s = sign(input);
      return `${input}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`;
    }
    case 'no signature':
      return `${input}.`;
    case 'extra part':
      return `${input}.${sign(input)}.x`;
    case 'padded':
      return `${input}.${sign(input)}=`;
    case 'bad char':
      return `${head}.${body}+.${sign(input)}`;
    case 'respelt signature 1':
    case 'respelt signature 2':
    case 'respelt signature 3': {
      // The same 32 bytes spelt differently: the last character's two unused low bits set.
      const s = sign(input);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      return `${input}.${s.slice(0, -1)}${alphabet[alphabet.indexOf(s.at(-1)!) ^ Number(change.at(-1))]}`;
    }
    case 'short signature':
      return `${input}.${sign(input).slice(0, 40)}`;
    default:
      return `${input}.${sign(input)}`;
  }
}

/** What verifySignature says of the token: its claims, or that it refuses it (only ever with a TokenError). */
function verdict(token: string): ReturnType<typeof verifySignature> | 'refused' {
  try {
    return verifySignature(token, ring, NOW);
  } catch (error) {
    assert.ok(error instanceof TokenError, `not a TokenError: ${String(error)}`);
    return 'refused';
  }
}

describe('verifySignature against jsonwebtoken (issue 18)', () => {
  it('accepts exactly what jsonwebtoken accepts, with the same claims, and refuses only with a TokenError', () => {
    let accepted = 0;
    fc.assert(
      fc.property(header, payload, shape, (h, p, change) => {
        const token = tokenOf(h, p, change);
        const expected = oracle(token);
        const got = verdict(token);
        if (expected === 'refused') {
          assert.equal(got, 'refused', `accepted what jsonwebtoken refuses: ${JSON.stringify([h, p, change])}`);
          return;
        }
        assert.notEqual(got, 'refused', `refused what jsonwebtoken accepts: ${JSON.stringify([h, p, change])}`);
        accepted++;
        const claims = got as Exclude<typeof got, 'refused'>;
        assert.equal(claims.client, expected['sub']);
        assert.equal(claims.jti, expected['jti']);
        assert.equal(claims.exp, expected['exp']);
        assert.equal(claims.kid, key.kid);
        assert.equal(claims.nbf, typeof expected['nbf'] === 'number' ? expected['nbf'] : undefined);
      }),
      { numRuns: 3000, seed: 1806 },
    );
    assert.ok(accepted > 25, `only ${accepted} tokens were valid: the generator must reach the accepting path`);
  });
});

describe('verifySignature on payloads in the form mintToken writes (issue 18)', () => {
  // The verify path reads a payload laid out as mintToken writes it without JSON.parse; these
  // texts keep that layout and vary what a shortcut could read differently from JSON.parse:
  // escapes, control characters, non-ASCII, leading zeros, signs, fractions, exponents, spaces.
  const text = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('demo', 'j1', 'é', 'a\\"b') },
    fc.constantFrom('demo', '', 'a\\"b', 'a\\\\b', 'a\\u0041', 'é', '\u2028', 'a\u0001b', 'a\tb', '\\n', 'a"b'),
    fc.string({ maxLength: 4 }),
  );
  const number = fc.oneof(
    { weight: 4, arbitrary: fc.constant(String(NOW + 3600)) },
    fc.constantFrom(String(NOW + 3600), String(NOW - 5), String(NOW), '0', '00', '0123', '-1', '1.5', '1e3', ' 1'),
    fc.constantFrom('999999999999999', '1000000000000000', '9007199254740993', `${NOW + 3600}.0`, `0${NOW + 3600}`),
    fc.nat().map(String),
  );
  const layout = fc.record({
    iss: fc.constantFrom(
      `"${TOKEN_ISSUER}"`,
      `"${TOKEN_ISSUER}"`,
      `"${TOKEN_ISSUER}"`,
      '"other"',
      `"${TOKEN_ISSUER} "`,
    ),
    aud: fc.constantFrom(`"${TOKEN_AUDIENCE}"`, `"${TOKEN_AUDIENCE}"`, `["${TOKEN_AUDIENCE}"]`, '"other"'),
    sub: text,
    jti: text,
    iat: number,
    exp: number,
    space: fc.constantFrom('', '', '', ' ', '\n'),
  });

  it('reads exactly what JSON.parse reads, and refuses what jsonwebtoken refuses', () => {
    let accepted = 0;
    fc.assert(
      fc.property(layout, ({ iss, aud, sub, jti, iat, exp, space }) => {
        const body = `{"iss":${iss},"aud":${aud},"sub":"${sub}","jti":"${jti}","iat":${iat},"exp":${exp}}${space}`;
        const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${b64(body)}`;
        const token = `${input}.${sign(input)}`;
        const expected = oracle(token);
        const got = verdict(token);
        if (expected === 'refused') {
          assert.equal(got, 'refused', `accepted what jsonwebtoken refuses: ${body}`);
          return;
        }
        assert.notEqual(got, 'refused', `refused what jsonwebtoken accepts: ${body}`);
        accepted++;
        const claims = got as Exclude<typeof got, 'refused'>;
        assert.deepEqual(
          [claims.client, claims.jti, claims.exp, claims.iat],
          [
            expected['sub'],
            expected['jti'],
            expected['exp'],
            typeof expected['iat'] === 'number' ? expected['iat'] : undefined,
          ],
          body,
        );
      }),
      { numRuns: 3000, seed: 1812 },
    );
    assert.ok(accepted > 300, `only ${accepted} tokens were valid: the generator must reach the accepting path`);
  });
});

describe('isSegment', () => {
  it('says what /^[A-Za-z0-9_-]*$/ says of a segment, from the bytes the decoder wrote', () => {
    const SEGMENT = /^[A-Za-z0-9_-]*$/;
    const char = fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom(...'ABCXYZabcxyz0189-_') },
      fc.constantFrom('+', '/', '=', ' ', '*', '.', '\n', 'é', '\u00ff', '\u0100', '\ud800', '😀', '%', '\0'),
    );
    const bytes = Buffer.alloc(256);
    let invalid = 0;
    fc.assert(
      fc.property(fc.array(char, { maxLength: 40 }), (chars) => {
        const segment = chars.join('');
        if (!SEGMENT.test(segment)) invalid++;
        assert.equal(
          isSegment(segment, bytes.write(segment, 'base64url')),
          SEGMENT.test(segment),
          JSON.stringify(segment),
        );
      }),
      { numRuns: 20000, seed: 1813 },
    );
    assert.ok(invalid > 1000, `only ${invalid} segments were invalid`);
  });
});
