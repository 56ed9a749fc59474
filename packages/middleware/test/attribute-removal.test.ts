/**
 * Attribute removal (issue 19, API.md 5): `null` in a JSON batch, `removeAttribute=NAME`
 * (repeatable) in the single update. An empty value still never clears; a CSV batch cannot remove.
 */
import { strict as assert } from 'node:assert';
import { KeyRing, MemoryStore, generateSigningKey } from '@profilegate/core';
import express from 'express';
import request from 'supertest';
import { profileApi } from '../src';
import {
  CLIENT,
  authenticateAdmin,
  closeServer,
  fetchProfile,
  listen,
  runBatch,
  startApp,
  valuesOf,
  waitForBatch,
  type TestApp,
  type TestClock,
} from './helpers';

const UPDATE = `/m2/${CLIENT}/profile/update`;
const FORM = 'application/x-www-form-urlencoded';
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

/** A clock that reads a fixed time the test moves (never the real clock). */
function fixedClock(): TestClock {
  let now = T0;
  const clock = (() => now) as TestClock;
  clock.advance = (ms: number) => {
    now += ms;
  };
  return clock;
}

function refusal(text: string): string {
  const match = /^<response><success>false<\/success><message>([^<]*)<\/message><\/response>$/.exec(text);
  assert.ok(match, `not a refusal: ${text}`);
  return match[1]!.replaceAll('&quot;', '"').replaceAll('&amp;', '&');
}

async function valuesOfU1(t: TestApp): Promise<Record<string, string>> {
  const res = await fetchProfile(t, { thirdPartyId: 'u1' });
  assert.equal(res.status, 200, res.text);
  return valuesOf(res.body);
}

