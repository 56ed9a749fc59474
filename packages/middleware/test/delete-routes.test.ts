/** API.md 5: deleting a profile through `DELETE /rest/v1/profiles/…` (issue 19). */
import { strict as assert } from 'node:assert';
import { createHmac, hkdfSync } from 'node:crypto';
import { PROFILE_ID_HASH_LABEL } from '@profilegate/core';
import {
  AUDIT_PATH,
  CLIENT,
  OTHER_CLIENT,
  SEEDED_ECID,
  adminAuth,
  fetchProfile,
  generateToken,
  runBatch,
  seedProfiles,
  startApp,
  type TestApp,
} from './helpers';

const path = (rest: string, client = CLIENT) => `/rest/v1/profiles/${rest}?client=${client}`;

async function auditEvents(t: TestApp): Promise<Array<Record<string, unknown>>> {
  const res = await t.http.get(AUDIT_PATH(CLIENT)).set('Authorization', adminAuth('observer'));
  assert.equal(res.status, 200);
  return (res.body.events as Array<Record<string, unknown>>).filter((e) => e['action'] === 'profile.deleted');
}

describe('DELETE /rest/v1/profiles/… (API.md 5)', () => {
  let t: TestApp;
  let pcOfU1: string;
  beforeEach(async () => {
    t = await startApp({ requireAuth: false });
    await seedProfiles(t.store);
    pcOfU1 = (await t.store.getProfile(CLIENT, { kind: 'thirdPartyId', id: 'u1' }))!.pcId;
  });
  afterEach(async () => t.close());

  for (const [label, rest] of [
    ['pcId', 'pc-1'],
    ['thirdPartyId', 'thirdPartyId/u1'],
    ['marketingCloudVisitorId', `marketingCloudVisitorId/${SEEDED_ECID}`],
  ] as const) {
    it(`by ${label}: 204 with no body, then the fetch answers 404 and a second delete 404`, async () => {
      const res = await t.http.delete(path(rest));
      assert.equal(res.status, 204, res.text);
      assert.equal(res.text, '');
      const again = await t.http.delete(path(rest));
      assert.equal(again.status, 404);
      const fetched = await t.http.get(path(rest));
      assert.equal(fetched.status, 404);
      assert.deepEqual(again.body, fetched.body);
    });
  }

  it('deletes the ECID link with the profile: the ECID names no profile any more', async () => {
    assert.equal((await t.http.delete(path('pc-1'))).status, 204);
    assert.equal((await t.http.get(path(`marketingCloudVisitorId/${SEEDED_ECID}`))).status, 404);
  });

  it('an unknown profile is 404 in the fetch routes’ shape; another client’s profile is not touched', async () => {
    const res = await t.http.delete(path('nope'));
    const fetched = await t.http.get(path('nope'));
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, fetched.body);
    assert.equal((await t.http.delete(path('thirdPartyId/u1', OTHER_CLIENT))).status, 404);
    assert.equal((await fetchProfile(t, { thirdPartyId: 'u1' })).status, 200);
  });

  it('a later v2 batch row with the thirdPartyId creates a new profile with a new pcId', async () => {
    assert.equal((await t.http.delete(path('thirdPartyId/u1'))).status, 204);
    const status = await runBatch(t, 'batch=thirdPartyId,plan\nu1,b\n');
    assert.equal(status['status'], 'complete');
    const fetched = await fetchProfile(t, { thirdPartyId: 'u1' });
    assert.equal(fetched.status, 200);
    assert.notEqual(fetched.body.visitorId, pcOfU1);
    assert.deepEqual(Object.keys(fetched.body.profileAttributes), ['plan']);
  });

  it('audits profile.deleted by anonymous, with keyed hashes of the ids and never the ids', async () => {
    assert.equal((await t.http.delete(path('pc-1'))).status, 204);
    const [event] = await auditEvents(t);
    assert.equal(event?.['actor'], 'anonymous');
    const key = t.keys.active();
    const macKey = Buffer.from(hkdfSync('sha256', key.key, Buffer.alloc(0), PROFILE_ID_HASH_LABEL, 32));
    const mac = (kind: string, id: string) =>
      createHmac('sha256', macKey)
        .update(JSON.stringify([CLIENT, kind, id]))
        .digest('base64url');
    assert.deepEqual(event?.['details'], {
      kid: key.kid,
      ids: { pcId: mac('pcId', 'pc-1'), marketingCloudVisitorId: mac('marketingCloudVisitorId', SEEDED_ECID) },
    });
    assert.ok(!JSON.stringify(event).includes('pc-1'));
    assert.ok(!JSON.stringify(event).includes(SEEDED_ECID));
  });

  it('with Require Authentication on, the actor is the token’s jti prefix', async () => {
    await t.store.putSettings(CLIENT, { requireAuthentication: true });
    const token = await generateToken(t);
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
    const res = await t.http.delete(path('thirdPartyId/u1')).set('Authorization', `Bearer ${token}`);
    assert.equal(res.status, 204, res.text);
    const [event] = await auditEvents(t);
    assert.equal(event?.['actor'], jti.slice(0, 8));
    assert.ok(!JSON.stringify(event).includes('u1"'));
  });

  it('nothing is audited when there was no profile', async () => {
    await t.http.delete(path('nope'));
    assert.deepEqual(await auditEvents(t), []);
  });
});
