/** Experience Cloud IDs (issue 16.4, API.md 2.4): profileTracker links them. */
import { strict as assert } from 'node:assert';
import { KeyRing, MemoryStore, generateSigningKey, type Store } from '@profilegate/core';
import express from 'express';
import request from 'supertest';
import { profileApi, profileTracker } from '../src';
import { CLIENT, authenticateAdmin, valuesOf } from './helpers';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
const ISO = new Date(NOW).toISOString();
const ECID = '12345678901234567890123456789012345678';
const OTHER_ECID = '98765432109876543210987654321098765432';
const byEcid = (ecid: string) =>
  `/rest/v1/profiles/marketingCloudVisitorId/${encodeURIComponent(ecid)}?client=${CLIENT}`;

/** A host app: the Profile API, then the tracker on the host's own pages. */
function host(options: Partial<Parameters<typeof profileTracker>[0]> = {}, store: Store = new MemoryStore()) {
  const errors: unknown[] = [];
  const app = express();
  const signingKeys = new KeyRing([generateSigningKey(NOW)]);
  app.use(profileApi({ clients: [CLIENT], store, signingKeys, authenticateAdmin, clock: () => NOW }));
  app.use(profileTracker({ store, client: CLIENT, clock: () => NOW, onError: (e) => errors.push(e), ...options }));
  app.get('/page', (_req, res) => {
    res.send('hello');
  });
  return { app, store, errors, http: request(app) };
}

/** The pcId a tracker's answer put in its cookie. */
function pcIdOf(res: request.Response): string {
  const cookie = (res.headers['set-cookie'] as unknown as string[])[0]!;
  return decodeURIComponent(/^mboxPC=([^;]+)/.exec(cookie)![1]!);
}