describe('attribute removal (issue 19, API.md 5)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp({ clock: fixedClock() });
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'thirdPartyId', id: 'u1' }, attributes: { tier: 'gold', city: 'Oslo', plan: 'b' } },
      { createMissing: true, now: T0 },
    );
  });
  afterEach(async () => t.close());

  describe('single update: removeAttribute=NAME', () => {
    it('GET removes the attribute and moves the profile’s modifiedAt; the others stay as they were', async () => {
      t.clock.advance(60_000);
      const res = await t.http.get(`${UPDATE}?mbox3rdPartyId=u1&removeAttribute=city`);
      assert.equal(res.status, 200, res.text);
      assert.match(res.text, /<success>true<\/success>/);
      const fetched = await fetchProfile(t, { thirdPartyId: 'u1' });
      assert.deepEqual(valuesOf(fetched.body), { tier: 'gold', plan: 'b' });
      assert.equal(fetched.body.modifiedAt, new Date(T0 + 60_000).toISOString());
      assert.equal(fetched.body.profileAttributes.tier.modifiedAt, new Date(T0).toISOString());
    });

    it('is repeatable, may come with profile.* values, and may be split between the query and a POST body', async () => {
      const get = await t.http.get(`${UPDATE}?mbox3rdPartyId=u1&removeAttribute=city&removeAttribute=plan&profile.x=1`);
      assert.equal(get.status, 200, get.text);
      assert.deepEqual(await valuesOfU1(t), { tier: 'gold', x: '1' });
      const post = await t.http
        .post(`${UPDATE}?removeAttribute=x`)
        .set('Content-Type', FORM)
        .send('mbox3rdPartyId=u1&removeAttribute=tier&profile.y=2');
      assert.equal(post.status, 200, post.text);
      assert.deepEqual(await valuesOfU1(t), { y: '2' });
    });

    it('POST form body alone, by mboxPC, with the profile. prefix on the name', async () => {
      const pcId = (await fetchProfile(t, { thirdPartyId: 'u1' })).body.visitorId as string;
      const res = await t.http
        .post(UPDATE)
        .set('Content-Type', FORM)
        .set('Accept', 'application/json')
        .send(`mboxPC=${encodeURIComponent(pcId)}&removeAttribute=profile.tier&removeAttribute=tier`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { success: true, pcId, message: 'Request successfully submitted' });
      assert.deepEqual(await valuesOfU1(t), { city: 'Oslo', plan: 'b' });
    });

    it('removing an absent attribute is no error and no change (modifiedAt stays)', async () => {
      t.clock.advance(60_000);
      const res = await t.http.get(`${UPDATE}?mbox3rdPartyId=u1&removeAttribute=nothing%20here`);
      assert.equal(res.status, 200, res.text);
      const fetched = await fetchProfile(t, { thirdPartyId: 'u1' });
      assert.deepEqual(valuesOf(fetched.body), { tier: 'gold', city: 'Oslo', plan: 'b' });
      assert.equal(fetched.body.modifiedAt, new Date(T0).toISOString());
    });

    it('an empty profile.NAME value still never clears', async () => {
      const res = await t.http.get(`${UPDATE}?mbox3rdPartyId=u1&profile.city=&profile.tier=`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(await valuesOfU1(t), { tier: 'gold', city: 'Oslo', plan: 'b' });
      // An empty value next to a removal of the same name is not a conflict: the value is ignored.
      const both = await t.http.get(`${UPDATE}?mbox3rdPartyId=u1&profile.city=&removeAttribute=city`);
      assert.equal(both.status, 200, both.text);
      assert.deepEqual(await valuesOfU1(t), { tier: 'gold', plan: 'b' });
    });

    it('an unknown profile is 404 and is not created', async () => {
      const res = await t.http.get(`${UPDATE}?mbox3rdPartyId=nobody&removeAttribute=city`);
      assert.equal(res.status, 404, res.text);
      assert.equal((await fetchProfile(t, { thirdPartyId: 'nobody' })).status, 404);
    });

    const bad: Array<[string, string, RegExp]> = [
      ['an empty name', 'removeAttribute=', /Attribute name "" must be 1 to 128 characters/],
      ['only the prefix', 'removeAttribute=profile.', /Attribute name "" must be 1 to 128 characters/],
      ['__proto__', 'removeAttribute=__proto__', /Attribute name "__proto__" is reserved/],
      ['constructor', 'removeAttribute=constructor', /Attribute name "constructor" is reserved/],
      ['prototype', 'removeAttribute=profile.prototype', /Attribute name "prototype" is reserved/],
      ['a control character', 'removeAttribute=a%01b', /Attribute name "a\\u0001b" must not contain control/],
      ['a NUL', 'removeAttribute=a%00b', /contains NUL/],
      ['a name over 128 characters', `removeAttribute=${'n'.repeat(129)}`, /1 to 128 characters/],
      ['a lone surrogate', 'removeAttribute=%ED%A0%80', /not valid UTF-8/],
      [
        'a name both set and removed',
        'profile.city=Rome&removeAttribute=city',
        /Attribute "city" is both set and removed/,
      ],
      [
        'a name both set (with the prefix) and removed',
        'profile.city=Rome&removeAttribute=profile.city',
        /Attribute "city" is both set and removed/,
      ],
    ];
    for (const [label, params, message] of bad) {
      it(`400 for ${label}, and nothing of the update is stored`, async () => {
        const res = await t.http.get(`${UPDATE}?mbox3rdPartyId=u1&profile.ok=1&removeAttribute=tier&${params}`);
        assert.equal(res.status, 400, res.text);
        assert.match(refusal(res.text), message);
        const json = await t.http
          .post(UPDATE)
          .set('Content-Type', FORM)
          .set('Accept', 'application/json')
          .send(`mbox3rdPartyId=u1&${params}`);
        assert.equal(json.status, 400, json.text);
        assert.deepEqual(Object.keys(json.body), ['success', 'message']);
        assert.match(json.body.message, message);
        assert.deepEqual(await valuesOfU1(t), { tier: 'gold', city: 'Oslo', plan: 'b' });
        assert.equal(({} as Record<string, unknown>)['city'], undefined);
        assert.equal(t.errors.length, 0);
      });
    }
  });

  describe('JSON batch: "NAME": null', () => {
    const post = (body: unknown, version: 'v1' | 'v2' = 'v2') =>
      runBatch(t, JSON.stringify(body), { type: 'application/json', version });

    for (const version of ['v1', 'v2'] as const) {
      it(`a ${version} batch removes the attributes given as null, next to values it sets`, async () => {
        t.clock.advance(60_000);
        const status = await post(
          { profiles: [{ thirdPartyId: 'u1', attributes: { city: null, 'profile.plan': null, tier: 'silver' } }] },
          version,
        );
        assert.equal(status['successfulUpdates'], 1, JSON.stringify(status));
        assert.equal(status['failedUpdates'], 0);
        const fetched = await fetchProfile(t, { thirdPartyId: 'u1' });
        assert.deepEqual(valuesOf(fetched.body), { tier: 'silver' });
        assert.equal(fetched.body.modifiedAt, new Date(T0 + 60_000).toISOString());
      });
    }

    it('removing an absent attribute is no failure; a v2 row that only removes creates the profile, empty', async () => {
      const status = await post({
        profiles: [
          { thirdPartyId: 'u1', attributes: { nothing: null } },
          { thirdPartyId: 'new-1', attributes: { city: null } },
        ],
      });
      assert.equal(status['successfulUpdates'], 2, JSON.stringify(status));
      assert.deepEqual(await valuesOfU1(t), { tier: 'gold', city: 'Oslo', plan: 'b' });
      const created = await fetchProfile(t, { thirdPartyId: 'new-1' });
      assert.equal(created.status, 200);
      assert.deepEqual(created.body.profileAttributes, {});
    });

    it('a bad name given null fails its row with the name rule’s message; the other rows apply', async () => {
      const body =
        '{"profiles":[{"thirdPartyId":"u1","attributes":{"__proto__":null}},' +
        '{"thirdPartyId":"u1","attributes":{"":null}},' +
        '{"thirdPartyId":"u1","attributes":{"city":null,"profile.city":"x"}},' +
        '{"thirdPartyId":"u1","attributes":{"plan":false}},' +
        '{"thirdPartyId":"u1","attributes":{"tier":null}}]}';
      const status = await runBatch(t, body, { type: 'application/json' });
      assert.equal(status['successfulUpdates'], 1, JSON.stringify(status));
      assert.equal(status['failedUpdates'], 4);
      const messages = (status['profiles'] as Array<{ message: string }>).map((p) => p.message);
      assert.match(messages[0]!, /Line 1: Attribute name "__proto__" is reserved/);
      assert.match(messages[1]!, /Line 2: Attribute name "" must be 1 to 128 characters/);
      assert.match(messages[2]!, /Line 3: Attribute "city" is given more than once/);
      assert.match(messages[3]!, /Line 4: Value of attribute "plan" must be a string or null/);
      assert.deepEqual(await valuesOfU1(t), { city: 'Oslo', plan: 'b' });
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    });

    it('a CSV batch cannot remove: an empty cell is still ignored', async () => {
      const status = await runBatch(t, 'thirdPartyId,city,tier\nu1,,platinum\n', { type: 'text/csv' });
      assert.equal(status['successfulUpdates'], 1, JSON.stringify(status));
      assert.deepEqual(await valuesOfU1(t), { tier: 'platinum', city: 'Oslo', plan: 'b' });
      const quoted = await runBatch(t, 'thirdPartyId,city\nu1,""\n', { type: 'text/csv' });
      assert.equal(quoted['successfulUpdates'], 1);
      assert.deepEqual(await valuesOfU1(t), { tier: 'platinum', city: 'Oslo', plan: 'b' });
    });
  });
});

