/** Experience Cloud IDs (issue 16.4, API.md 2.3/2.4): the single update and the fetch route name profiles by them. */
import { strict as assert } from 'node:assert';
import { CLIENT, fetchProfile, generateToken, startApp, valuesOf, type TestApp } from './helpers';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
const ISO = new Date(NOW).toISOString();
/** startApp's clock, fixed. */
const FIXED_CLOCK = Object.assign(() => NOW, { advance: () => undefined });
const ECID = '12345678901234567890123456789012345678';
const OTHER_ECID = '98765432109876543210987654321098765432';
const byEcid = (ecid: string) =>
  `/rest/v1/profiles/marketingCloudVisitorId/${encodeURIComponent(ecid)}?client=${CLIENT}`;

describe('single update by marketingCloudVisitorId (API.md 2.3)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp({ clock: FIXED_CLOCK });
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'thirdPartyId', id: 'u1' }, attributes: { tier: 'silver' } },
      { createMissing: true, now: NOW },
    );
    const u1 = (await t.store.getProfile(CLIENT, { kind: 'thirdPartyId', id: 'u1' }))!;
    await t.store.linkMarketingCloudVisitorId(CLIENT, u1.pcId, ECID);
  });
  afterEach(async () => t.close());

  it('GET and POST update the profile the ECID is linked to', async () => {
    const pcId = (await fetchProfile(t, { thirdPartyId: 'u1' })).body.visitorId as string;
    const res = await t.http.get(`/m2/${CLIENT}/profile/update?marketingCloudVisitorId=${ECID}&profile.tier=gold`);
    assert.equal(res.status, 200, res.text);
    assert.equal(
      res.text,
      `<response><success>true</success><pcId>${pcId}</pcId><message>Request successfully submitted</message></response>`,
    );
    const post = await t.http
      .post(`/m2/${CLIENT}/profile/update`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .set('Accept', 'application/json')
      .send(`marketingCloudVisitorId=${ECID}&profile.city=Oslo`);
    assert.deepEqual(post.body, { success: true, pcId, message: 'Request successfully submitted' });
    assert.deepEqual(valuesOf((await t.http.get(byEcid(ECID))).body), { tier: 'gold', city: 'Oslo' });
  });

  it('an unknown ECID is 404 and creates nothing', async () => {
    const res = await t.http
      .get(`/m2/${CLIENT}/profile/update?marketingCloudVisitorId=${OTHER_ECID}&profile.tier=gold`)
      .set('Accept', 'application/json');
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, {
      success: false,
      message: `No profile found for client acme with marketingCloudVisitorId=${OTHER_ECID}`,
    });
    assert.equal((await t.http.get(byEcid(OTHER_ECID))).status, 404);
  });

  for (const [label, query, message] of [
    [
      'with mboxPC',
      `mboxPC=p&marketingCloudVisitorId=${ECID}`,
      'Give either mboxPC or marketingCloudVisitorId, not both',
    ],
    [
      'with mbox3rdPartyId',
      `marketingCloudVisitorId=${ECID}&mbox3rdPartyId=u1`,
      'Give either mbox3rdPartyId or marketingCloudVisitorId, not both',
    ],
    [
      'with both others',
      `mboxPC=p&marketingCloudVisitorId=${ECID}&mbox3rdPartyId=u1`,
      'Give only one of mbox3rdPartyId, mboxPC and marketingCloudVisitorId',
    ],
    ['empty', 'marketingCloudVisitorId=', 'marketingCloudVisitorId is empty'],
    [
      'over 256 characters',
      `marketingCloudVisitorId=${'7'.repeat(257)}`,
      'marketingCloudVisitorId is 257 characters; the limit is 256',
    ],
  ] as const) {
    it(`400 for an ECID key ${label}`, async () => {
      const res = await t.http
        .get(`/m2/${CLIENT}/profile/update?${query}&profile.a=1`)
        .set('Accept', 'application/json');
      assert.equal(res.status, 400, res.text);
      assert.deepEqual(res.body, { success: false, message });
    });
  }

  it('400 for an ECID holding NUL', async () => {
    const res = await t.http.get(`/m2/${CLIENT}/profile/update?marketingCloudVisitorId=1%002&profile.a=1`);
    assert.equal(res.status, 400);
    assert.match(res.text, /marketingCloudVisitorId contains NUL \(U\+0000\) at character 2/);
  });

  it('names all three keys when none is given', async () => {
    const res = await t.http.get(`/m2/${CLIENT}/profile/update?profile.a=1`).set('Accept', 'application/json');
    assert.equal(res.status, 400);
    assert.match(res.body.message, /mbox3rdPartyId=ID or mboxPC=ID \(or marketingCloudVisitorId=ECID\)/);
  });
});

