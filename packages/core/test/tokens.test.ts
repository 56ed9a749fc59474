import assert from 'node:assert/strict';
import { createHmac, createSecretKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import crypto = require('node:crypto');
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import jwt from 'jsonwebtoken';
import sinon from 'sinon';
import { ValidationError } from '../src/errors';
import { MemoryStore } from '../src/store/memory';
import type { TokenState } from '../src/store/types';
import { TokenError, type TokenErrorReason } from '../src/tokens/bearer';
import { mintToken } from '../src/tokens/jwt';
import { loadOrCreateKeyRing, rotateSigningKey } from '../src/tokens/key-file';
import { KeyRing, generateSigningKey, type SigningKey } from '../src/tokens/keys';
import { TOKEN_LIMITS, TokenService, type TokenServiceOptions } from '../src/tokens/service';

const START = Date.UTC(2026, 10, 22, 10, 0, 0, 123);

function setup(options: Partial<TokenServiceOptions> = {}) {
  let now = START;
  const clock = () => now;
  const store = new MemoryStore();
  const keys = new KeyRing([generateSigningKey(now)]);
  const service = new TokenService({ store, keys, clock, ...options });
  return {
    store,
    keys,
    clock,
    service,
    advance(ms: number) {
      now += ms;
    },
  };
}

async function refused(promise: Promise<unknown>, reason: TokenErrorReason): Promise<TokenError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TokenError, `expected TokenError ${reason}, got ${String(error)}`);
    assert.equal(error.reason, reason, `expected ${reason}, got ${error.reason}: ${error.message}`);
    return error;
  }
  assert.fail(`expected TokenError ${reason}, but the token was accepted`);
}

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** A hand-made HS256-style token: any header, any payload, any HMAC secret. */
function craft(header: object, payload: unknown, secret: KeyObject | string | Buffer): string {
  const data = `${b64(header)}.${b64(payload)}`;
  return `${data}.${createHmac('sha256', secret).update(data).digest('base64url')}`;
}

function decodePart(token: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index] as string, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

function claims(client: string, nowMs: number, overrides: Record<string, unknown> = {}) {
  const iat = Math.floor(nowMs / 1000);
  return {
    iss: 'profilegate',
    aud: 'profile_api',
    sub: client,
    jti: 'j'.repeat(22),
    iat,
    exp: iat + 3600,
    ...overrides,
  };
}

