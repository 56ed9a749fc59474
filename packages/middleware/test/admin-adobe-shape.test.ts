/**
 * Profilegate's admin token route also accepts requests shaped for Adobe's Admin API (issue 21):
 * the vendor media type in Accept and Content-Type, X-Api-Key ignored, and answers in the vendor
 * media type when the request asks for it.
 */
import { strict as assert } from 'node:assert';
import { AdminApiError, AdobeTargetClient } from '@profilegate/client';
import { startTestProfileApi, type TestProfileApi } from '../src/testing';

const VND = 'application/vnd.adobe.target.v1+json';

describe('admin token route: requests shaped for Adobe Target', () => {
  let api: TestProfileApi;
  before(async () => {
    api = await startTestProfileApi({ clients: ['acme'] });
  });
  after(() => api.close());

  const tokenUrl = () => `${api.url}/acme/target/authentication/token?authorizationScope=profile_api`;
  const adobeHeaders = (extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${api.adminKey}`,
    'x-api-key': 'some-adobe-client-id',
    accept: VND,
    ...extra,
  });

  it('POST with the vendor Content-Type and Accept answers 201 in the vendor media type', async () => {
    const res = await fetch(tokenUrl(), {
      method: 'POST',
      headers: adobeHeaders({ 'content-type': VND }),
      body: '{}',
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('content-type')?.split(';')[0], VND);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body['tokenType'], 'bearer');
    assert.equal(body['scope'], 'profile_api');
    assert.equal(typeof body['accessToken'], 'string');
    assert.equal(typeof body['expiresIn'], 'number');
  });

  it('POST without a body (as Adobe documents it) and GET answer in the vendor media type', async () => {
    const post = await fetch(tokenUrl(), { method: 'POST', headers: adobeHeaders() });
    assert.equal(post.status, 201);
    const created = (await post.json()) as { accessToken: string };
    const get = await fetch(tokenUrl(), { headers: adobeHeaders() });
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('content-type')?.split(';')[0], VND);
    assert.equal(((await get.json()) as { accessToken: string }).accessToken, created.accessToken);
  });

  it('a refusal asked for in the vendor media type comes in it, in the admin error shape', async () => {
    const res = await fetch(`${api.url}/acme/target/authentication/token?authorizationScope=debug_tools`, {
      headers: adobeHeaders(),
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type')?.split(';')[0], VND);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['httpStatus', 'requestId', 'requestTime', 'errors']);
  });

  it('without the vendor type in Accept the answer stays application/json', async () => {
    const res = await fetch(tokenUrl(), { headers: { authorization: `Bearer ${api.adminKey}` } });
    assert.equal(res.headers.get('content-type')?.split(';')[0], 'application/json');
    const json = await fetch(tokenUrl(), {
      headers: { authorization: `Bearer ${api.adminKey}`, accept: `application/json, ${VND};q=0.5` },
    });
    assert.equal(json.headers.get('content-type')?.split(';')[0], 'application/json');
  });

  it('X-Api-Key is ignored: the admin key alone decides', async () => {
    const res = await fetch(tokenUrl(), {
      headers: { ...adobeHeaders(), authorization: 'Bearer not-the-admin-key-at-all' },
    });
    assert.equal(res.status, 401);
  });
});

describe('AdobeTargetClient pointed at a Profilegate server (accessToken = the admin key)', () => {
  let api: TestProfileApi;
  beforeEach(async () => {
    api = await startTestProfileApi({ clients: ['acme'] });
  });
  afterEach(() => api.close());

  const client = () => new AdobeTargetClient({ tenant: 'acme', adminUrl: api.url, accessToken: api.adminKey });

  it('shows no token, regenerates, then shows the new one: the same calls as at Adobe', async () => {
    const c = client();
    assert.equal(await c.getToken('profile_api'), null);
    const created = await c.regenerateToken('profile_api');
    assert.equal(created.scope, 'profile_api');
    assert.equal(created.tokenType, 'bearer');
    assert.match(created.accessToken, /^eyJ/);
    assert.equal((await c.getToken())?.accessToken, created.accessToken);
  });

  it('the debug_tools scope, which Profilegate does not have, is a clear 400', async () => {
    const error = await client()
      .getToken('debug_tools')
      .catch((e: unknown) => e);
    assert.ok(error instanceof AdminApiError, String(error));
    assert.equal(error.status, 400);
    assert.match(error.message, /profile_api/);
    assert.ok(!error.message.includes(api.adminKey));
  });

  it('a wrong admin key is a 401 whose message does not hold the key', async () => {
    const key = 'not-the-admin-key-0123456789';
    const error = await new AdobeTargetClient({ tenant: 'acme', adminUrl: api.url, accessToken: key })
      .regenerateToken()
      .catch((e: unknown) => e);
    assert.ok(error instanceof AdminApiError, String(error));
    assert.equal(error.status, 401);
    assert.ok(!error.message.includes(key));
  });
});
