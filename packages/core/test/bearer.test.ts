import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProfilegateError } from '../src/errors';
import {
  MAX_TOKEN_LENGTH,
  TokenError,
  extractBearerToken,
  sanitizeDescription,
  type TokenErrorReason,
} from '../src/tokens/bearer';

function refusal(header: string | undefined): TokenError {
  try {
    extractBearerToken(header);
  } catch (error) {
    assert.ok(error instanceof TokenError, `expected a TokenError, got ${String(error)}`);
    return error;
  }
  assert.fail(`accepted ${JSON.stringify(header)}`);
}

/** RFC 6750 3 / RFC 7235: the challenge our middleware sends, well-formed and quoting safely. */
const CHALLENGE =
  /^Bearer realm="profile-api"(, error="(invalid_request|invalid_token)", error_description="[\x20\x21\x23-\x5b\x5d-\x7e]*")?$/;

describe('extractBearerToken (RFC 6750 2.1)', () => {
  const accepted: Array<[string, string]> = [
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER abc', 'abc'],
    ['BeArEr abc', 'abc'],
    ['Bearer    abc', 'abc'],
    ['Bearer abc==', 'abc=='],
    ['Bearer A-Z.a_z~0+9/', 'A-Z.a_z~0+9/'],
    ['Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.sig-_', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.sig-_'],
  ];
  for (const [header, token] of accepted) {
    it(`accepts ${JSON.stringify(header)}`, () => assert.equal(extractBearerToken(header), token));
  }

  for (const header of [undefined, '']) {
    it(`answers 401 missing without error attributes for ${JSON.stringify(header)}`, () => {
      const error = refusal(header);
      assert.equal(error.reason, 'missing');
      assert.equal(error.status, 401);
      assert.equal(error.headers['WWW-Authenticate'], 'Bearer realm="profile-api"');
    });
  }

  const badRequests = [
    'Basic dXNlcjpwYXNz',
    'Token abc',
    'Bearer',
    'Bearer ',
    'Bearer  ',
    'Bearerabc',
    'Bearer a b',
    'Bearer a,b',
    'Bearer abc, Basic dXNlcjpwYXNz',
    'Bearer a=b',
    'Bearer =abc',
    'Bearer abc ',
    ' Bearer abc',
    'Bearer\tabc',
    'Bearer a"b',
    'Bearer a\\b',
    'Bearer ab\u00e9',
    'Bearer realm="x"',
  ];
  for (const header of badRequests) {
    it(`answers 400 invalid_request for ${JSON.stringify(header)}`, () => {
      const error = refusal(header);
      assert.equal(error.reason, 'invalid_request');
      assert.equal(error.status, 400);
      assert.equal(error.code, 'InvalidRequest');
      const challenge = error.headers['WWW-Authenticate'] ?? '';
      assert.match(challenge, /^Bearer realm="profile-api", error="invalid_request", error_description="[^"\\]+"$/);
      assert.match(challenge, CHALLENGE);
    });
  }

  it('answers each header on its own, whatever header came before (property)', () => {
    // extractBearerToken remembers the last header it read: that must never leak into the next.
    const outcome = (header: string | undefined): string => {
      try {
        return `token ${extractBearerToken(header)}`;
      } catch (error) {
        return `refused ${(error as TokenError).reason}`;
      }
    };
    /** The outcome right after an unrelated header was read: nothing remembered applies. */
    const alone = (header: string | undefined): string => {
      extractBearerToken('Bearer unrelated-header');
      return outcome(header);
    };
    const header = fc.oneof(
      fc.constantFrom(undefined, '', ...accepted.map(([h]) => h), ...badRequests),
      fc.string({ maxLength: 12 }).map((text) => `Bearer ${text}`),
    );
    fc.assert(
      fc.property(fc.array(header, { minLength: 2, maxLength: 12 }), (headers) => {
        const expected = headers.map(alone);
        extractBearerToken('Bearer unrelated-header');
        assert.deepEqual(headers.map(outcome), expected);
      }),
    );
  });

  it('names the wrong scheme and the missing token in the description', () => {
    assert.match(refusal('Basic xyz').message, /Bearer scheme/);
    assert.match(refusal('Bearer').message, /no token/);
  });

  it(`refuses a token over ${MAX_TOKEN_LENGTH} characters as malformed (401), without parsing huge headers`, () => {
    assert.equal(extractBearerToken(`Bearer ${'a'.repeat(MAX_TOKEN_LENGTH)}`).length, MAX_TOKEN_LENGTH);
    for (const header of [`Bearer ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`, `Bearer ${'a'.repeat(10_000_000)}`]) {
      const error = refusal(header);
      assert.equal(error.reason, 'malformed');
      assert.equal(error.status, 401);
    }
  });

  it('never echoes the token and always sends a well-formed challenge (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 80 }),
        fc.constantFrom('Bearer ', 'bearer  ', 'Basic ', ''),
        (text, prefix) => {
          const header = prefix + text;
          let token: string;
          try {
            token = extractBearerToken(header);
          } catch (error) {
            assert.ok(error instanceof TokenError);
            assert.match(error.headers['WWW-Authenticate'] ?? '', CHALLENGE);
            if (text.length >= 4) assert.ok(!error.message.includes(text));
            return;
          }
          assert.match(token, /^[A-Za-z0-9\-._~+/]+=*$/);
          assert.equal(header.replace(/^bearer +/i, ''), token);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('TokenError', () => {
  const table: Array<[TokenErrorReason, number, string]> = [
    ['missing', 401, 'Bearer realm="profile-api"'],
    ['expired', 401, 'Bearer realm="profile-api", error="invalid_token", error_description="The token has expired"'],
    [
      'revoked',
      401,
      'Bearer realm="profile-api", error="invalid_token", error_description="The token has been revoked"',
    ],
  ];
  for (const [reason, status, header] of table) {
    it(`${reason}: ${status} and exactly ${header}`, () => {
      const error = new TokenError(reason);
      assert.equal(error.status, status);
      assert.equal(error.headers['WWW-Authenticate'], header);
    });
  }

  it('keeps the contract wording for expired and revoked even when given another description', () => {
    assert.equal(new TokenError('expired', 'jwt expired at x').message, 'The token has expired');
    assert.equal(new TokenError('revoked', 'replaced').message, 'The token has been revoked');
  });

  for (const reason of ['malformed', 'bad_signature', 'wrong_client', 'invalid_claims'] as const) {
    it(`${reason}: 401 invalid_token with a description, code InvalidToken`, () => {
      const error = new TokenError(reason);
      assert.ok(error instanceof ProfilegateError);
      assert.equal(error.status, 401);
      assert.equal(error.code, 'InvalidToken');
      assert.match(
        error.headers['WWW-Authenticate'] ?? '',
        /^Bearer realm="profile-api", error="invalid_token", error_description="[^"\\]+"$/,
      );
    });
  }

  it('sanitizes quotes, backslashes and control characters out of descriptions', () => {
    const error = new TokenError('invalid_claims', 'bad "aud" \\ value\r\nInjected: header');
    const challenge = error.headers['WWW-Authenticate'] ?? '';
    assert.match(challenge, CHALLENGE);
    assert.ok(!/[\r\n]/.test(challenge));
    assert.equal(sanitizeDescription('a"b\\c\u0000d\u00e9'), "a'b'c d");
    assert.ok(sanitizeDescription('x'.repeat(1000)).length <= 200);
  });
});