describe('TokenService', () => {
  describe('generate', () => {
    it('issues an HS256 JWT with a kid header and exactly iss, aud, sub, jti, iat, exp', async () => {
      const { service, keys } = setup();
      const { accessToken, record } = await service.generate('demo', { actor: 'ops' });
      assert.deepEqual(decodePart(accessToken, 0), { alg: 'HS256', typ: 'JWT', kid: keys.active().kid });
      const payload = decodePart(accessToken, 1);
      assert.deepEqual(Object.keys(payload), ['iss', 'aud', 'sub', 'jti', 'iat', 'exp']);
      assert.equal(payload.iss, 'profilegate');
      assert.equal(payload.aud, 'profile_api');
      assert.equal(payload.sub, 'demo');
      assert.equal(payload.jti, record.jti);
      assert.match(record.jti, /^[A-Za-z0-9_-]{22}$/);
      assert.equal(payload.iat, Math.floor(START / 1000));
      assert.equal(payload.exp, Math.floor(START / 1000) + TOKEN_LIMITS.defaultExpiresIn);
      assert.deepEqual(record, {
        jti: record.jti,
        kid: keys.active().kid,
        createdAt: START,
        expiresAt: (payload.exp as number) * 1000,
        createdBy: 'ops',
      });
    });

    it('honours expiresInSeconds at both ends of the allowed range', async () => {
      const { service } = setup();
      for (const seconds of [TOKEN_LIMITS.minExpiresIn, TOKEN_LIMITS.maxExpiresIn]) {
        const { accessToken } = await service.generate('demo', { actor: 'ops', expiresInSeconds: seconds });
        const payload = decodePart(accessToken, 1);
        assert.equal((payload.exp as number) - (payload.iat as number), seconds);
      }
    });

    const badOptions: Array<[string, object, RegExp]> = [
      ['expiresIn 299', { expiresInSeconds: 299 }, /expiresIn .* from 300 to 31536000/],
      ['expiresIn 31536001', { expiresInSeconds: 31_536_001 }, /from 300 to 31536000/],
      ['expiresIn 600.5', { expiresInSeconds: 600.5 }, /whole number/],
      ['expiresIn NaN', { expiresInSeconds: Number.NaN }, /expiresIn/],
      ['expiresIn "600"', { expiresInSeconds: '600' }, /expiresIn/],
      ['grace -1', { previousTokenGraceSeconds: -1 }, /previousTokenGraceSeconds .* from 0 to 86400/],
      ['grace 86401', { previousTokenGraceSeconds: 86_401 }, /from 0 to 86400/],
      ['grace 1.5', { previousTokenGraceSeconds: 1.5 }, /previousTokenGraceSeconds/],
    ];
    for (const [name, options, message] of badOptions) {
      it(`refuses ${name} with a ValidationError naming the range, and changes nothing`, async () => {
        const { service, store } = setup();
        await assert.rejects(service.generate('demo', { actor: 'ops', ...options }), (error: unknown) => {
          assert.ok(error instanceof ValidationError);
          assert.equal(error.status, 400);
          assert.match(error.message, message);
          return true;
        });
        assert.equal((await store.getTokenState('demo')).current, null);
      });
    }

    it('stores only the record: the store never holds a usable token', async () => {
      const { service, store } = setup();
      const { accessToken } = await service.generate('demo', { actor: 'ops', previousTokenGraceSeconds: 0 });
      const dump = JSON.stringify([await store.getTokenState('demo'), await store.listAudit('demo', 100)]);
      for (const part of accessToken.split('.')) assert.ok(!dump.includes(part), 'a token part is in the store');
    });

    it('records token.generated with expiresAt, a jti prefix and graceSeconds, never the token', async () => {
      const { service, store } = setup();
      const { accessToken, record } = await service.generate('demo', { actor: 'ops', previousTokenGraceSeconds: 30 });
      const [event] = await store.listAudit('demo', 10);
      assert.deepEqual(event, {
        at: START,
        actor: 'ops',
        action: 'token.generated',
        details: {
          expiresAt: new Date(record.expiresAt).toISOString(),
          jtiPrefix: record.jti.slice(0, 8),
          graceSeconds: 30,
        },
      });
      assert.ok(!JSON.stringify(event).includes(accessToken.split('.')[2] as string));
    });

    it('leaves exactly one verifying token after 50 parallel generations on one client', async () => {
      const { service } = setup();
      const issued = await Promise.all(Array.from({ length: 50 }, () => service.generate('demo', { actor: 'ops' })));
      const results = await Promise.allSettled(issued.map((t) => service.verify('demo', t.accessToken)));
      const accepted = results.flatMap((r, i) => (r.status === 'fulfilled' ? [issued[i]] : []));
      assert.equal(accepted.length, 1);
      for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as TokenError).reason, 'revoked');
      assert.equal((await service.current('demo'))?.accessToken, accepted[0]?.accessToken);
    });
  });

  describe('current', () => {
    it('re-mints the byte-identical token from the record and the key ring', async () => {
      const { service } = setup();
      const issued = await service.generate('demo', { actor: 'ops', expiresInSeconds: 3600 });
      const shown = await service.current('demo');
      assert.equal(shown?.accessToken, issued.accessToken);
      assert.deepEqual(shown?.record, issued.record);
    });

    it('is null with no token, after revoke, once expired, and when the key is gone', async () => {
      const { service, store, clock, advance } = setup();
      assert.equal(await service.current('demo'), null);
      await service.generate('demo', { actor: 'ops', expiresInSeconds: 300 });
      const other = new TokenService({ store, keys: new KeyRing([generateSigningKey(START)]), clock });
      assert.equal(await other.current('demo'), null, 'unknown kid');
      other.dispose();
      advance(299_000);
      assert.notEqual(await service.current('demo'), null);
      advance(1_000);
      assert.equal(await service.current('demo'), null, 'expired');
      await service.generate('demo', { actor: 'ops' });
      await service.revoke('demo', 'ops');
      assert.equal(await service.current('demo'), null, 'revoked');
    });

    it('a copy of the database alone does not yield a verifying token', async () => {
      const { service, store } = setup();
      await service.generate('demo', { actor: 'ops' });
      const record = (await store.getTokenState('demo')).current;
      assert.ok(record);
      // An attacker with the database knows jti, kid and times, but not the secret.
      const guessedKey: SigningKey = { kid: record.kid, key: createSecretKey(randomBytes(32)), createdAt: 0 };
      await refused(service.verify('demo', mintToken('demo', record, guessedKey)), 'bad_signature');
    });
  });

  describe('verify', () => {
    it('accepts the current token for its client', async () => {
      const { service } = setup();
      const { accessToken, record } = await service.generate('demo', { actor: 'ops' });
      assert.deepEqual(await service.verify('demo', accessToken), {
        client: 'demo',
        jti: record.jti,
        kid: record.kid,
        expiresAt: record.expiresAt,
        graceUntil: null,
      });
    });

    it('regenerate: the old token fails at once, even when it was cached', async () => {
      const { service } = setup();
      const old = await service.generate('demo', { actor: 'ops' });
      await service.verify('demo', old.accessToken);
      await service.verify('demo', old.accessToken);
      const fresh = await service.regenerate('demo', { actor: 'ops' });
      const error = await refused(service.verify('demo', old.accessToken), 'revoked');
      assert.equal(
        error.headers['WWW-Authenticate'],
        'Bearer realm="profile-api", error="invalid_token", error_description="The token has been revoked"',
      );
      await service.verify('demo', fresh.accessToken);
    });

    it('grace: the replaced token works until the grace ends, then fails', async () => {
      const { service, advance } = setup();
      const old = await service.generate('demo', { actor: 'ops' });
      const fresh = await service.generate('demo', { actor: 'ops', previousTokenGraceSeconds: 60 });
      const graced = await service.verify('demo', old.accessToken);
      assert.equal(graced.graceUntil, START + 60_000);
      assert.equal((await service.verify('demo', fresh.accessToken)).graceUntil, null);
      advance(59_999);
      await service.verify('demo', old.accessToken);
      advance(1);
      await refused(service.verify('demo', old.accessToken), 'revoked');
      await service.verify('demo', fresh.accessToken);
    });

    it('grace only covers the token that was replaced, not older ones', async () => {
      const { service } = setup();
      const first = await service.generate('demo', { actor: 'ops' });
      const second = await service.generate('demo', { actor: 'ops' });
      await service.generate('demo', { actor: 'ops', previousTokenGraceSeconds: 600 });
      await refused(service.verify('demo', first.accessToken), 'revoked');
      await service.verify('demo', second.accessToken);
    });

    it('a regeneration without grace ends every older graced token too (issue 14.2)', async () => {
      const { service } = setup();
      const t1 = await service.generate('demo', { actor: 'ops' });
      const t2 = await service.generate('demo', { actor: 'ops', previousTokenGraceSeconds: 3600 });
      await service.verify('demo', t1.accessToken); // graced by the second generation
      const t3 = await service.generate('demo', { actor: 'ops', previousTokenGraceSeconds: 0 });
      await refused(service.verify('demo', t1.accessToken), 'revoked');
      await refused(service.verify('demo', t2.accessToken), 'revoked');
      await service.verify('demo', t3.accessToken);
      assert.deepEqual(await service.replaced('demo'), []);
    });

    it('a regeneration with grace keeps only the token it replaces, and lists it masked', async () => {
      const { service } = setup();
      const t1 = await service.generate('demo', { actor: 'ops' });
      const t2 = await service.generate('demo', { actor: 'ops', previousTokenGraceSeconds: 3600 });
      await service.generate('demo', { actor: 'ops', previousTokenGraceSeconds: 60 });
      await refused(service.verify('demo', t1.accessToken), 'revoked');
      assert.equal((await service.verify('demo', t2.accessToken)).graceUntil, START + 60_000);
      const replaced = await service.replaced('demo');
      assert.equal(replaced.length, 1);
      assert.equal(replaced[0]?.graceUntil, START + 60_000);
      assert.equal(replaced[0]?.jtiPrefix, t2.record.jti.slice(0, 8));
      assert.equal(replaced[0]?.maskedToken, `${t2.accessToken.slice(0, 6)}…${t2.accessToken.slice(-4)}`);
      assert.ok(!JSON.stringify(replaced).includes(t2.accessToken.split('.')[2] as string));
    });

    it('audits a state change made by an actor whose id looks like a token, with the id scrubbed', async () => {
      const { service, store } = setup();
      const actor = 'aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb.cccccccccccccccc';
      const issued = await service.generate('demo', { actor });
      await service.verify('demo', issued.accessToken);
      assert.equal(await service.revoke('demo', actor), true);
      const events = await store.listAudit('demo', 10);
      assert.deepEqual(
        events.map((e) => e.action),
        ['token.revoked', 'token.generated'],
      );
      for (const event of events) {
        assert.ok(!event.actor.includes('bbbbbbbbbbbbbbbb'), `actor stored in clear: ${event.actor}`);
        assert.ok(event.actor.startsWith('aaaaaa'), `actor not recognisable: ${event.actor}`);
      }
    });

    it('accepts on another instance a token issued after its cached state, before any change notice', async () => {
      const { store, keys, clock, service, advance } = setup();
      const deaf: typeof store = Object.create(store, { onChange: { value: () => () => undefined } });
      const other = new TokenService({ store: deaf, keys, clock });
      const t0 = await service.generate('demo', { actor: 'ops' });
      await other.verify('demo', t0.accessToken); // caches the state that holds only t0
      advance(500);
      const t1 = await service.generate('demo', { actor: 'ops' });
      await other.verify('demo', t1.accessToken);
      advance(1000); // past the state cache's lifetime, the bound when no notice arrives
      await refused(other.verify('demo', t0.accessToken), 'revoked');
      other.dispose();
    });

    it("refuses client A's token on client B (wrong_client)", async () => {
      const { service } = setup();
      const a = await service.generate('client-a', { actor: 'ops' });
      await service.generate('client-b', { actor: 'ops' });
      await service.verify('client-a', a.accessToken);
      await refused(service.verify('client-b', a.accessToken), 'wrong_client');
    });

    it('refuses an expired token, on the HMAC path and on the cached path', async () => {
      const ctx = setup();
      const { service, advance } = ctx;
      const { accessToken } = await service.generate('demo', { actor: 'ops', expiresInSeconds: 300 });
      await service.verify('demo', accessToken);
      advance(300_000 - (START % 1000) - 1);
      await service.verify('demo', accessToken);
      advance(1);
      const error = await refused(service.verify('demo', accessToken), 'expired');
      assert.equal(
        error.headers['WWW-Authenticate'],
        'Bearer realm="profile-api", error="invalid_token", error_description="The token has expired"',
      );
      await refused(service.verify('demo', accessToken), 'expired');
      // A second instance never saw the token: jsonwebtoken's own expiry check answers.
      const { store, keys, clock } = ctx;
      const fresh = new TokenService({ store, keys, clock });
      await refused(fresh.verify('demo', accessToken), 'expired');
      fresh.dispose();
    });

    it('refuses every token after revoke, and revoke reports whether there was one', async () => {
      const { service, store } = setup();
      assert.equal(await service.revoke('demo', 'ops'), false);
      const old = await service.generate('demo', { actor: 'ops' });
      const graced = await service.generate('demo', { actor: 'ops', previousTokenGraceSeconds: 600 });
      await service.verify('demo', old.accessToken);
      assert.equal(await service.revoke('demo', 'ops'), true);
      await refused(service.verify('demo', old.accessToken), 'revoked');
      await refused(service.verify('demo', graced.accessToken), 'revoked');
      const actions = (await store.listAudit('demo', 10)).map((e) => [e.action, e.details.hadToken]);
      assert.deepEqual(actions, [
        ['token.revoked', true],
        ['token.generated', undefined],
        ['token.generated', undefined],
        ['token.revoked', false],
      ]);
    });

    it('refuses alg none (unsigned, and none with a signature)', async () => {
      const { service, keys } = setup();
      const { record } = await service.generate('demo', { actor: 'ops' });
      const payload = claims('demo', START, { jti: record.jti });
      const unsigned = `${b64({ alg: 'none', typ: 'JWT', kid: keys.active().kid })}.${b64(payload)}.`;
      await refused(service.verify('demo', unsigned), 'bad_signature');
      const viaLibrary = jwt.sign(payload, null as unknown as string, { algorithm: 'none' });
      await refused(service.verify('demo', viaLibrary), 'bad_signature');
      await refused(
        service.verify('demo', craft({ alg: 'none', kid: keys.active().kid }, payload, keys.active().key)),
        'bad_signature',
      );
      await refused(
        service.verify('demo', craft({ alg: 'NONE', kid: keys.active().kid }, payload, keys.active().key)),
        'bad_signature',
      );
    });

    it('refuses HS256 signed with another key, an unknown kid, or no kid', async () => {
      const { service, keys } = setup();
      const { record } = await service.generate('demo', { actor: 'ops' });
      const payload = claims('demo', START, { jti: record.jti });
      const kid = keys.active().kid;
      await refused(
        service.verify('demo', craft({ alg: 'HS256', typ: 'JWT', kid }, payload, randomBytes(32))),
        'bad_signature',
      );
      await refused(
        service.verify('demo', craft({ alg: 'HS256', kid: 'unknown-kid' }, payload, keys.active().key)),
        'bad_signature',
      );
      await refused(service.verify('demo', craft({ alg: 'HS256' }, payload, keys.active().key)), 'bad_signature');
      await refused(service.verify('demo', craft({ alg: 'HS512', kid }, payload, keys.active().key)), 'bad_signature');
    });

    it('refuses RS256 tokens, and HS256 tokens HMACed with an RSA public key PEM', async () => {
      const { service, keys } = setup();
      const { record } = await service.generate('demo', { actor: 'ops' });
      const payload = claims('demo', START, { jti: record.jti });
      const kid = keys.active().kid;
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const rs256 = jwt.sign(payload, privateKey, { algorithm: 'RS256', keyid: kid });
      await refused(service.verify('demo', rs256), 'bad_signature');
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      await refused(service.verify('demo', craft({ alg: 'HS256', typ: 'JWT', kid }, payload, pem)), 'bad_signature');
      await refused(service.verify('demo', craft({ alg: 'RS256', typ: 'JWT', kid }, payload, pem)), 'bad_signature');
    });

    it('refuses a tampered payload or header', async () => {
      const { service } = setup();
      const { accessToken } = await service.generate('demo', { actor: 'ops' });
      await service.generate('other', { actor: 'ops' });
      await service.verify('demo', accessToken);
      const [header, payload, signature] = accessToken.split('.') as [string, string, string];
      const body = decodePart(accessToken, 1);
      const forged = `${header}.${b64({ ...body, sub: 'other' })}.${signature}`;
      await refused(service.verify('other', forged), 'bad_signature');
      const longer = `${header}.${b64({ ...body, exp: (body.exp as number) + 1_000_000 })}.${signature}`;
      await refused(service.verify('demo', longer), 'bad_signature');
      const flipped = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BA' : 'AA'}`;
      await refused(service.verify('demo', flipped), 'bad_signature');
    });

    const claimCases: Array<[string, Record<string, unknown>, TokenErrorReason]> = [
      ['no exp', { exp: undefined }, 'invalid_claims'],
      ['no jti', { jti: undefined }, 'invalid_claims'],
      ['an empty jti', { jti: '' }, 'invalid_claims'],
      ['no sub', { sub: undefined }, 'invalid_claims'],
      ['nbf in the future', { nbf: Math.floor(START / 1000) + 60 }, 'invalid_claims'],
      ['a string exp', { exp: '9999999999' }, 'invalid_claims'],
      ['another audience', { aud: 'other_api' }, 'invalid_claims'],
      ['another issuer', { iss: 'someone-else' }, 'invalid_claims'],
      ['an exp in the past', { exp: Math.floor(START / 1000) - 1 }, 'expired'],
    ];
    for (const [name, overrides, reason] of claimCases) {
      it(`refuses a token signed with our key but with ${name} (${reason})`, async () => {
        const { service, keys } = setup();
        const { record } = await service.generate('demo', { actor: 'ops' });
        const payload = claims('demo', START, { jti: record.jti, ...overrides });
        await refused(
          service.verify(
            'demo',
            craft({ alg: 'HS256', typ: 'JWT', kid: keys.active().kid }, payload, keys.active().key),
          ),
          reason,
        );
      });
    }

    it('accepts a hand-made token with our key and claims (the crafting helper is sound)', async () => {
      const { service, keys } = setup();
      const { record } = await service.generate('demo', { actor: 'ops' });
      const payload = claims('demo', START, { jti: record.jti });
      await service.verify(
        'demo',
        craft({ alg: 'HS256', typ: 'JWT', kid: keys.active().kid }, payload, keys.active().key),
      );
    });

    it('a valid signature with a jti that is not current is revoked', async () => {
      const { service, keys } = setup();
      await service.generate('demo', { actor: 'ops' });
      const payload = claims('demo', START, { jti: 'not-the-current-jti' });
      await refused(
        service.verify('demo', craft({ alg: 'HS256', kid: keys.active().kid }, payload, keys.active().key)),
        'revoked',
      );
    });

    for (const token of [
      '',
      'abc',
      'a.b',
      'a.b.c',
      '..',
      'e30.e30.',
      `${b64('[1]')}.${b64({})}.x`,
      `${'a'.repeat(5000)}.b.c`,
    ]) {
      it(`refuses malformed input ${JSON.stringify(token.slice(0, 20))} without throwing anything but TokenError`, async () => {
        const { service } = setup();
        await assert.rejects(service.verify('demo', token), (error: unknown) => {
          assert.ok(error instanceof TokenError);
          assert.ok(['malformed', 'bad_signature'].includes(error.reason), error.reason);
          assert.equal(error.status, 401);
          return true;
        });
      });
    }
  });

  describe('caching', () => {
    afterEach(() => sinon.restore());

    it('skips the HMAC for a repeated valid token, never for a forged one', async () => {
      const { service } = setup();
      const { accessToken } = await service.generate('demo', { actor: 'ops' });
      const spy = sinon.spy(crypto, 'createHmac');
      for (let i = 0; i < 5; i++) await service.verify('demo', accessToken);
      assert.equal(spy.callCount, 1);
      const forged = `${accessToken.slice(0, -4)}AAAA`;
      for (let i = 0; i < 3; i++) await refused(service.verify('demo', forged), 'bad_signature');
      assert.equal(spy.callCount, 4);
    });

    it('reads the token state once per stateCacheMs while nothing changes', async () => {
      const { service, store, advance } = setup({ stateCacheMs: 1000 });
      const { accessToken } = await service.generate('demo', { actor: 'ops' });
      const spy = sinon.spy(store, 'getTokenState');
      await Promise.all(Array.from({ length: 20 }, () => service.verify('demo', accessToken)));
      assert.equal(spy.callCount, 1, 'concurrent misses share one read');
      advance(999);
      await service.verify('demo', accessToken);
      assert.equal(spy.callCount, 1);
      advance(1);
      await service.verify('demo', accessToken);
      assert.equal(spy.callCount, 2);
    });

    it('sees a regeneration by another instance sharing the store at once', async () => {
      const { service, store, keys, clock } = setup({ stateCacheMs: 60_000 });
      const other = new TokenService({ store, keys, clock, stateCacheMs: 60_000 });
      const old = await service.generate('demo', { actor: 'ops' });
      await service.verify('demo', old.accessToken);
      await other.verify('demo', old.accessToken);
      const fresh = await other.generate('demo', { actor: 'ops' });
      await refused(service.verify('demo', old.accessToken), 'revoked');
      await service.verify('demo', fresh.accessToken);
      await other.revoke('demo', 'ops');
      await refused(service.verify('demo', fresh.accessToken), 'revoked');
      other.dispose();
    });

    it('never caches a state read that overlapped a regeneration', async () => {
      const { service, store } = setup({ stateCacheMs: 60_000 });
      const old = await service.generate('demo', { actor: 'ops' });
      const staleState = await store.getTokenState('demo');
      let release!: (state: TokenState) => void;
      const slowRead = sinon.stub(store, 'getTokenState');
      slowRead.callThrough();
      slowRead.onFirstCall().returns(new Promise<TokenState>((resolve) => (release = resolve)));
      const inFlight = service.verify('demo', old.accessToken);
      await service.generate('demo', { actor: 'ops' });
      release(staleState);
      await inFlight; // started before the regeneration: may pass
      await refused(service.verify('demo', old.accessToken), 'revoked');
    });

    it('bounds the verified-token cache', async () => {
      const { service } = setup({ verifiedCacheSize: 2 });
      const tokens: string[] = [];
      for (const client of ['a', 'b', 'c']) tokens.push((await service.generate(client, { actor: 'ops' })).accessToken);
      const spy = sinon.spy(crypto, 'createHmac');
      for (const [i, client] of ['a', 'b', 'c'].entries()) await service.verify(client, tokens[i] as string);
      await service.verify('a', tokens[0] as string); // evicted by c: HMAC again
      await service.verify('c', tokens[2] as string); // still cached
      assert.equal(spy.callCount, 4);
    });

    it('evicts the least recently used token, counting hits as uses', async () => {
      const { service } = setup({ verifiedCacheSize: 2 });
      const token: Record<string, string> = {};
      for (const client of ['a', 'b', 'c'])
        token[client] = (await service.generate(client, { actor: 'ops' })).accessToken;
      const spy = sinon.spy(crypto, 'createHmac');
      const verify = async (client: string) => service.verify(client, token[client] as string);
      await verify('a');
      await verify('b');
      await verify('b'); // a hit on the most recent entry
      await verify('b');
      await verify('a'); // a hit: a is now the most recent
      assert.equal(spy.callCount, 2);
      await verify('c'); // evicts b, the least recently used
      await verify('a'); // still cached
      assert.equal(spy.callCount, 3);
      await verify('b'); // evicted: HMAC again, and evicts c
      await verify('a'); // still cached
      assert.equal(spy.callCount, 4);
      await verify('c');
      assert.equal(spy.callCount, 5);
    });

    it('never answers from the verified-token cache for another token with the same signature', async () => {
      // The cache finds a token by its signature; a hit must still be the very same token.
      const { service } = setup();
      const { accessToken } = await service.generate('demo', { actor: 'ops' });
      await service.verify('demo', accessToken); // cached
      const [header, payload, signature] = accessToken.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
      const longer = Buffer.from(JSON.stringify({ ...claims, exp: (claims['exp'] as number) + 86_400 })).toString(
        'base64url',
      );
      await refused(service.verify('demo', `${header}.${longer}.${signature}`), 'bad_signature');
      const otherHeader = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'another-kid' })).toString(
        'base64url',
      );
      await refused(service.verify('demo', `${otherHeader}.${payload}.${signature}`), 'bad_signature');
      assert.equal((await service.verify('demo', accessToken)).client, 'demo');
    });

    it('dispose unsubscribes from store changes', async () => {
      const store = new MemoryStore();
      const unsubscribe = sinon.spy();
      sinon.stub(store, 'onChange').returns(unsubscribe);
      const service = new TokenService({ store, keys: new KeyRing([generateSigningKey(START)]) });
      service.dispose();
      assert.equal(unsubscribe.callCount, 1);
    });

    it('refuses nonsense cache options at construction', () => {
      const store = new MemoryStore();
      const keys = new KeyRing([generateSigningKey(START)]);
      assert.throws(() => new TokenService({ store, keys, stateCacheMs: -1 }), /stateCacheMs/);
      assert.throws(() => new TokenService({ store, keys, verifiedCacheSize: Number.NaN }), /verifiedCacheSize/);
    });
  });
});

