/** The helpers a host app uses: requireProfileToken, adminKeyAuthenticator, profileTracker. */
import { strict as assert } from 'node:assert';
import { KeyRing, MemoryStore, generateSigningKey, type Store } from '@profilegate/core';
import express, { type Request } from 'express';
import request from 'supertest';
import { adminKeyAuthenticator, profileApi, profileTracker, requireProfileToken } from '../src';
import {
  CLIENT,
  SETTINGS_PATH,
  TOKEN_PATH,
  adminAuth,
  authenticateAdmin,
  closeServer,
  listen,
  waitForBatch,
  type TestApp,
} from './helpers';

const fakeReq = (authorization?: string) =>
  ({ headers: authorization === undefined ? {} : { authorization } }) as Request;

describe('requireProfileToken', () => {
  function host() {
    const store = new MemoryStore();
    const signingKeys = new KeyRing([generateSigningKey(Date.now())]);
    const app = express();
    app.use(profileApi({ clients: [CLIENT, 'globex'], store, signingKeys, authenticateAdmin }));
    app.get('/host/data', requireProfileToken({ store, signingKeys, client: CLIENT }), (_req, res) => {
      res.json({ secret: 42 });
    });
    app.get(
      '/host/:client/data',
      requireProfileToken({ store, signingKeys, client: (req) => req.params['client'] as string }),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    return { app, store };
  }

  it('puts a host route behind the same gate: 401/400 refusals in JSON with WWW-Authenticate, a token passes', async () => {
    const { app } = host();
    const missing = await request(app).get('/host/data');
    assert.equal(missing.status, 401);
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="profile-api"');
    assert.equal(missing.body.success, false);
    assert.deepEqual(Object.keys(missing.body), ['success', 'message']);
    const basic = await request(app).get('/host/data').set('Authorization', 'Basic eDp5');
    assert.equal(basic.status, 400);
    assert.match(basic.headers['www-authenticate'], /error="invalid_request"/);
    const garbage = await request(app).get('/host/data').set('Authorization', 'Bearer garbage');
    assert.equal(garbage.status, 401);
    assert.match(garbage.headers['www-authenticate'], /error="invalid_token"/);

    const token = (await request(app).post(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('admin'))).body
      .accessToken;
    const ok = await request(app).get('/host/data').set('Authorization', `Bearer ${token}`);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { secret: 42 });
    // A regeneration revokes it here too, at once.
    await request(app).post(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('admin'));
    const revoked = await request(app).get('/host/data').set('Authorization', `Bearer ${token}`);
    assert.equal(revoked.status, 401);
    assert.match(revoked.headers['www-authenticate'], /The token has been revoked/);
  });

  it('is open while the client has Require Authentication off (the change applies at once)', async () => {
    const { app } = host();
    await request(app)
      .put(SETTINGS_PATH(CLIENT))
      .set('Authorization', adminAuth('admin'))
      .send({ requireAuthentication: false });
    const res = await request(app).get('/host/data').set('Authorization', 'garbage');
    assert.equal(res.status, 200);
  });

  it('takes the client from a function of the request', async () => {
    const { app } = host();
    const token = (await request(app).post(TOKEN_PATH('globex')).set('Authorization', adminAuth('admin'))).body
      .accessToken;
    assert.equal((await request(app).get('/host/globex/data').set('Authorization', `Bearer ${token}`)).status, 200);
    const wrong = await request(app).get(`/host/${CLIENT}/data`).set('Authorization', `Bearer ${token}`);
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers['www-authenticate'], /another client/);
  });

  it('checks its options at creation', () => {
    const store = new MemoryStore();
    const signingKeys = new KeyRing([generateSigningKey(Date.now())]);
    assert.throws(
      () => requireProfileToken({ store, signingKeys: undefined as unknown as KeyRing, client: CLIENT }),
      TypeError,
    );
    assert.throws(() => requireProfileToken({ store: {} as Store, signingKeys, client: CLIENT }), TypeError);
    assert.throws(() => requireProfileToken({ store, signingKeys, client: 'Not Valid' }), TypeError);
  });
});