describe('attribute removal with a host’s own body parsers mounted before profileApi()', () => {
  let t: TestApp;
  before(async () => {
    const store = new MemoryStore();
    const app = express();
    app.use(express.json(), express.urlencoded({ extended: false }));
    app.use(
      profileApi({
        clients: [CLIENT],
        store,
        signingKeys: new KeyRing([generateSigningKey(T0)]),
        authenticateAdmin,
        clock: () => T0,
      }),
    );
    await store.putSettings(CLIENT, { requireAuthentication: false });
    const server = await listen(app);
    t = { app, server, store, http: request(server), close: () => closeServer(server) } as unknown as TestApp;
  });
  after(async () => t.close());

  it('a repeated removeAttribute in a parsed form body removes each name', async () => {
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'thirdPartyId', id: 'h1' }, attributes: { a: '1', b: '2', c: '3' } },
      { createMissing: true, now: T0 },
    );
    const res = await t.http
      .post(UPDATE)
      .set('Content-Type', FORM)
      .send('mbox3rdPartyId=h1&removeAttribute=a&removeAttribute=b');
    assert.equal(res.status, 200, res.text);
    const fetched = await t.http.get(`/rest/v1/profiles/thirdPartyId/h1?client=${CLIENT}`);
    assert.deepEqual(valuesOf(fetched.body), { c: '3' });
  });

  it('a JSON batch parsed by the host keeps its nulls', async () => {
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'thirdPartyId', id: 'h2' }, attributes: { a: '1', b: '2' } },
      { createMissing: true, now: T0 },
    );
    const res = await t.http
      .post(`/m2/${CLIENT}/v2/profile/batchUpdate`)
      .set('Accept', 'application/json')
      .send({ profiles: [{ thirdPartyId: 'h2', attributes: { a: null } }] });
    assert.equal(res.status, 200, res.text);
    assert.equal((await waitForBatch(res.body.batchStatus))['status'], 'complete');
    const fetched = await t.http.get(`/rest/v1/profiles/thirdPartyId/h2?client=${CLIENT}`);
    assert.deepEqual(valuesOf(fetched.body), { b: '2' });
  });
});