describe('signing keys', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'profilegate-keys-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  const clock = () => START;

  it('KeyRing: the newest key is active; empty rings, duplicate kids and weak keys are refused', () => {
    const a = generateSigningKey(1);
    const b = generateSigningKey(2);
    const ring = new KeyRing([b, a]);
    assert.equal(ring.active(), b);
    assert.equal(ring.get(a.kid), a);
    assert.equal(ring.get('nope'), undefined);
    const c = generateSigningKey(2);
    ring.add(c);
    assert.equal(ring.active(), c, 'equal times: the key added last');
    assert.deepEqual(ring.all(), [b, a, c]);
    assert.throws(() => new KeyRing([]), /at least one/);
    assert.throws(() => ring.add(a), /already/);
    assert.throws(() => ring.add({ kid: 'shortkey', key: createSecretKey(randomBytes(16)), createdAt: 3 }), /32 bytes/);
    assert.match(a.kid, /^[A-Za-z0-9_-]{8,}$/);
    assert.equal(a.key.symmetricKeySize, 32);
  });

  it('creates the key file with mode 0600 in a 0700 folder, and reads the same keys back', async function () {
    if (process.platform === 'win32') this.skip();
    const file = path.join(dir, 'nested', 'keys', 'signing-keys.json');
    const ring = await loadOrCreateKeyRing(file, clock);
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    assert.equal((await fs.stat(path.dirname(file))).mode & 0o777, 0o700);
    const again = await loadOrCreateKeyRing(file, clock);
    assert.equal(again.active().kid, ring.active().kid);
    assert.ok(again.active().key.equals(ring.active().key));
    const data = JSON.parse(await fs.readFile(file, 'utf8')) as { keys: Array<Record<string, unknown>> };
    assert.deepEqual(Object.keys(data.keys[0] ?? {}), ['kid', 'secret', 'createdAt']);
    assert.deepEqual(await fs.readdir(path.dirname(file)), ['signing-keys.json'], 'no temp files left');
  });

  it('tightens a key file readable by others to 0600', async function () {
    if (process.platform === 'win32') this.skip();
    const file = path.join(dir, 'keys.json');
    await loadOrCreateKeyRing(file, clock);
    await fs.chmod(file, 0o644);
    await loadOrCreateKeyRing(file, clock);
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
  });

  it('concurrent first starts agree on one key', async () => {
    const file = path.join(dir, 'keys.json');
    const rings = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKeyRing(file, clock)));
    assert.equal(new Set(rings.map((r) => r.active().kid)).size, 1);
  });

  it('rotation: old tokens keep verifying, new tokens get the new kid, the file stays 0600', async () => {
    const file = path.join(dir, 'keys.json');
    const store = new MemoryStore();
    const before = await loadOrCreateKeyRing(file, clock);
    const service = new TokenService({ store, keys: before, clock });
    const old = await service.generate('demo', { actor: 'ops' });
    service.dispose();

    const after = await rotateSigningKey(file, clock);
    assert.equal(after.all().length, 2);
    assert.notEqual(after.active().kid, before.active().kid);
    if (process.platform !== 'win32') assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    assert.equal((await loadOrCreateKeyRing(file, clock)).active().kid, after.active().kid);

    const restarted = new TokenService({ store, keys: after, clock });
    await restarted.verify('demo', old.accessToken);
    assert.equal((await restarted.current('demo'))?.accessToken, old.accessToken);
    const fresh = await restarted.generate('demo', { actor: 'ops', previousTokenGraceSeconds: 60 });
    assert.equal(decodePart(fresh.accessToken, 0).kid, after.active().kid);
    assert.equal(fresh.record.kid, after.active().kid);
    await restarted.verify('demo', fresh.accessToken);
    await restarted.verify('demo', old.accessToken); // graced
    restarted.dispose();
  });

  it('a key added to a running ring signs new tokens while old ones keep verifying', async () => {
    const { service, keys } = setup();
    const old = await service.generate('demo', { actor: 'ops', previousTokenGraceSeconds: 60 });
    keys.add(generateSigningKey(START + 1));
    const fresh = await service.generate('demo', { actor: 'ops', previousTokenGraceSeconds: 60 });
    assert.notEqual(fresh.record.kid, old.record.kid);
    await service.verify('demo', old.accessToken);
    await service.verify('demo', fresh.accessToken);
  });

  const corruptFiles: Array<[string, string]> = [
    ['not JSON', '{"keys":[{"kid":"abcdefgh","secret":"SECRETSECRETSECRETSECRETSECRETSECRETSECRET'],
    ['no keys', '{"keys":[]}'],
    ['a short secret', '{"keys":[{"kid":"abcdefgh","secret":"c2hvcnQ","createdAt":1}]}'],
    ['a bad kid', '{"keys":[{"kid":"x","secret":"SECRETSECRETSECRETSECRETSECRETSECRETSECRET12","createdAt":1}]}'],
    ['no createdAt', '{"keys":[{"kid":"abcdefgh","secret":"SECRETSECRETSECRETSECRETSECRETSECRETSECRET12"}]}'],
    ['null', 'null'],
  ];
  for (const [name, text] of corruptFiles) {
    it(`refuses a corrupt key file (${name}) naming the file, never printing the secret`, async () => {
      const file = path.join(dir, 'keys.json');
      await fs.writeFile(file, text, { mode: 0o600 });
      await assert.rejects(loadOrCreateKeyRing(file, clock), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.ok(error.message.includes(file), error.message);
        assert.ok(!error.message.includes('SECRET'), error.message);
        return true;
      });
      assert.equal(await fs.readFile(file, 'utf8'), text, 'a corrupt file is never overwritten');
    });
  }
});