describe('adminKeyAuthenticator', () => {
  const short = 'k'.repeat(16);
  const long = 'L'.repeat(200);
  const auth = adminKeyAuthenticator([
    { key: short, role: 'observer' },
    { key: long, role: 'admin', actorId: 'ops' },
    { key: 'root-key-0123456789', role: 'sysadmin', actorId: 'root' },
  ]);

  it('returns the actor of a matching key (ids default to admin-key-N)', () => {
    assert.deepEqual(auth(fakeReq(`Bearer ${short}`)), { id: 'admin-key-1', role: 'observer' });
    assert.deepEqual(auth(fakeReq(`Bearer ${long}`)), { id: 'ops', role: 'admin' });
    assert.deepEqual(auth(fakeReq(`bearer root-key-0123456789`)), { id: 'root', sysadmin: true });
  });

  it('returns null for a wrong key of any length, a prefix, an extension, or no Bearer key', () => {
    for (const header of [
      undefined,
      '',
      `Bearer ${short.slice(0, 15)}`,
      `Bearer ${short}k`,
      `Bearer ${long.slice(0, 199)}`,
      `Bearer ${long}L`,
      'Bearer x',
      `Bearer ${'z'.repeat(5000)}`,
      `Basic ${short}`,
      short,
      `Bearer ${short} ${short}`,
    ]) {
      assert.equal(auth(fakeReq(header)), null, String(header).slice(0, 40));
    }
  });

  it('accepts keys with any visible characters (as the demo server allows them)', () => {
    const special = adminKeyAuthenticator([{ key: 's3cret!#$%&*?@^:;s3cret', role: 'admin', actorId: 'ops' }]);
    assert.deepEqual(special(fakeReq('Bearer s3cret!#$%&*?@^:;s3cret')), { id: 'ops', role: 'admin' });
    assert.equal(special(fakeReq('Bearer s3cret!#$%&*?@^:;s3creT')), null);
  });

  it('refuses bad keys at creation', () => {
    assert.throws(() => adminKeyAuthenticator([]), TypeError);
    assert.throws(() => adminKeyAuthenticator([{ key: 'short', role: 'admin' }]), /at least 16 characters/);
    assert.throws(() => adminKeyAuthenticator([{ key: 'x'.repeat(16), role: 'root' as 'admin' }]), /unknown role/);
    assert.throws(() => adminKeyAuthenticator([{ key: 'has space in the key', role: 'admin' }]), /white space/);
  });

  it('works as authenticateAdmin of the router', async () => {
    const app = express();
    app.use(
      profileApi({
        clients: [CLIENT],
        store: new MemoryStore(),
        signingKeys: new KeyRing([generateSigningKey(Date.now())]),
        authenticateAdmin: auth,
      }),
    );
    assert.equal((await request(app).get(SETTINGS_PATH(CLIENT)).set('Authorization', `Bearer ${short}`)).status, 200);
    assert.equal((await request(app).post(TOKEN_PATH(CLIENT)).set('Authorization', `Bearer ${short}`)).status, 403);
    assert.equal((await request(app).post(TOKEN_PATH(CLIENT)).set('Authorization', `Bearer ${long}`)).status, 201);
    assert.equal((await request(app).get(SETTINGS_PATH(CLIENT)).set('Authorization', `Bearer ${long}x`)).status, 401);
  });
});

