import assert from 'node:assert/strict';
import {
  isServerToken,
  rotationNotice,
  serverTokenFromInfo,
  serverTokenFromSettings,
  staleReference,
  storedTokenState,
  UNKNOWN_SERVER_TOKEN,
  type ServerToken,
} from '../../src/logic/server-token';
import { NOW } from '../fixtures/clock';
import { fakeToken } from '../fixtures/jwt';
import { tokenInfo } from './command-harness';

const S = NOW / 1000;
const DAY = 86_400;

describe('the server’s token and the stored one', () => {
  // tokenInfo() says: created at NOW, expires 90 days later, by ops.
  const current = fakeToken({ iat: S, exp: S + 90 * DAY });
  const old = fakeToken({ iat: S - 1000, exp: S - 1000 + 90 * DAY });
  const byValue = serverTokenFromInfo(tokenInfo(current));
  const byTimes = serverTokenFromSettings({
    requireAuthentication: true,
    token: { createdAt: new Date(NOW + 123).toISOString(), expiresAt: tokenInfo(current).expiresAt, createdBy: 'ops' },
  });

  it('reads GET token and GET settings (which has no value)', () => {
    assert.deepEqual(byValue, {
      kind: 'token',
      token: current,
      issuedAt: NOW,
      expiresAt: NOW + 90 * DAY * 1000,
      createdBy: 'ops',
    });
    assert.equal(byTimes.kind === 'token' && byTimes.token, null);
    assert.deepEqual(serverTokenFromInfo(null), { kind: 'none' });
    assert.deepEqual(serverTokenFromSettings({ requireAuthentication: true, token: null }), { kind: 'none' });
  });

  it('tells whether the stored token is the server’s: by value, else by its issue and expiry second', () => {
    assert.ok(byValue.kind === 'token' && isServerToken(current, byValue));
    assert.ok(byValue.kind === 'token' && !isServerToken(old, byValue));
    assert.ok(byTimes.kind === 'token' && isServerToken(current, byTimes), 'createdAt has milliseconds, iat not');
    assert.ok(byTimes.kind === 'token' && !isServerToken(old, byTimes));
    assert.ok(byTimes.kind === 'token' && !isServerToken('garbage', byTimes));
  });

  it('says current, replaced, revoked, or unknown (nothing stored, or the server not read)', () => {
    assert.equal(storedTokenState(current, byValue), 'current');
    assert.equal(storedTokenState(old, byValue), 'replaced');
    assert.equal(storedTokenState(old, byTimes), 'replaced');
    assert.equal(storedTokenState(old, { kind: 'none' }), 'revoked');
    assert.equal(storedTokenState(old, UNKNOWN_SERVER_TOKEN), 'unknown');
    assert.equal(storedTokenState(undefined, byValue), 'unknown');
  });

  it('judges copies against the server’s token when read, else the stored one; by issue time when only the times are known', () => {
    assert.deepEqual(staleReference(old, byValue), { currentToken: current });
    assert.deepEqual(staleReference(old, UNKNOWN_SERVER_TOKEN), { currentToken: old });
    assert.deepEqual(staleReference(current, byTimes), { currentToken: current });
    assert.deepEqual(staleReference(old, byTimes), { currentToken: undefined, replacedBefore: NOW });
    assert.deepEqual(staleReference(old, { kind: 'none' }), { currentToken: undefined, revoked: true });
    assert.deepEqual(staleReference(undefined, { kind: 'none' }), { currentToken: undefined });
  });

  describe('the notice of a rotation done elsewhere', () => {
    const where = { client: 'demo', serverUrl: 'http://h:1' };
    const notice = (stored: string | undefined, server: ServerToken) => rotationNotice({ stored, server, ...where });

    it('says who regenerated it and when, with masked tokens, and offers to replace the copies', () => {
      const n = notice(old, byValue);
      assert.equal(n?.fix, 'replace-old-tokens');
      assert.match(
        n?.message ?? '',
        /^The profile token of client demo on http:\/\/h:1 was regenerated on the server on 2026-11-22 by ops: the token stored in VS Code \(eyJ\S*…\S{4}\) and its copies in this workspace no longer work\./,
      );
      assert.ok(!(n?.message ?? '').includes(old) && !(n?.message ?? '').includes(current));
      assert.equal(notice(old, byValue)?.key, n?.key, 'one key per server token: shown once');
    });

    it('asks to paste the new token when its value could not be read; to generate one when revoked', () => {
      assert.equal(notice(old, byTimes)?.fix, 'paste-token');
      assert.match(notice(old, byTimes)?.message ?? '', /may not read the new one: paste it with Update Stored Token…/);
      assert.equal(notice(old, { kind: 'none' })?.fix, 'generate-token');
      assert.match(notice(old, { kind: 'none' })?.message ?? '', /was revoked elsewhere/);
    });

    it('says nothing while the stored token is current, nothing is stored, or the server was not read', () => {
      assert.equal(notice(current, byValue), undefined);
      assert.equal(notice(current, byTimes), undefined);
      assert.equal(notice(undefined, byValue), undefined);
      assert.equal(notice(old, UNKNOWN_SERVER_TOKEN), undefined);
    });
  });
});
