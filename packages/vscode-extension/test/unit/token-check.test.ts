import assert from 'node:assert/strict';
import { checkPastedToken, readClaims } from '../../src/logic/token-check';
import { NOW } from '../fixtures/clock';
import { fakeToken } from '../fixtures/jwt';

function reason(pasted: string, client = 'demo'): string {
  const result = checkPastedToken(pasted, client, NOW);
  assert.equal(result.ok, false, 'expected a refusal');
  return result.ok ? '' : result.reason;
}

describe('checking a pasted token', () => {
  it('accepts a profile token of the client, trimming white space, and reads its expiry', () => {
    const token = fakeToken({ iat: NOW / 1000, exp: NOW / 1000 + 3600 });
    const result = checkPastedToken(`  ${token}\n`, 'demo', NOW);
    assert.ok(result.ok);
    assert.equal(result.token, token);
    assert.equal(result.claims.expiresAt, NOW + 3_600_000);
    assert.equal(result.claims.issuedAt, NOW);
  });

  it('accepts an audience given as an array', () => {
    assert.ok(checkPastedToken(fakeToken({ aud: ['x', 'profile_api'] }, { now: NOW }), 'demo', NOW).ok);
  });

  it('refuses an empty box, "Bearer …" and quotes with what to do', () => {
    assert.equal(reason('  '), 'Paste the profile token');
    assert.match(reason(`Bearer ${fakeToken({}, { now: NOW })}`), /without "Bearer "/);
    assert.match(reason(`"${fakeToken({}, { now: NOW })}"`), /without the quotes/);
  });

  it('refuses garbage and half a token as "not a JWT"', () => {
    assert.match(reason('hello world'), /not a JWT/);
    const token = fakeToken({}, { now: NOW });
    assert.match(reason(token.split('.').slice(0, 2).join('.')), /not a JWT/);
    assert.match(reason('eyJub3Q.anNvbg.c2ln'), /not a JWT: its header or payload is not JSON/);
  });

  it('refuses a JWT of another issuer, audience or algorithm', () => {
    assert.match(reason(fakeToken({ iss: 'someone' }, { now: NOW })), /not a Profilegate profile token/);
    assert.match(reason(fakeToken({ aud: 'api' }, { now: NOW })), /not a Profilegate profile token/);
    assert.match(reason(fakeToken({}, { now: NOW, header: { alg: 'none' } })), /algorithm HS256/);
  });

  it('refuses a token of another client, naming both clients', () => {
    assert.equal(
      reason(fakeToken({ sub: 'other' }, { now: NOW })),
      'This token belongs to client "other", not "demo"; paste the token of client demo, or change profilegate.client',
    );
  });

  it('refuses an expired token with its expiry day, and one without exp', () => {
    assert.match(reason(fakeToken({ exp: NOW / 1000 - 1 }, { now: NOW })), /expired on 2026-11-22; generate a new one/);
    assert.match(reason(fakeToken({ exp: undefined }, { now: NOW })), /no expiry/);
  });

  it('never repeats the token in full in a reason', () => {
    for (const token of [
      fakeToken({ iss: 'x' }, { now: NOW }),
      fakeToken({ sub: 'other' }, { now: NOW }),
      fakeToken({ exp: 1 }, { now: NOW }),
    ]) {
      assert.ok(!reason(token).includes(token));
    }
  });

  it('reads claims of a stored token without failing on garbage', () => {
    assert.deepEqual(readClaims('garbage'), { expiresAt: null, issuedAt: null });
    assert.deepEqual(readClaims(fakeToken({ iat: 10, exp: 20 })), { expiresAt: 20_000, issuedAt: 10_000 });
  });
});
