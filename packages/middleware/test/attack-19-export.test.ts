/**
 * Attack on the export route and the retention setting (issue 19, API.md 5) the day they ship:
 * what an integration built with axios, qs or PHP sends, and what a hurried admin types.
 */
import { strict as assert } from 'node:assert';
import { CLIENT, OTHER_CLIENT, adminAuth, seedProfiles, startApp, type TestApp } from './helpers';

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