describe('profileTracker', () => {
  function host(store: Store, options: Partial<Parameters<typeof profileTracker>[0]> = {}) {
    const errors: unknown[] = [];
    const app = express();
    app.use(profileTracker({ store, client: CLIENT, onError: (e) => errors.push(e), ...options }));
    app.get('/page', (_req, res) => {
      res.send('hello');
    });
    return { app, errors };
  }

  it('creates the profile and sets the cookie on the first visit; counts later visits; stores profile.* params', async () => {
    const store = new MemoryStore();
    const { app, errors } = host(store);
    const first = await request(app).get('/page?profile.color=blue&profile.bad%01name=x&other=1');
    assert.equal(first.status, 200);
    assert.equal(first.text, 'hello');
    const cookie = (first.headers['set-cookie'] as unknown as string[])[0]!;
    assert.match(cookie, /^mboxPC=[^;]+; Max-Age=\d+; Path=\/; Expires=.*; HttpOnly; SameSite=Lax$/);
    const pcId = decodeURIComponent(/^mboxPC=([^;]+)/.exec(cookie)![1]!);
    let profile = await store.getProfile(CLIENT, { kind: 'pcId', id: pcId });
    assert.ok(profile);
    assert.equal(profile.attributes['visitCount']?.value, '1');
    assert.equal(profile.attributes['color']?.value, 'blue');
    assert.equal(Object.keys(profile.attributes).length, 2);

    const second = await request(app)
      .get('/page?profile.color=red')
      .set('Cookie', `mboxPC=${encodeURIComponent(pcId)}`);
    assert.equal(second.status, 200);
    assert.equal(second.headers['set-cookie'], undefined);
    profile = await store.getProfile(CLIENT, { kind: 'pcId', id: pcId });
    assert.equal(profile?.attributes['visitCount']?.value, '2');
    assert.equal(profile?.attributes['color']?.value, 'red');
    assert.deepEqual(errors, []);
  });

  it('with identify(), updates (and creates) the thirdPartyId profile', async () => {
    const store = new MemoryStore();
    const { app } = host(store, {
      identify: (req) => req.headers['x-user'] as string | undefined,
      visitCountAttribute: 'visits',
    });
    await request(app).get('/page').set('X-User', 'user-7');
    await request(app).get('/page?profile.plan=pro').set('X-User', 'user-7');
    const profile = await store.getProfile(CLIENT, { kind: 'thirdPartyId', id: 'user-7' });
    assert.ok(profile);
    assert.equal(profile.thirdPartyId, 'user-7');
    assert.equal(profile.attributes['visits']?.value, '2');
    assert.equal(profile.attributes['plan']?.value, 'pro');
  });

  it('a custom cookie name is used', async () => {
    const store = new MemoryStore();
    const { app } = host(store, { cookieName: 'visitor' });
    const res = await request(app).get('/page');
    assert.match((res.headers['set-cookie'] as unknown as string[])[0]!, /^visitor=/);
  });

  for (const [label, broken] of [
    ['rejects', () => Promise.reject(new Error('database is down'))],
    [
      'throws synchronously',
      () => {
        throw new Error('database is gone');
      },
    ],
  ] as const) {
    it(`a store that ${label} never breaks the host request; the error goes to onError`, async () => {
      const store = new MemoryStore();
      (store as unknown as Record<string, unknown>)['getProfile'] = broken;
      (store as unknown as Record<string, unknown>)['updateProfile'] = broken;
      const { app, errors } = host(store);
      const res = await request(app).get('/page?profile.a=b');
      assert.equal(res.status, 200);
      assert.equal(res.text, 'hello');
      assert.equal(errors.length, 1);
    });
  }

  it('an identify() that throws never breaks the host request', async () => {
    const store = new MemoryStore();
    const { app, errors } = host(store, {
      identify: () => {
        throw new Error('session store down');
      },
    });
    const res = await request(app).get('/page');
    assert.equal(res.status, 200);
    assert.equal(errors.length, 1);
  });

  it('a bad thirdPartyId or a huge cookie never breaks the host request', async () => {
    const store = new MemoryStore();
    const { app, errors } = host(store, { identify: () => 'a+b' });
    assert.equal(
      (
        await request(app)
          .get('/page')
          .set('Cookie', `mboxPC=${'x'.repeat(300)}`)
      ).status,
      200,
    );
    assert.equal(errors.length, 1);
    const plain = host(new MemoryStore());
    const res = await request(plain.app).get('/page').set('Cookie', 'mboxPC=%E0%A4%A; other=1');
    assert.equal(res.status, 200);
    assert.ok(res.headers['set-cookie'], 'a new cookie replaces an unreadable one');
  });

  it('checks its options at creation', () => {
    assert.throws(() => profileTracker({ store: new MemoryStore(), client: 'Bad Client' }), TypeError);
    assert.throws(() => profileTracker({ store: {} as Store, client: CLIENT }), TypeError);
  });
});