describe('fetch by marketingCloudVisitorId (API.md 2.4)', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp({ clock: FIXED_CLOCK });
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'thirdPartyId', id: 'u1' }, attributes: { tier: 'gold' } },
      { createMissing: true, now: NOW },
    );
    const u1 = (await t.store.getProfile(CLIENT, { kind: 'thirdPartyId', id: 'u1' }))!;
    await t.store.linkMarketingCloudVisitorId(CLIENT, u1.pcId, ECID);
  });
  after(async () => t.close());

  it('200 in the fetch shape, marketingCloudVisitorId after thirdPartyId; the other routes show it too', async () => {
    const res = await t.http.get(byEcid(ECID)).set('Accept', 'application/xml');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.deepEqual(Object.keys(res.body), [
      'client',
      'visitorId',
      'thirdPartyId',
      'marketingCloudVisitorId',
      'modifiedAt',
      'profileAttributes',
    ]);
    assert.equal(res.body.marketingCloudVisitorId, ECID);
    assert.equal(res.body.thirdPartyId, 'u1');
    assert.deepEqual(res.body.profileAttributes, { tier: { value: 'gold', modifiedAt: ISO } });
    assert.deepEqual((await fetchProfile(t, { thirdPartyId: 'u1' })).body, res.body);
    assert.deepEqual((await fetchProfile(t, { pcId: res.body.visitorId })).body, res.body);
  });

  it("404 in Adobe's wording for an unknown ECID; 404 for a missing or unknown client", async () => {
    const res = await t.http.get(byEcid(OTHER_ECID));
    assert.equal(res.status, 404);
    assert.equal(
      res.text,
      `{"status":404,"message":"No profile found for client acme with marketingCloudVisitorId=${OTHER_ECID}"}`,
    );
    for (const query of ['', '?client=', '?client=nobody']) {
      const other = await t.http.get(`/rest/v1/profiles/marketingCloudVisitorId/${ECID}${query}`);
      assert.equal(other.status, 404, query);
      assert.deepEqual(Object.keys(other.body), ['status', 'message']);
    }
  });

  it('400 in JSON for an ECID that breaks the text rule', async () => {
    const res = await t.http.get(`/rest/v1/profiles/marketingCloudVisitorId/1%002?client=${CLIENT}`);
    assert.equal(res.status, 400);
    assert.equal(res.body.success, false);
    assert.match(res.body.message, /^marketingCloudVisitorId contains NUL/);
  });

  it('is behind the gate like the other fetch routes', async () => {
    const gated = await startApp({ requireAuth: true, store: t.store, clock: FIXED_CLOCK });
    try {
      const refused = await gated.http.get(byEcid(ECID));
      assert.equal(refused.status, 401);
      assert.equal(refused.headers['www-authenticate'], 'Bearer realm="profile-api"');
      const token = await generateToken(gated);
      const ok = await gated.http.get(byEcid(ECID)).set('Authorization', `Bearer ${token}`);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.marketingCloudVisitorId, ECID);
    } finally {
      await gated.close();
      await t.store.putSettings(CLIENT, { requireAuthentication: false });
    }
  });
});
