/**
 * What an attack on issue 16's changes found (the running demo server and a tracker host, driven
 * as a hurried client would): each case here failed before its fix.
 */
import { strict as assert } from 'node:assert';
import { KeyRing, MemoryStore, generateSigningKey } from '@profilegate/core';
import express from 'express';
import request from 'supertest';
import { profileApi, profileTracker } from '../src';
import { CLIENT, adminAuth, authenticateAdmin, fetchProfile, startApp, valuesOf, type TestApp } from './helpers';

const UPDATE = `/m2/${CLIENT}/profile/update`;

describe('attack on issue 16: single update', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp();
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'thirdPartyId', id: 'w1' }, attributes: { tier: 'silver' } },
      { createMissing: true, now: t.clock() },
    );
  });
  afterEach(async () => t.close());

  const unchanged = async () =>
    assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'w1' })).body), { tier: 'silver' });

  // fetch() with a string body sends text/plain; curl -F sends multipart: neither is read, so
  // answering 200 "Request successfully submitted" would lose the attributes silently.
  for (const [type, body] of [
    ['text/plain;charset=UTF-8', 'profile.a=1'],
    [
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition: form-data; name="profile.a"\r\n\r\n1\r\n--x--\r\n',
    ],
    ['application/json', '{"profile.a":"1"}'],
  ] as const) {
    it(`a POST body sent as ${type.split(';')[0]} is refused with 415, not ignored`, async () => {
      const res = await t.http.post(`${UPDATE}?mbox3rdPartyId=w1`).set('Content-Type', type).send(body);
      assert.equal(res.status, 415, res.text);
      assert.match(res.text, /application\/x-www-form-urlencoded/);
      await unchanged();
    });
  }

  it('a POST without a body (or an empty one) is still fine', async () => {
    assert.equal((await t.http.post(`${UPDATE}?mbox3rdPartyId=w1&profile.a=1`)).status, 200);
    const empty = await t.http
      .post(`${UPDATE}?mbox3rdPartyId=w1&profile.b=2`)
      .set('Content-Type', 'text/plain')
      .send('');
    assert.equal(empty.status, 200, empty.text);
  });

  // Percent-encoding that is not UTF-8 (a lone surrogate, %FF) would be stored as U+FFFD.
  for (const query of [
    'mbox3rdPartyId=w1&profile.bad=%FF%ED%A0%80',
    'mbox3rdPartyId=w1&profile.bad=%ED%A0%80',
    'mbox3rdPartyId=w1&profile.%FF=1',
    'mbox3rdPartyId=w%FF1&profile.a=1',
    'marketingCloudVisitorId=%ED%A0%80&profile.a=1',
  ]) {
    it(`percent-encoding that is not UTF-8 is 400, never stored as U+FFFD: ${query}`, async () => {
      const res = await t.http.get(`${UPDATE}?${query}`).set('Accept', 'application/json');
      assert.equal(res.status, 400, res.text);
      assert.match(res.body.message, /UTF-8/);
      await unchanged();
    });
  }

  it('a form body in another charset is refused, never stored as U+FFFD', async () => {
    const res = await t.http
      .post(`${UPDATE}?mbox3rdPartyId=w1`)
      .set('Content-Type', 'application/x-www-form-urlencoded; charset=ISO-8859-1')
      .send('profile.city=Z%FCrich');
    assert.ok(res.status === 400 || res.status === 415, `${res.status} ${res.text}`);
    await unchanged();
  });

  it('a stray "%" is still data, as URLSearchParams reads it (Segment does not encode values)', async () => {
    const res = await t.http.get(`${UPDATE}?mbox3rdPartyId=w1&profile.promo=50%%20off&profile.raw=%zz`);
    assert.equal(res.status, 200, res.text);
    const values = valuesOf((await fetchProfile(t, { thirdPartyId: 'w1' })).body);
    assert.equal(values['promo'], '50% off');
    assert.equal(values['raw'], '%zz');
  });

  it('batchStatus?batchId= with invalid UTF-8 is 400', async () => {
    const res = await t.http.get(`/m2/${CLIENT}/v2/profile/batchStatus?batchId=%FF`);
    assert.equal(res.status, 400, res.text);
  });

  it('HEAD never updates (it is GET without a body, and must be safe)', async () => {
    const res = await t.http.head(`${UPDATE}?mbox3rdPartyId=w1&profile.viaHead=yes`);
    assert.notEqual(res.status, 200);
    await unchanged();
  });
});

