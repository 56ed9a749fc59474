/**
 * What an attack on issue 19's features (profile deletion, attribute removal) found, driving the
 * running demo server as an attacker, a hurried user and a real client would: each case here
 * failed before its fix.
 */
import { strict as assert } from 'node:assert';
import { CLIENT, fetchProfile, runBatch, startApp, valuesOf, type TestApp } from './helpers';

const UPDATE = `/m2/${CLIENT}/profile/update`;

async function valuesOfU1(t: TestApp): Promise<Record<string, string>> {
  const res = await fetchProfile(t, { thirdPartyId: 'u1' });
  assert.equal(res.status, 200, res.text);
  return valuesOf(res.body);
}

describe('attack on issue 19: attribute removal', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp();
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'thirdPartyId', id: 'u1' }, attributes: { tier: 'gold', city: 'Oslo' } },
      { createMissing: true, now: t.clock() },
    );
  });
  afterEach(async () => t.close());

  // axios (and qs, jQuery, PHP's http_build_query) send a list as removeAttribute[]=a; a
  // misspelt removeAttribute is as easy to send. Both were ignored as unknown parameters: 200
  // "Request successfully submitted" while the personal data stayed.
  for (const query of [
    'removeAttribute[]=city',
    'removeAttribute%5B%5D=city',
    'removeAttribute[0]=city',
    'removeattribute=city',
    'RemoveAttribute=city',
    'removeAttributes=city',
  ]) {
    it(`${query} is 400, never a 200 that removes nothing`, async () => {
      for (const send of [
        () => t.http.get(`${UPDATE}?mbox3rdPartyId=u1&${query}`),
        () =>
          t.http
            .post(`${UPDATE}?mbox3rdPartyId=u1`)
            .set('Content-Type', 'application/x-www-form-urlencoded')
            .send(query),
      ]) {
        const res = await send().set('Accept', 'application/json');
        assert.equal(res.status, 400, res.text);
        assert.match(res.body.message, /removeAttribute=NAME/);
      }
      assert.deepEqual(await valuesOfU1(t), { tier: 'gold', city: 'Oslo' });
    });
  }

  // JSON.parse (and the stream parser) keep the last of two equal keys: {"city":"Bergen","city":null}
  // removed city, {"city":null,"city":"Bergen"} set it, silently: API.md 5 says a name is given once.
  for (const attributes of [
    '{"city":"Bergen","city":null}',
    '{"city":null,"city":"Bergen"}',
    '{"tier":"x","tier":"y"}',
  ]) {
    it(`a JSON batch row giving a name twice (${attributes}) fails, changing nothing`, async () => {
      const body = `{"profiles":[{"thirdPartyId":"u1","attributes":${attributes}},{"thirdPartyId":"u2","attributes":{"a":"1"}}]}`;
      const status = await runBatch(t, body, { type: 'application/json' });
      assert.equal(status['failedUpdates'], 1, JSON.stringify(status));
      assert.equal(status['successfulUpdates'], 1);
      const [failure] = status['profiles'] as Array<{ message: string }>;
      assert.match(failure!.message, /^Line 1: Attribute "(city|tier)" is given more than once/);
      assert.deepEqual(await valuesOfU1(t), { tier: 'gold', city: 'Oslo' });
    });
  }

  it('a JSON batch row giving its thirdPartyId twice fails, touching neither profile', async () => {
    const body = '{"profiles":[{"thirdPartyId":"u2","thirdPartyId":"u1","attributes":{"city":null}}]}';
    const status = await runBatch(t, body, { type: 'application/json' });
    assert.equal(status['failedUpdates'], 1, JSON.stringify(status));
    const [failure] = status['profiles'] as Array<{ message: string }>;
    assert.match(failure!.message, /"thirdPartyId" is given more than once/);
    assert.deepEqual(await valuesOfU1(t), { tier: 'gold', city: 'Oslo' });
    assert.equal((await fetchProfile(t, { thirdPartyId: 'u2' })).status, 404);
  });

  it('equal keys in different objects, or a repeated key outside "profiles", are no failure', async () => {
    const body =
      '{"meta":{"a":1,"a":2},"profiles":[{"thirdPartyId":"u1","attributes":{"city":null}},' +
      '{"thirdPartyId":"u2","attributes":{"city":"x"}}]}';
    const status = await runBatch(t, body, { type: 'application/json' });
    assert.equal(status['successfulUpdates'], 2, JSON.stringify(status));
    assert.deepEqual(await valuesOfU1(t), { tier: 'gold' });
  });
});
