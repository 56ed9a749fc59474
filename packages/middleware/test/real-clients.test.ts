/**
 * Real clients nobody here wrote, replayed byte for byte over loopback HTTP with Node's fetch
 * (docs/compatibility.md): Adobe's published batch samples, the request sequence of Segment's
 * Adobe Target destination, and an Admin API caller's token request.
 */
import { strict as assert } from 'node:assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_KEYS, CLIENT, generateToken, setRequireAuth, startApp, type TestApp } from './helpers';

/** Follows a batchStatus URL exactly as returned until the batch is no longer `incomplete`. */
async function settled(batchStatus: string, token?: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const res = await fetch(batchStatus, {
      headers: { Accept: 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as Record<string, unknown>;
    if (body['status'] !== 'incomplete') return body;
    await sleep(10);
  }
  throw new Error('the batch did not finish');
}

/** name → value of a fetched profile (the fetch route's JSON). */
async function attributesOf(t: TestApp, path: string, token?: string): Promise<Record<string, string> | number> {
  const res = await fetch(`${t.origin}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (res.status !== 200) return res.status;
  const body = (await res.json()) as { profileAttributes: Record<string, { value: string }> };
  return Object.fromEntries(Object.entries(body.profileAttributes).map(([name, a]) => [name, a.value]));
}

describe("real clients: Adobe's published batch samples", () => {
  let t: TestApp;
  beforeEach(async () => (t = await startApp()));
  afterEach(async () => t.close());

  // What `curl -X POST --data-binary @batch.txt http://HOST/m2/CLIENT/v2/profile/batchUpdate` sends:
  // the file as it is, as application/x-www-form-urlencoded.
  const post = (path: string, body: string) =>
    fetch(`${t.origin}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body,
    });

  it("v2: the sample of Adobe's Bulk Profile Update page until 2024 (spaces after the commas)", async () => {
    const sample =
      'batch=pcId, param1, param2, param3, param4\n' +
      '123, value1\n' +
      '124, value1,,, value4\n' +
      '125,, value2\n' +
      '126, value1, value2, value3, value4\n';
    const res = await post(`/m2/${CLIENT}/v2/profile/batchUpdate`, sample);
    assert.equal(res.status, 200, await res.clone().text());
    const { batchStatus } = (await res.json()) as { batchStatus: string };
    const status = await settled(`${batchStatus}&showDetails=true`);
    assert.equal(status['status'], 'complete');
    assert.equal(status['successfulUpdates'], 4);
    // Header cells are names and are trimmed; cells of data rows are data and keep their spaces.
    assert.deepEqual(await attributesOf(t, `/rest/v1/profiles/124?client=${CLIENT}`), {
      param1: ' value1',
      param4: ' value4',
    });
    assert.deepEqual(await attributesOf(t, `/rest/v1/profiles/126?client=${CLIENT}`), {
      param1: ' value1',
      param2: ' value2',
      param3: ' value3',
      param4: ' value4',
    });
  });

  it("v1: the older developer guide's sample (existing profiles, dotted pcIds)", async () => {
    for (const pcId of ['1000000000000-100000.01', '1367320065048-801944.01_00']) {
      await t.store.updateProfile(
        CLIENT,
        { key: { kind: 'pcId', id: pcId }, attributes: { seen: 'yes' } },
        { createMissing: true, now: t.clock() },
      );
    }
    const sample =
      'batch=pcId, param1, param2, param3\n' +
      '1000000000000-100000.01, value1, value2, valueeeeeee\n' +
      '1000000000000-100000.01, value1, value3, valueeeeeee\n' +
      '1367320065048-801944.01_00, value1, value6, valueeeeeee\n' +
      '1000000000000-100000.01, value1, value6, valueeeeeee\n';
    const res = await post(`/m2/${CLIENT}/profile/batchUpdate`, sample);
    assert.equal(res.status, 200, await res.clone().text());
    const { batchStatus } = (await res.json()) as { batchStatus: string };
    assert.match(batchStatus, new RegExp(`^${t.origin}/m2/${CLIENT}/profile/batchStatus\\?batchId=`));
    assert.equal((await settled(batchStatus))['status'], 'complete');
    assert.deepEqual(await attributesOf(t, `/rest/v1/profiles/1000000000000-100000.01?client=${CLIENT}`), {
      seen: 'yes',
      param1: ' value1',
      param2: ' value6',
      param3: ' valueeeeeee',
    });
  });
});

/**
 * The request sequence of Segment's Adobe Target destination (its `adobe-target` action
 * destination, "Update Profile"), rebuilt from its observable behaviour: look the profile up by
 * thirdPartyId, then POST the traits as `profile.NAME=VALUE` query parameters with no body. Nested
 * traits are flattened with dots, null traits are left out, values are not URL-encoded (the URL
 * parser of fetch percent-encodes what must be), and the bearer token is sent when one is set.
 */
class SegmentDestination {
  readonly requests: string[] = [];
  constructor(
    private readonly origin: string,
    private readonly clientCode: string,
    private readonly bearerToken?: string,
  ) {}

  async updateProfile(userId: string, traits: Record<string, unknown>): Promise<Response> {
    const lookup = await this.send(
      `${this.origin}/rest/v1/profiles/thirdPartyId/${userId}?client=${this.clientCode}`,
      'GET',
    );
    if (lookup.status !== 200) return lookup;
    const query = Object.entries(flatten(traits))
      .map(([name, value]) => `profile.${name}=${value}`)
      .join('&');
    return this.send(`${this.origin}/m2/${this.clientCode}/profile/update?mbox3rdPartyId=${userId}&${query}`, 'POST');
  }

  private send(url: string, method: string): Promise<Response> {
    this.requests.push(`${method} ${new URL(url).href}`);
    return fetch(url, { method, headers: this.bearerToken ? { Authorization: `Bearer ${this.bearerToken}` } : {} });
  }
}

function flatten(traits: Record<string, unknown>, prefix = '', out: Record<string, string> = {}) {
  for (const [name, value] of Object.entries(traits)) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (value === null || value === undefined) continue;
    if (typeof value === 'object') flatten(value as Record<string, unknown>, path, out);
    else out[path] = String(value);
  }
  return out;
}

describe("real clients: Segment's Adobe Target destination", () => {
  let t: TestApp;
  let token: string;
  before(async () => {
    t = await startApp();
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'thirdPartyId', id: 'user-1' }, attributes: { plan: 'free' } },
      { createMissing: true, now: t.clock() },
    );
    token = await generateToken(t);
    await setRequireAuth(t, true);
  });
  after(async () => t.close());

  it('updates a profile from traits with spaces in names and values, nested traits and numbers', async () => {
    const segment = new SegmentDestination(t.origin, CLIENT, token);
    const res = await segment.updateProfile('user-1', {
      'first name': 'Ada',
      name: 'Ada Lovelace',
      address: { city: 'London', street: null },
      visits: 3,
      vip: true,
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.match(await res.text(), /^<response><success>true<\/success><pcId>[^<]+<\/pcId>/);
    assert.deepEqual(segment.requests, [
      `GET ${t.origin}/rest/v1/profiles/thirdPartyId/user-1?client=${CLIENT}`,
      `POST ${t.origin}/m2/${CLIENT}/profile/update?mbox3rdPartyId=user-1&profile.first%20name=Ada&profile.name=Ada%20Lovelace&profile.address.city=London&profile.visits=3&profile.vip=true`,
    ]);
    assert.deepEqual(await attributesOf(t, `/rest/v1/profiles/thirdPartyId/user-1?client=${CLIENT}`, token), {
      plan: 'free',
      'first name': 'Ada',
      name: 'Ada Lovelace',
      'address.city': 'London',
      visits: '3',
      vip: 'true',
    });
  });

  it('an event whose traits are all null sends "?mbox3rdPartyId=ID&": 200, nothing changes', async () => {
    const before = await attributesOf(t, `/rest/v1/profiles/thirdPartyId/user-1?client=${CLIENT}`, token);
    const segment = new SegmentDestination(t.origin, CLIENT, token);
    const res = await segment.updateProfile('user-1', { email: null, address: { city: null } });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(segment.requests[1], `POST ${t.origin}/m2/${CLIENT}/profile/update?mbox3rdPartyId=user-1&`);
    assert.deepEqual(await attributesOf(t, `/rest/v1/profiles/thirdPartyId/user-1?client=${CLIENT}`, token), before);
  });

  it('an unknown user stops at the lookup with a JSON 404; no token stops it with 401', async () => {
    const unknown = await new SegmentDestination(t.origin, CLIENT, token).updateProfile('nobody', { a: 'b' });
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), {
      status: 404,
      message: `No profile found for client ${CLIENT} with third party id=nobody`,
    });
    const anonymous = await new SegmentDestination(t.origin, CLIENT).updateProfile('user-1', { a: 'b' });
    assert.equal(anonymous.status, 401);
  });
});

describe("real clients: an Admin API caller's token request", () => {
  let t: TestApp;
  beforeEach(async () => (t = await startApp()));
  afterEach(async () => t.close());

  it("POST with Adobe's vendor media type, X-Api-Key and the older scope= spelling", async () => {
    const res = await fetch(`${t.origin}/${CLIENT}/target/authentication/token?scope=profile_api`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${ADMIN_KEYS.admin}`,
        'X-Api-Key': 'adobe-io-client-id',
        'Content-Type': 'application/vnd.adobe.target.v1+json',
        Accept: 'application/vnd.adobe.target.v1+json',
      },
      body: JSON.stringify({ expiresIn: 3600 }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body['tokenType'], 'bearer');
    assert.equal(body['scope'], 'profile_api');
    assert.ok(body['expiresIn'] === 3600 || body['expiresIn'] === 3599, String(body['expiresIn']));
    assert.match(String(body['accessToken']), /^eyJ/);
  });
});
