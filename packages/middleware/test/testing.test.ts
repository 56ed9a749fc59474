import assert from 'node:assert/strict';
import { DEFAULT_TEST_ADMIN_KEY, startTestProfileApi, type TestProfileApi } from '../src/testing';

async function waitForBatch(api: TestProfileApi, statusUrl: string, token: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${statusUrl}&showDetails=true`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    if (body.status !== 'incomplete') return body;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`batch at ${statusUrl} did not finish (api ${api.url})`);
}

describe('startTestProfileApi', () => {
  let api: TestProfileApi;
  before(async () => {
    api = await startTestProfileApi({ clients: ['acme', 'other'] });
  });
  after(() => api.close());

  it('listens on 127.0.0.1 with the default admin key', () => {
    assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(api.adminKey, DEFAULT_TEST_ADMIN_KEY);
    assert.deepEqual(api.clients, ['acme', 'other']);
    assert.equal(api.store.kind, 'memory');
  });

  it('mints a token that passes the gate: a 2-row batch, then a fetch', async () => {
    const token = await api.mintToken('acme');
    assert.match(token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);

    const batch = await fetch(`${api.url}/m2/acme/v2/profile/batchUpdate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'batch=thirdPartyId,profile.tier,city\nu1,gold,Basel\nu2,silver,New+York\n',
    });
    assert.equal(batch.status, 200);
    const xml = await batch.text();
    assert.match(xml, /<success>true<\/success>/);
    const statusUrl = /<batchStatus>([^<]+)<\/batchStatus>/.exec(xml)![1]!.replace(/&amp;/g, '&');
    assert.ok(statusUrl.startsWith(`${api.url}/m2/acme/v2/profile/batchStatus?batchId=acme-`), statusUrl);

    const status = await waitForBatch(api, statusUrl, token);
    assert.equal(status.status, 'complete');
    assert.equal(status.successfulUpdates, 2);

    const res = await fetch(`${api.url}/rest/v1/profiles/thirdPartyId/u2?client=acme`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
    const profile = (await res.json()) as {
      thirdPartyId: string;
      profileAttributes: Record<string, { value: string }>;
    };
    assert.equal(profile.thirdPartyId, 'u2');
    assert.equal(profile.profileAttributes.tier!.value, 'silver');
    assert.equal(profile.profileAttributes.city!.value, 'New York');
  });

  it('starts with Require Authentication on: no token is 401 with a Bearer challenge', async () => {
    const res = await fetch(`${api.url}/rest/v1/profiles/thirdPartyId/u1?client=acme`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="profile-api"/);
  });

  it('replaces the previous token on each mint, and a token works only for its client', async () => {
    const first = await api.mintToken('acme');
    const second = await api.mintToken('acme', { expiresInSeconds: 600 });
    const get = (token: string, client = 'acme') =>
      fetch(`${api.url}/rest/v1/profiles/thirdPartyId/u1?client=${client}`, {
        headers: { authorization: `Bearer ${token}` },
      });
    assert.equal((await get(first)).status, 401);
    assert.equal((await get(second)).status, 200);
    assert.equal((await get(second, 'other')).status, 401);
  });

  it('turns Require Authentication off and on', async () => {
    await api.setRequireAuthentication('acme', false);
    assert.equal((await fetch(`${api.url}/rest/v1/profiles/thirdPartyId/u1?client=acme`)).status, 200);
    await api.setRequireAuthentication('acme', true);
    assert.equal((await fetch(`${api.url}/rest/v1/profiles/thirdPartyId/u1?client=acme`)).status, 401);
  });

  it('refuses an unknown client clearly', async () => {
    await assert.rejects(api.mintToken('nope'), /Client nope is not served by this test API/);
  });
});

describe('startTestProfileApi options', () => {
  it('takes requireAuthentication, an admin key and defaults to one client', async () => {
    const api = await startTestProfileApi({ requireAuthentication: false, adminKey: 'another-admin-key-42' });
    try {
      assert.deepEqual(api.clients, ['test']);
      const res = await fetch(`${api.url}/m2/test/profile/update?mbox3rdPartyId=u9&profile.tier=gold`);
      assert.equal(res.status, 404); // open (no 401), and update never creates a profile
      const settings = await fetch(`${api.url}/test/target/authentication/settings`, {
        headers: { authorization: 'Bearer another-admin-key-42' },
      });
      assert.deepEqual(await settings.json(), {
        requireAuthentication: false,
        profileRetentionDays: null,
        token: null,
        replacedTokens: [],
      });
    } finally {
      await api.close();
    }
  });
});
