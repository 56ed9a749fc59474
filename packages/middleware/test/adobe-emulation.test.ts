/**
 * The Adobe emulation of @profilegate/middleware/testing, and the client's AdobeTargetClient
 * against it (issue 21): IMS token caching by an injected clock, regeneration, both scopes,
 * errors, no secret in any message, and every request checked against Adobe's document.
 */
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import {
  AdminApiError,
  AdobeImsError,
  AdobeTargetClient,
  ServerUnreachableError,
  UnsupportedByTargetError,
  adobeRotationTarget,
  rotateTarget,
} from '@profilegate/client';
import { startAdobeEmulation, type AdobeEmulation } from '../src/testing';

const VND = 'application/vnd.adobe.target.v1+json';

describe('Adobe emulation with AdobeTargetClient', () => {
  let adobe: AdobeEmulation;
  let time: number;
  const now = () => time;
  beforeEach(async () => {
    time = Date.UTC(2026, 0, 1);
    adobe = await startAdobeEmulation({ tenant: 'acme', now });
  });
  afterEach(() => adobe.close());

  const client = (extra: Partial<ConstructorParameters<typeof AdobeTargetClient>[0]> = {}) =>
    new AdobeTargetClient({
      tenant: adobe.tenant,
      clientId: adobe.clientId,
      clientSecret: adobe.clientSecret,
      scopes: adobe.scopes,
      imsUrl: adobe.imsUrl,
      adminUrl: adobe.adminUrl,
      now,
      ...extra,
    });

  it("reads the current token of each scope in Adobe's shape, with one IMS token", async () => {
    const c = client();
    const profile = await c.getToken('profile_api');
    const debug = await c.getToken('debug_tools');
    assert.deepEqual(profile, {
      accessToken: adobe.tokens.get('profile_api'),
      tokenType: 'bearer',
      scope: 'profile_api',
      expiresIn: 15_552_000,
    });
    assert.equal(debug?.accessToken, adobe.tokens.get('debug_tools'));
    assert.equal(debug?.scope, 'debug_tools');
    assert.equal(adobe.imsTokensIssued(), 1);
    assert.deepEqual(adobe.violations(), []);
  });

  it('regenerates each scope on its own: the old value is no longer the current one', async () => {
    const c = client();
    const before = { profile: adobe.tokens.get('profile_api'), debug: adobe.tokens.get('debug_tools') };
    const fresh = await c.regenerateToken('profile_api');
    assert.notEqual(fresh.accessToken, before.profile);
    assert.equal(adobe.tokens.get('profile_api'), fresh.accessToken);
    assert.equal(adobe.tokens.get('debug_tools'), before.debug);
    assert.equal((await c.getToken('profile_api'))?.accessToken, fresh.accessToken);
    const debug = await c.regenerateToken('debug_tools');
    assert.notEqual(debug.accessToken, before.debug);
    const post = adobe.requests.filter((r) => r.api === 'admin' && r.method === 'POST');
    assert.deepEqual(
      post.map((r) => r.status),
      [201, 201],
    );
    assert.deepEqual(adobe.violations(), []);
  });

  it('caches the IMS token until shortly before expires_in, then asks again', async () => {
    const c = client();
    await c.getToken();
    time += 86_399_000 - 6 * 60_000; // 6 minutes before it expires: still cached
    await c.getToken();
    assert.equal(adobe.imsTokensIssued(), 1);
    time += 2 * 60_000; // 4 minutes before: renewed
    await c.getToken();
    assert.equal(adobe.imsTokensIssued(), 2);
    assert.deepEqual(adobe.violations(), []);
  });

  it('asks IMS again once when the Admin API refuses a cached IMS token', async () => {
    const c = client();
    await c.getToken();
    adobe.revokeImsTokens();
    assert.ok(await c.getToken());
    assert.equal(adobe.imsTokensIssued(), 2);
  });

  it('answers null when the scope has no token yet', async () => {
    await adobe.close();
    adobe = await startAdobeEmulation({ now, initialTokens: { debug_tools: null } });
    assert.equal(await client().getToken('debug_tools'), null);
    assert.ok(await client().getToken('profile_api'));
  });

  it('a wrong secret is an AdobeImsError that never holds the secret, nor does inspecting the client', async () => {
    const secret = 'wrong-secret-0123456789abcdef';
    const c = client({ clientSecret: secret });
    const error = await c.getToken().then(
      () => assert.fail('should fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof AdobeImsError, String(error));
    assert.equal(error.status, 401);
    assert.equal(error.errorCode, 'invalid_client');
    assert.match(error.message, /client id or client secret/);
    for (const text of [error.message, inspect(error), inspect(c), JSON.stringify(c), inspect(client())]) {
      assert.ok(!text.includes(secret), text);
      assert.ok(!text.includes(adobe.clientSecret), text);
    }
  });

  it('a wrong client id, unknown IMS scope or wrong tenant is refused clearly', async () => {
    const id = await client({ clientId: 'not-ours' })
      .getToken()
      .catch((e: unknown) => e);
    assert.ok(id instanceof AdobeImsError && id.status === 400 && id.errorCode === 'invalid_client', String(id));
    const scope = await client({ scopes: ['openid', 'no_such_scope'] })
      .getToken()
      .catch((e: unknown) => e);
    assert.ok(scope instanceof AdobeImsError && scope.errorCode === 'invalid_scope', String(scope));
    const tenant = await client({ tenant: 'globex' })
      .getToken()
      .catch((e: unknown) => e);
    assert.ok(tenant instanceof AdminApiError && !(tenant instanceof AdobeImsError), String(tenant));
    assert.equal(tenant.status, 403);
    assert.match(tenant.message, /tenant globex/);
  });

  it('no token value or secret appears in an Admin API error message', async () => {
    const c = client({ tenant: 'globex' });
    const error = (await c.getToken().catch((e: unknown) => e)) as Error;
    const ims = adobe.requests.find((r) => r.api === 'ims');
    assert.ok(ims);
    for (const value of [adobe.clientSecret, adobe.tokens.get('profile_api') as string]) {
      assert.ok(!error.message.includes(value));
      assert.ok(!inspect(error).includes(value));
    }
  });

  it('a server that is not there is a ServerUnreachableError naming the URL only', async () => {
    const c = client({ imsUrl: 'http://127.0.0.1:9' });
    const error = await c.getToken().catch((e: unknown) => e);
    assert.ok(error instanceof ServerUnreachableError, String(error));
    assert.match(error.message, /127\.0\.0\.1:9/);
    assert.ok(!error.message.includes(adobe.clientSecret));
  });
});

describe('rotateTarget on an Adobe target (emulated)', () => {
  let adobe: AdobeEmulation;
  let dir: string;
  beforeEach(async () => {
    adobe = await startAdobeEmulation({ tenant: 'acme' });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pg-adobe-'));
  });
  afterEach(async () => {
    await adobe.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const adobeClient = () =>
    new AdobeTargetClient({
      tenant: 'acme',
      clientId: adobe.clientId,
      clientSecret: adobe.clientSecret,
      imsUrl: adobe.imsUrl,
      adminUrl: adobe.adminUrl,
    });

  it('replaces profile_api copies in .env, JSON, YAML and shell, leaves debug_tools ones, finds leftovers by history', async () => {
    const profile = adobe.tokens.get('profile_api') as string;
    const debug = adobe.tokens.get('debug_tools') as string;
    const texts: Record<string, (p: string) => string> = {
      '.env': (p) => `TARGET_PROFILE_TOKEN=${p}\nTARGET_DEBUG_TOKEN=${debug}\n`,
      'target.json': (p) => `${JSON.stringify({ profileToken: p, debugToken: debug }, null, 2)}\n`,
      'deploy.yaml': (p) => `target:\n  profileToken: "${p}"\n  debugToken: ${debug}\n`,
      'sync.sh': (p) => `#!/bin/sh\ncurl -H "Authorization: Bearer ${p}" "$TARGET/rest/v1/profiles"\n`,
    };
    for (const [name, text] of Object.entries(texts)) await fs.writeFile(path.join(dir, name), text(profile));
    const target = adobeRotationTarget(adobeClient(), 'profile_api');
    assert.deepEqual(target.capabilities, { revoke: false, grace: false, toggle: false, expiresIn: false });

    const first = await rotateTarget(target, { root: dir, files: Object.keys(texts) });
    assert.equal(first.previous?.accessToken, profile);
    assert.equal(adobe.tokens.get('profile_api'), first.token.accessToken);
    assert.equal(adobe.tokens.get('debug_tools'), debug);
    assert.equal(first.files?.copies, 4);
    for (const [name, text] of Object.entries(texts)) {
      assert.equal(await fs.readFile(path.join(dir, name), 'utf8'), text(first.token.accessToken), name);
    }

    // A copy of the first token comes back (a stale branch): the next rotation finds it by history.
    await fs.writeFile(path.join(dir, 'stale.env'), `TOKEN=${profile}\n`);
    const second = await rotateTarget(target, {
      root: dir,
      files: [...Object.keys(texts), 'stale.env'],
      earlierTokens: first.history,
    });
    assert.equal(second.files?.copies, 5);
    assert.equal(await fs.readFile(path.join(dir, 'stale.env'), 'utf8'), `TOKEN=${second.token.accessToken}\n`);
    assert.deepEqual(second.history, [first.token.accessToken, profile]);
    assert.deepEqual(adobe.violations(), []);
  });

  it('refuses a grace period or a lifetime before calling Adobe', async () => {
    const before = adobe.tokens.get('profile_api');
    const target = adobeRotationTarget(adobeClient(), 'profile_api');
    await assert.rejects(target.regenerate({ previousTokenGraceSeconds: 60 }), UnsupportedByTargetError);
    await assert.rejects(target.regenerate({ expiresIn: 3600 }), UnsupportedByTargetError);
    assert.equal(adobe.tokens.get('profile_api'), before);
    assert.equal(adobe.requests.filter((r) => r.method === 'POST' && r.api === 'admin').length, 0);
  });
});

describe("Adobe emulation: Adobe's answers and the document check", () => {
  let adobe: AdobeEmulation;
  let bearer: string;
  before(async () => {
    adobe = await startAdobeEmulation({ tenant: 'acme' });
    const res = await fetch(`${adobe.imsUrl}/ims/token/v3`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: adobe.clientId,
        client_secret: adobe.clientSecret,
        scope: adobe.scopes.join(','),
      }).toString(),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
    assert.equal(body['expires_in'], 86_399);
    bearer = body['access_token'] as string;
  });
  after(() => adobe.close());

  const url = (query = '?authorizationScope=profile_api', tenant = 'acme') =>
    `${adobe.adminUrl}/${tenant}/target/authentication/token${query}`;
  const headers = (extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${bearer}`,
    'x-api-key': adobe.clientId,
    accept: VND,
    ...extra,
  });
  const lastViolations = () => adobe.requests[adobe.requests.length - 1]!.violations;

  it("answers GET 200 in the vendor media type with exactly Adobe's AuthorizationToken fields", async () => {
    const res = await fetch(url(), { headers: headers() });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), VND);
    assert.deepEqual(Object.keys((await res.json()) as object), ['accessToken', 'tokenType', 'scope', 'expiresIn']);
    assert.deepEqual(lastViolations(), []);
  });

  it("accepts the scope of a POST as the document's JSON string body too", async () => {
    const res = await fetch(url(''), {
      method: 'POST',
      headers: headers({ 'content-type': 'application/json' }),
      body: '"debug_tools"',
    });
    assert.equal(res.status, 201);
    assert.equal(((await res.json()) as { scope: string }).scope, 'debug_tools');
    assert.deepEqual(lastViolations(), []);
  });

  it("refuses in Adobe's error shape and records each deviation from the document", async () => {
    const cases: Array<[RequestInit & { url: string }, number, RegExp]> = [
      [{ url: url('') }, 400, /authorizationScope is required/],
      [{ url: url('?authorizationScope=everything') }, 400, /not one of profile_api, debug_tools/],
      [{ url: url(), headers: headers({ authorization: '' }) }, 401, /Authorization: Bearer/],
      [{ url: url(), headers: headers({ authorization: 'Bearer nope' }) }, 401, /^$/],
      [{ url: url(), headers: headers({ 'x-api-key': 'someone-else' }) }, 403, /^$/],
      [{ url: url(), headers: { authorization: `Bearer ${bearer}`, accept: VND } }, 403, /X-Api-Key is required/],
      [{ url: url('?authorizationScope=profile_api', 'globex') }, 403, /^$/],
      [{ url: url(), headers: headers({ accept: 'application/xml' }) }, 406, /Accept/],
      [{ url: url(), method: 'DELETE' }, 405, /DELETE is not an operation/],
      [
        { url: url(), method: 'POST', headers: headers({ 'content-type': 'text/plain' }), body: 'x' },
        400,
        /Content-Type/,
      ],
    ];
    for (const [init, status, violation] of cases) {
      const res = await fetch(init.url, { headers: headers(), ...init });
      assert.equal(res.status, status, `${init.method ?? 'GET'} ${init.url} ${JSON.stringify(init.headers)}`);
      const body = (await res.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), ['httpStatus', 'requestId', 'requestTime', 'errors']);
      assert.equal(body['httpStatus'], status);
      const violations = lastViolations().join('\n');
      if (violation.source === '^$') assert.equal(violations, '', 'a request the document allows');
      else assert.match(violations, violation);
    }
  });

  it('records IMS requests that are not a client-credentials form', async () => {
    const res = await fetch(`${adobe.imsUrl}/ims/token/v3`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 400);
    assert.deepEqual(Object.keys((await res.json()) as object), ['error', 'error_description']);
    assert.match(adobe.requests[adobe.requests.length - 1]!.violations.join('\n'), /x-www-form-urlencoded/);
  });
});