describe('profileTracker links the visitor to an Experience Cloud ID', () => {
  it('from ?mboxMCGVID=: the profile is then fetched by that ECID, with its attributes', async () => {
    const { http, store, errors } = host();
    await store.putSettings(CLIENT, { requireAuthentication: false });
    const visit = await http.get(`/page?mboxMCGVID=${ECID}&profile.color=blue`);
    assert.equal(visit.status, 200);
    assert.equal(visit.text, 'hello');
    const pcId = pcIdOf(visit);
    const fetched = await http.get(byEcid(ECID));
    assert.equal(fetched.status, 200, fetched.text);
    assert.match(fetched.headers['content-type'], /^application\/json/);
    assert.deepEqual(fetched.body, {
      client: CLIENT,
      visitorId: pcId,
      marketingCloudVisitorId: ECID,
      modifiedAt: ISO,
      profileAttributes: { color: { value: 'blue', modifiedAt: ISO }, visitCount: { value: '1', modifiedAt: ISO } },
    });
    assert.deepEqual(Object.keys(fetched.body), [
      'client',
      'visitorId',
      'marketingCloudVisitorId',
      'modifiedAt',
      'profileAttributes',
    ]);
    // The pcId route shows the link too.
    assert.deepEqual(
      (await http.get(`/rest/v1/profiles/${encodeURIComponent(pcId)}?client=${CLIENT}`)).body,
      fetched.body,
    );
    assert.deepEqual(errors, []);
  });

  it('from the mboxMCGVID cookie too; the query parameter wins over the cookie', async () => {
    const { http, store } = host();
    const first = await http.get('/page').set('Cookie', `mboxMCGVID=${ECID}`);
    const pcId = pcIdOf(first);
    assert.equal((await store.getProfile(CLIENT, { kind: 'marketingCloudVisitorId', id: ECID }))?.pcId, pcId);
    await http
      .get(`/page?mboxMCGVID=${OTHER_ECID}`)
      .set('Cookie', `mboxPC=${encodeURIComponent(pcId)}; mboxMCGVID=${ECID}`);
    const profile = await store.getProfile(CLIENT, { kind: 'pcId', id: pcId });
    assert.equal(profile?.marketingCloudVisitorId, OTHER_ECID);
    assert.equal(profile?.attributes['visitCount']?.value, '2');
  });

  it('moves an ECID seen on another visitor: the latest visit wins', async () => {
    const { http, store } = host();
    await store.putSettings(CLIENT, { requireAuthentication: false });
    const a = pcIdOf(await http.get(`/page?mboxMCGVID=${ECID}`));
    const b = pcIdOf(await http.get(`/page?mboxMCGVID=${ECID}`));
    assert.notEqual(a, b);
    assert.equal((await http.get(byEcid(ECID))).body.visitorId, b);
    const old = await http.get(`/rest/v1/profiles/${encodeURIComponent(a)}?client=${CLIENT}`);
    assert.equal(old.status, 200);
    assert.equal(Object.hasOwn(old.body, 'marketingCloudVisitorId'), false);
    await http.get(`/page?mboxMCGVID=${ECID}`).set('Cookie', `mboxPC=${encodeURIComponent(a)}`);
    assert.equal((await http.get(byEcid(ECID))).body.visitorId, a);
  });

  it('with identify(), links the thirdPartyId profile', async () => {
    const { http, store } = host({ identify: (req) => req.headers['x-user'] as string | undefined });
    await http.get(`/page?mboxMCGVID=${ECID}`).set('X-User', 'user-7');
    const profile = await store.getProfile(CLIENT, { kind: 'marketingCloudVisitorId', id: ECID });
    assert.equal(profile?.thirdPartyId, 'user-7');
  });

  it('reads the names it is given, and nothing from a source turned off with false', async () => {
    const { http, store } = host({ ecidQueryParameter: 'ecid', ecidCookieName: false });
    const pcId = pcIdOf(await http.get(`/page?mboxMCGVID=${ECID}`).set('Cookie', `mboxMCGVID=${ECID}`));
    assert.equal(
      Object.hasOwn((await store.getProfile(CLIENT, { kind: 'pcId', id: pcId }))!, 'marketingCloudVisitorId'),
      false,
    );
    await http.get(`/page?ecid=${OTHER_ECID}`).set('Cookie', `mboxPC=${encodeURIComponent(pcId)}`);
    assert.equal((await store.getProfile(CLIENT, { kind: 'pcId', id: pcId }))?.marketingCloudVisitorId, OTHER_ECID);

    const cookieOnly = host({ ecidQueryParameter: false, ecidCookieName: 'ecid_cookie' });
    const visitor = pcIdOf(
      await cookieOnly.http.get(`/page?mboxMCGVID=${ECID}`).set('Cookie', `ecid_cookie=${OTHER_ECID}`),
    );
    assert.equal(
      (await cookieOnly.store.getProfile(CLIENT, { kind: 'marketingCloudVisitorId', id: OTHER_ECID }))?.pcId,
      visitor,
    );
    assert.equal(await cookieOnly.store.getProfile(CLIENT, { kind: 'marketingCloudVisitorId', id: ECID }), null);
  });

  for (const [label, query] of [
    ['empty', 'mboxMCGVID='],
    ['over 256 characters', `mboxMCGVID=${'7'.repeat(257)}`],
    ['holding NUL', 'mboxMCGVID=12%0034'],
    ['holding a noncharacter', 'mboxMCGVID=12%EF%BF%BF'],
  ] as const) {
    it(`skips an ECID ${label}: nothing linked, no error, the visit still counted`, async () => {
      const { http, store, errors } = host();
      const res = await http.get(`/page?${query}&profile.color=blue`);
      assert.equal(res.status, 200);
      const profile = await store.getProfile(CLIENT, { kind: 'pcId', id: pcIdOf(res) });
      assert.deepEqual(valuesOf({ profileAttributes: profile!.attributes }), { color: 'blue', visitCount: '1' });
      assert.equal(Object.hasOwn(profile!, 'marketingCloudVisitorId'), false);
      assert.deepEqual(errors, []);
    });
  }

  it('a link that fails goes to onError; the host request goes on', async () => {
    const store = new MemoryStore();
    store.linkMarketingCloudVisitorId = () => Promise.reject(new Error('database is down'));
    const { http, errors } = host({}, store);
    const res = await http.get(`/page?mboxMCGVID=${ECID}`);
    assert.equal(res.status, 200);
    assert.equal(res.text, 'hello');
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /database is down/);
  });

  it('checks its ECID options at creation, saying what is wrong', () => {
    const store = new MemoryStore();
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ ecidQueryParameter: '' }, /ecidQueryParameter must be a parameter name or false/],
      [{ ecidQueryParameter: true }, /ecidQueryParameter must be a parameter name or false/],
      [{ ecidQueryParameter: 'profile.ecid' }, /ecidQueryParameter must not start with "profile\."/],
      [{ ecidCookieName: 42 }, /ecidCookieName must be a cookie name or false/],
      [{ ecidCookieName: 'bad name' }, /ecidCookieName must be a cookie name/],
      [{ ecidCookieName: 'mboxPC' }, /ecidCookieName must differ from cookieName/],
      [{ cookieName: 'visitor', ecidCookieName: 'visitor' }, /ecidCookieName must differ from cookieName/],
    ];
    for (const [options, message] of bad) {
      assert.throws(
        () => profileTracker({ store, client: CLIENT, ...options }),
        (e: unknown) => e instanceof TypeError && message.test(e.message),
        JSON.stringify(options),
      );
    }
    profileTracker({ store, client: CLIENT, ecidQueryParameter: false, ecidCookieName: false });
  });
});
