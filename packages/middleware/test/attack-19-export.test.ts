/**
 * Attack on the export route and the retention setting (issue 19, API.md 5) the day they ship:
 * what an integration built with axios, qs or PHP sends, and what a hurried admin types.
 */
import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeyRing, MemoryStore, generateSigningKey } from '@profilegate/core';
import express from 'express';
import { profileApi } from '../src';
import {
  CLIENT,
  OTHER_CLIENT,
  adminAuth,
  authenticateAdmin,
  closeServer,
  listen,
  seedProfiles,
  startApp,
  type TestApp,
} from './helpers';

const EXPORT = (query: string) => `/${CLIENT}/target/profiles/export${query}`;

describe('attack 19: export parameters that look like format or key', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp({ requireAuth: false });
    await seedProfiles(t.store);
    await seedProfiles(t.store, OTHER_CLIENT);
  });
  afterEach(async () => t.close());

  // As an unknown parameter, `key[]=thirdPartyId` was ignored: 200 with every profile by pcId,
  // while the integration asked for only those with a thirdPartyId, keyed by it.
  for (const query of [
    '?format=csv&key[]=thirdPartyId',
    '?format=csv&key%5B%5D=thirdPartyId',
    '?format=csv&key[0]=thirdPartyId',
    '?format=csv&Key=thirdPartyId',
    '?format=csv&keys=thirdPartyId',
    '?format[]=csv',
    '?format=ndjson&Format=csv',
    '?format[0]=ndjson',
    '?FORMAT=csv',
  ]) {
    it(`answers 400 naming the parameter to "${query}", never a silent default`, async () => {
      const res = await t.http.get(EXPORT(query)).set('Authorization', adminAuth());
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.errors[0].errorCode, 'InvalidRequest');
      assert.match(res.body.errors[0].message, /is not known; give (format|key)=/);
    });
  }

  it('still ignores parameters that are not lookalikes', async () => {
    const res = await t.http.get(EXPORT('?format=csv&keyboard=1&cache=0')).set('Authorization', adminAuth());
    assert.equal(res.status, 200, res.text);
  });
});

describe('attack 19: the export answers a client of Adobe’s Admin API as the other admin routes do', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp({ requireAuth: false });
    await seedProfiles(t.store);
  });
  afterEach(async () => t.close());

  const VND = 'application/vnd.adobe.target.v1+json';

  for (const [what, query, auth, status] of [
    ['a bad format', '?format=xml', adminAuth(), 400],
    ['a refused role', '?format=csv', adminAuth('editor'), 403],
    ['no admin key', '?format=csv', undefined, 401],
  ] as const) {
    it(`labels the error of ${what} ${VND} when Accept prefers it`, async () => {
      const req = t.http.get(EXPORT(query)).set('Accept', VND);
      if (auth) req.set('Authorization', auth);
      const res = await req;
      assert.equal(res.status, status, res.text);
      assert.match(String(res.headers['content-type']), /^application\/vnd\.adobe\.target\.v1\+json/);
    });
  }

  it(`still answers the file in its own type when Accept prefers ${VND}`, async () => {
    const res = await t.http.get(EXPORT('?format=csv')).set('Accept', VND).set('Authorization', adminAuth());
    assert.equal(res.status, 200, res.text);
    assert.match(String(res.headers['content-type']), /^text\/csv/);
  });
});

describe('attack 19: the router closes while an export streams to a client that stopped reading', () => {
  it('close() cuts the export, writes its audit event (complete: false) before the store may close, and never hangs', async function () {
    this.timeout(30_000);
    const store = new MemoryStore();
    await store.putSettings(CLIENT, { requireAuthentication: false });
    const big = 'v'.repeat(4000);
    for (let i = 0; i < 3000; i++) {
      await store.updateProfile(
        CLIENT,
        { key: { kind: 'pcId', id: `pc-${i}` }, attributes: { big } },
        { createMissing: true, now: Date.now() },
      );
    }
    const errors: unknown[] = [];
    const api = profileApi({
      clients: [CLIENT],
      store,
      signingKeys: new KeyRing([generateSigningKey(Date.now())]),
      authenticateAdmin,
      retentionSweep: false,
      onError: (error) => errors.push(error),
    });
    const app = express();
    app.use(api);
    const server = await listen(app);
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      // ~12 MB of NDJSON: the server's writes fill the socket and wait for the client.
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.get(
          `${origin}${EXPORT('?format=ndjson')}`,
          { headers: { Authorization: adminAuth() } },
          (r) => {
            r.once('data', () => {
              r.pause();
              resolve(r);
            });
          },
        );
        req.on('error', reject);
      });
      const cut = new Promise<string>((ended) => {
        res.on('end', () => ended('ended'));
        res.on('error', () => ended('cut'));
        res.on('aborted', () => ended('cut'));
      });
      await api.close();
      const events = (await store.listAudit(CLIENT, 10)).filter((e) => e.action === 'profiles.exported');
      assert.equal(events.length, 1, 'the export is audited by the time close() resolves');
      assert.equal(events[0]!.details['complete'], false);
      res.resume();
      assert.equal(await cut, 'cut', 'the response was cut, never a complete-looking body');
      assert.deepEqual(errors, []);
    } finally {
      server.closeAllConnections();
      await closeServer(server);
    }
  });
});

describe('attack 19: a settings body that gives a field twice', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp({ requireAuth: false });
  });
  afterEach(async () => t.close());

  for (const body of [
    '{"profileRetentionDays":30,"profileRetentionDays":null}',
    '{"profileRetentionDays":null,"profileRetentionDays":3}',
    '{"requireAuthentication":true,"requireAuthentication":false}',
    '{"profileRetentionDays":30,"profile\\u0052etentionDays":1}',
  ]) {
    it(`answers 400 and changes nothing: ${body}`, async () => {
      await t.store.putSettings(CLIENT, { profileRetentionDays: 90, requireAuthentication: true });
      const res = await t.http
        .put(`/${CLIENT}/target/authentication/settings`)
        .set('Authorization', adminAuth())
        .set('Content-Type', 'application/json')
        .send(body);
      assert.equal(res.status, 400, res.text);
      assert.match(res.body.errors[0].message, /is given more than once/);
      const after = await t.store.getSettings(CLIENT);
      assert.equal(after.profileRetentionDays, 90);
      assert.equal(after.requireAuthentication, true);
    });
  }

  for (const body of ['{"profileRetentionDays', '{"a\\', '{"a":"\\"}', '{"a":1,"a']) {
    it(`answers a body that is not JSON with 400, never a hang: ${body}`, async () => {
      const res = await t.http
        .put(`/${CLIENT}/target/authentication/settings`)
        .set('Authorization', adminAuth())
        .set('Content-Type', 'application/json')
        .send(body);
      assert.equal(res.status, 400, res.text);
    });
  }

  it('still takes a value that holds the name inside it', async () => {
    const res = await t.http
      .put(`/${CLIENT}/target/authentication/settings`)
      .set('Authorization', adminAuth())
      .set('Content-Type', 'application/json')
      .send('{"profileRetentionDays":7,"requireAuthentication":true}');
    assert.equal(res.status, 200, res.text);
  });
});