describe('attack on issue 16: failed rows keep their reason, whatever the name', () => {
  let t: TestApp;
  beforeEach(async () => (t = await startApp()));
  afterEach(async () => t.close());

  it('a 128-character CJK name with a value over 5,000 characters: the row is listed with its reason', async () => {
    // 128 different CJK characters (UTF-8 3 bytes each, hardly compressible): 384 bytes of name.
    const name = Array.from({ length: 128 }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 7919) % 20000))).join('');
    const csv = `thirdPartyId,"${name}"\n1,"${'v'.repeat(5001)}"\n`;
    const submitted = await t.http
      .post(`/m2/${CLIENT}/v2/profile/batchUpdate`)
      .set('Content-Type', 'text/csv')
      .set('Accept', 'application/json')
      .send(csv);
    assert.equal(submitted.status, 200, submitted.text);
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 200 && status['status'] !== 'complete'; i++) {
      status = (
        await t.http
          .get(`/m2/${CLIENT}/v2/profile/batchStatus?batchId=${submitted.body.batchId}&showDetails=true`)
          .set('Accept', 'application/json')
      ).body;
    }
    assert.equal(status['failedUpdates'], 1);
    const profiles = status['profiles'] as Array<{ id: string; message: string }>;
    assert.equal(profiles.length, 1, JSON.stringify(status));
    assert.match(profiles[0]!.message, /5001 characters; the limit is 5000/);
  });

  it('a name cut off in a message never splits a character', async () => {
    const res = await t.http.get(
      `${UPDATE}?mbox3rdPartyId=w1&profile.${encodeURIComponent('a' + '🙂'.repeat(41) + '\u0001')}=1`,
    );
    assert.equal(res.status, 400);
    assert.ok(!res.text.includes('\ufffd'), res.text);
  });
});

describe('attack on issue 16: admin scope', () => {
  let t: TestApp;
  beforeEach(async () => (t = await startApp()));
  afterEach(async () => t.close());

  for (const query of [
    'scope=other&scope=profile_api',
    'authorizationScope=other&authorizationScope=profile_api',
    'authorizationScope=profile_api&scope=other&scope=profile_api',
  ]) {
    it(`every scope given must be profile_api: ${query} is 400`, async () => {
      const res = await t.http
        .get(`/${CLIENT}/target/authentication/token?${query}`)
        .set('Authorization', adminAuth('admin'));
      assert.equal(res.status, 400, res.text);
    });
  }
});

describe('attack on issue 16: tracker ECID sources', () => {
  const ECID = '12345678901234567890123456789012345678';
  function host() {
    const store = new MemoryStore();
    const app = express();
    const signingKeys = new KeyRing([generateSigningKey(Date.UTC(2026, 0, 1))]);
    app.use(profileApi({ clients: [CLIENT], store, signingKeys, authenticateAdmin }));
    app.use(profileTracker({ store, client: CLIENT, onError: () => undefined }));
    app.get('/page', (_req, res) => {
      res.send('ok');
    });
    return { store, http: request(app) };
  }
  const ecidOf = async (store: MemoryStore) =>
    (await store.getProfile(CLIENT, { kind: 'marketingCloudVisitorId', id: ECID }))?.marketingCloudVisitorId;

  it('an empty ?mboxMCGVID= does not hide a valid ECID cookie', async () => {
    const { store, http } = host();
    await http.get('/page?mboxMCGVID=').set('Cookie', `mboxMCGVID=${ECID}`);
    assert.equal(await ecidOf(store), ECID);
  });

  it('a quoted cookie value (RFC 6265) is linked without its quotes', async () => {
    const { store, http } = host();
    await http.get('/page').set('Cookie', `mboxMCGVID="${ECID}"`);
    assert.equal(await ecidOf(store), ECID);
  });

  it('an ECID whose percent-encoding is not UTF-8 is not linked (it would collide as U+FFFD)', async () => {
    const { store, http } = host();
    await http.get('/page?mboxMCGVID=%ED%A0%80');
    const garbled = await store.getProfile(CLIENT, { kind: 'marketingCloudVisitorId', id: '\ufffd\ufffd\ufffd' });
    assert.equal(garbled, null);
  });
});
