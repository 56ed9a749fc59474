/** API.md 2.3 (single update) and 2.4 (fetch). */
import { strict as assert } from 'node:assert';
import { CLIENT, fetchProfile, startApp, valuesOf, type TestApp } from './helpers';

const UPDATE = `/m2/${CLIENT}/profile/update`;
const FORM = 'application/x-www-form-urlencoded';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function refusal(text: string): string {
  const match = /^<response><success>false<\/success><message>([^<]*)<\/message><\/response>$/.exec(text);
  assert.ok(match, `not a refusal: ${text}`);
  return match[1]!.replaceAll('&quot;', '"').replaceAll('&amp;', '&');
}

describe('single update (API.md 2.3)', () => {
  let t: TestApp;
  let pcOfU1: string;
  beforeEach(async () => {
    t = await startApp();
    const created = await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'thirdPartyId', id: 'u1' }, attributes: { tier: 'silver' } },
      { createMissing: true, now: Date.now() },
    );
    assert.equal(created.status, 'updated');
    pcOfU1 = (created as { profile: { pcId: string } }).profile.pcId;
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'pcId', id: 'pc-1' }, attributes: { tier: 'bronze' } },
      { createMissing: true, now: Date.now() },
    );
  });
  afterEach(async () => t.close());

  it("GET with mbox3rdPartyId updates the profile and answers Adobe's XML", async () => {
    const res = await t.http.get(`${UPDATE}?mbox3rdPartyId=u1&profile.tier=gold&profile.city=S%C3%A3o+Paulo`);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^application\/xml/);
    assert.equal(
      res.text,
      `<response><success>true</success><pcId>${pcOfU1}</pcId><message>Request successfully submitted</message></response>`,
    );
    assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'u1' })).body), {
      tier: 'gold',
      city: 'São Paulo',
    });
  });

  it('GET with mboxPC updates the profile; JSON with Accept: application/json', async () => {
    const res = await t.http.get(`${UPDATE}?mboxPC=pc-1&profile.tier=gold`).set('Accept', 'application/json');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { success: true, pcId: 'pc-1', message: 'Request successfully submitted' });
    assert.deepEqual(Object.keys(res.body), ['success', 'pcId', 'message']);
    assert.deepEqual(valuesOf((await fetchProfile(t, { pcId: 'pc-1' })).body), { tier: 'gold' });
  });

  it('POST with a form body (and with parameters split between query and body)', async () => {
    const res = await t.http.post(UPDATE).set('Content-Type', FORM).send('mbox3rdPartyId=u1&profile.city=Oslo');
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /<success>true<\/success>/);
    const split = await t.http.post(`${UPDATE}?mboxPC=pc-1`).set('Content-Type', FORM).send('profile.city=Rome');
    assert.equal(split.status, 200, split.text);
    assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'u1' })).body), { tier: 'silver', city: 'Oslo' });
    assert.deepEqual(valuesOf((await fetchProfile(t, { pcId: 'pc-1' })).body), { tier: 'bronze', city: 'Rome' });
  });

  it('POST with the form charset and a JSON Accept', async () => {
    const res = await t.http
      .post(UPDATE)
      .set('Content-Type', `${FORM}; charset=UTF-8`)
      .set('Accept', 'application/json')
      .send('mboxPC=pc-1&profile.note=%C3%A9t%C3%A9');
    assert.equal(res.status, 200);
    assert.equal(res.body.pcId, 'pc-1');
    assert.deepEqual(valuesOf((await fetchProfile(t, { pcId: 'pc-1' })).body), { tier: 'bronze', note: 'été' });
  });

  it('an unknown profile is 404 and is never created', async () => {
    for (const query of ['mbox3rdPartyId=nobody', 'mboxPC=no-pc']) {
      const res = await t.http.get(`${UPDATE}?${query}&profile.tier=gold`);
      assert.equal(res.status, 404);
      assert.equal(
        refusal(res.text),
        query.startsWith('mboxPC')
          ? 'No profile found for client acme with mboxPC=no-pc'
          : 'No profile found for client acme with third party id=nobody',
      );
    }
    assert.equal((await fetchProfile(t, { thirdPartyId: 'nobody' })).status, 404);
    assert.equal((await fetchProfile(t, { pcId: 'no-pc' })).status, 404);
  });

  const badRequests: Array<[string, string, RegExp]> = [
    ['both ids', 'mbox3rdPartyId=u1&mboxPC=pc-1&profile.a=b', /either mbox3rdPartyId or mboxPC, not both/],
    ['neither id', 'profile.a=b', /mbox3rdPartyId=ID or mboxPC=ID/],
    [
      'control character in a name',
      'mbox3rdPartyId=u1&profile.a%01b=1',
      /Attribute name "a\\u0001b" must not contain control/,
    ],
    ['empty attribute name', 'mbox3rdPartyId=u1&profile.=1', /Attribute name "" must be/],
    ['reserved name', 'mbox3rdPartyId=u1&profile.__proto__=1', /reserved/],
    ['reserved name constructor', 'mbox3rdPartyId=u1&profile.constructor=1', /reserved/],
    ['long name', `mbox3rdPartyId=u1&profile.${'n'.repeat(129)}=1`, /1 to 128 characters/],
    ['long value', `mbox3rdPartyId=u1&profile.a=${'v'.repeat(5001)}`, /5001 characters; the limit is 5000/],
    ['duplicate attribute', 'mbox3rdPartyId=u1&profile.a=1&profile.a=2', /"profile.a" is given more than once/],
    ['duplicate id', 'mbox3rdPartyId=u1&mbox3rdPartyId=u2&profile.a=1', /"mbox3rdPartyId" is given more than once/],
    ['"+" in the thirdPartyId', 'mbox3rdPartyId=a%2Bb&profile.a=1', /must not contain "\+" or "\/"/],
    ['empty id', 'mbox3rdPartyId=&profile.a=1', /thirdPartyId is empty/],
    ['id over 256', `mboxPC=${'p'.repeat(257)}&profile.a=1`, /pcId is 257 characters/],
  ];
  it('accepts attribute names with spaces and punctuation, as Segment sends them (profile.first%20name)', async () => {
    const res = await t.http.get(
      `${UPDATE}?mbox3rdPartyId=u1&profile.first%20name=Ada&profile.address.city=Oslo&profile.a:b%2Fc=1`,
    );
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'u1' })).body), {
      tier: 'silver',
      'first name': 'Ada',
      'address.city': 'Oslo',
      'a:b/c': '1',
    });
  });

  for (const query of ['mbox3rdPartyId=u1', 'mbox3rdPartyId=u1&', 'mbox3rdPartyId=u1&tier=gold']) {
    it(`a call without profile.* parameters (${query}) answers 200 and changes nothing`, async () => {
      const before = (await fetchProfile(t, { thirdPartyId: 'u1' })).body;
      const res = await t.http.get(`${UPDATE}?${query}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(
        res.text,
        `<response><success>true</success><pcId>${pcOfU1}</pcId><message>Request successfully submitted</message></response>`,
      );
      const post = await t.http.post(`${UPDATE}?${query}`).set('Accept', 'application/json');
      assert.equal(post.status, 200, post.text);
      assert.deepEqual(post.body, { success: true, pcId: pcOfU1, message: 'Request successfully submitted' });
      assert.deepEqual((await fetchProfile(t, { thirdPartyId: 'u1' })).body, before);
    });
  }

  it('a call without profile.* parameters for an unknown profile answers 404, creating nothing', async () => {
    const res = await t.http.get(`${UPDATE}?mbox3rdPartyId=nobody&`);
    assert.equal(res.status, 404, res.text);
    assert.equal((await fetchProfile(t, { thirdPartyId: 'nobody' })).status, 404);
  });

  for (const [label, query, message] of badRequests) {
    it(`400 for ${label}`, async () => {
      const res = await t.http.get(`${UPDATE}?${query}`);
      assert.equal(res.status, 400, res.text);
      assert.match(refusal(res.text), message);
      const json = await t.http.get(`${UPDATE}?${query}`).set('Accept', 'application/json');
      assert.equal(json.status, 400);
      assert.deepEqual(Object.keys(json.body), ['success', 'message']);
      assert.equal(json.body.success, false);
    });
  }

  it('400 for a parameter given in both the query and the POST body', async () => {
    const res = await t.http
      .post(`${UPDATE}?mbox3rdPartyId=u1`)
      .set('Content-Type', FORM)
      .send('mbox3rdPartyId=u1&profile.a=1');
    assert.equal(res.status, 400);
    assert.match(refusal(res.text), /given more than once/);
  });

  it('nothing is stored by a refused update', async () => {
    const res = await t.http.get(`${UPDATE}?mbox3rdPartyId=u1&profile.ok=1&profile.a%01b=2`);
    assert.equal(res.status, 400);
    assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'u1' })).body), { tier: 'silver' });
  });
});

describe('fetch (API.md 2.4)', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp();
  });
  after(async () => t.close());

  it('200 in exactly the documented shape, with thirdPartyId when the profile has one', async () => {
    const res = await t.http.get(`${UPDATE}?mbox3rdPartyId=u1&profile.tier=gold`);
    assert.equal(res.status, 404); // not created by an update
    const at = t.clock();
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'thirdPartyId', id: 'u1' }, attributes: { tier: 'gold', city: 'Oslo' } },
      { createMissing: true, now: at },
    );
    const fetched = await t.http
      .get(`/rest/v1/profiles/thirdPartyId/u1?client=${CLIENT}`)
      .set('Accept', 'application/xml');
    assert.equal(fetched.status, 200);
    assert.match(fetched.headers['content-type'], /^application\/json/);
    const iso = new Date(at).toISOString();
    const pcId = fetched.body.visitorId as string;
    assert.deepEqual(fetched.body, {
      client: 'acme',
      visitorId: pcId,
      thirdPartyId: 'u1',
      modifiedAt: iso,
      profileAttributes: { tier: { value: 'gold', modifiedAt: iso }, city: { value: 'Oslo', modifiedAt: iso } },
    });
    assert.deepEqual(Object.keys(fetched.body), [
      'client',
      'visitorId',
      'thirdPartyId',
      'modifiedAt',
      'profileAttributes',
    ]);
    const byPc = await t.http.get(`/rest/v1/profiles/${encodeURIComponent(pcId)}?client=${CLIENT}`);
    assert.deepEqual(byPc.body, fetched.body);
  });

  it('has no thirdPartyId key for a profile without one', async () => {
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'pcId', id: 'pc-only' }, attributes: { a: 'b' } },
      { createMissing: true, now: t.clock() },
    );
    const res = await t.http.get(`/rest/v1/profiles/pc-only?client=${CLIENT}`);
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body), ['client', 'visitorId', 'modifiedAt', 'profileAttributes']);
    assert.match(res.body.modifiedAt, ISO);
  });

  it('404 bodies are exactly the documented ones', async () => {
    const byThirdParty = await t.http.get(`/rest/v1/profiles/thirdPartyId/nobody?client=${CLIENT}`);
    assert.equal(byThirdParty.status, 404);
    assert.equal(
      byThirdParty.text,
      '{"status":404,"message":"No profile found for client acme with third party id=nobody"}',
    );
    const byPc = await t.http.get(`/rest/v1/profiles/123-456?client=${CLIENT}`).set('Accept', 'application/xml');
    assert.equal(byPc.status, 404);
    assert.match(byPc.headers['content-type'], /^application\/json/);
    assert.equal(byPc.text, '{"status":404,"message":"No profile found for client acme with mboxPC=123-456"}');
  });

  it('the documented example: no profile u1 for client acme', async () => {
    const other = await startApp();
    try {
      const res = await other.http.get('/rest/v1/profiles/thirdPartyId/u1?client=acme');
      assert.equal(res.text, '{"status":404,"message":"No profile found for client acme with third party id=u1"}');
    } finally {
      await other.close();
    }
  });

  it('a missing or unknown client query parameter is 404', async () => {
    for (const path of [
      '/rest/v1/profiles/thirdPartyId/u1',
      '/rest/v1/profiles/thirdPartyId/u1?client=',
      '/rest/v1/profiles/thirdPartyId/u1?client=nobody',
      '/rest/v1/profiles/thirdPartyId/u1?client=ACME',
      '/rest/v1/profiles/pc-only',
      '/rest/v1/profiles/pc-only?client=nobody',
    ]) {
      const res = await t.http.get(path);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.status, 404);
      assert.deepEqual(Object.keys(res.body), ['status', 'message']);
    }
  });

  it('ids with spaces and UTF-8 round-trip through the path', async () => {
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'thirdPartyId', id: 'jö doe@x' }, attributes: { a: 'b' } },
      { createMissing: true, now: t.clock() },
    );
    const res = await t.http.get(`/rest/v1/profiles/thirdPartyId/${encodeURIComponent('jö doe@x')}?client=${CLIENT}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.thirdPartyId, 'jö doe@x');
  });
});