describe('a host with its own body parsers mounted before profileApi()', () => {
  let t: TestApp;
  before(async () => {
    const store = new MemoryStore();
    const errors: unknown[] = [];
    const app = express();
    app.use(express.json(), express.urlencoded(), express.text({ type: 'text/csv' }));
    app.use(
      profileApi({
        clients: [CLIENT],
        store,
        signingKeys: new KeyRing([generateSigningKey(Date.now())]),
        authenticateAdmin,
        onError: (e) => errors.push(e),
      }),
    );
    await store.putSettings(CLIENT, { requireAuthentication: false });
    await store.updateProfile(
      CLIENT,
      { key: { kind: 'thirdPartyId', id: 'u1' }, attributes: { a: 'b' } },
      { createMissing: true, now: Date.now() },
    );
    const server = await listen(app);
    const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    t = {
      app,
      server,
      store,
      origin,
      http: request(server),
      errors,
      close: () => closeServer(server),
    } as unknown as TestApp;
  });
  after(async () => t.close());

  it('JSON and CSV batches still work (the parsed body is used)', async () => {
    const json = await t.http
      .post(`/m2/${CLIENT}/v2/profile/batchUpdate`)
      .set('Accept', 'application/json')
      .send({ profiles: [{ thirdPartyId: 'h1', attributes: { tier: 'gold' } }] });
    assert.equal(json.status, 200, json.text);
    assert.equal((await waitForBatch(json.body.batchStatus))['status'], 'complete');
    const csv = await t.http
      .post(`/m2/${CLIENT}/v2/profile/batchUpdate`)
      .set('Accept', 'application/json')
      .set('Content-Type', 'text/csv')
      .send('thirdPartyId,tier\nh2,"a, b"\n');
    assert.equal(csv.status, 200, csv.text);
    await waitForBatch(csv.body.batchStatus);
    assert.equal(
      (await t.http.get(`/rest/v1/profiles/thirdPartyId/h2?client=${CLIENT}`)).body.profileAttributes.tier.value,
      'a, b',
    );
  });

  it('a form batch the host already parsed is refused (500), and onError says how to fix the setup', async () => {
    const res = await t.http
      .post(`/m2/${CLIENT}/v2/profile/batchUpdate`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('batch=thirdPartyId,tier\nh3,gold\n');
    assert.equal(res.status, 500);
    assert.match(res.text, /^<response><success>false<\/success><message>Something went wrong/);
    assert.match(String(t.errors.at(-1)), /mount profileApi\(\) before it/);
  });

  it('a single update POST still reads the form the host parsed', async () => {
    const res = await t.http
      .post(`/m2/${CLIENT}/profile/update`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('mbox3rdPartyId=u1&profile.city=Oslo');
    assert.equal(res.status, 200, res.text);
    assert.equal(
      (await t.http.get(`/rest/v1/profiles/thirdPartyId/u1?client=${CLIENT}`)).body.profileAttributes.city.value,
      'Oslo',
    );
    const dup = await t.http
      .post(`/m2/${CLIENT}/profile/update`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('mbox3rdPartyId=u1&profile.city=A&profile.city=B');
    assert.equal(dup.status, 400);
  });
});
