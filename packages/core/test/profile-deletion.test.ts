/**
 * Deleting a profile through the services (issue 19, API.md 5): ProfileService.deleteProfile and
 * the `profile.deleted` audit event, whose profile ids are keyed hashes, never the ids in clear.
 */
import assert from 'node:assert/strict';
import { createHmac, hkdfSync } from 'node:crypto';
import { ProfileAccess } from '../src/access';
import { NotFoundError, ValidationError } from '../src/errors';
import { PROFILE_ID_HASH_LABEL, profileIdHash } from '../src/profile-deletion';
import { ProfileService } from '../src/profile-service';
import { MemoryStore } from '../src/store/memory';
import { KeyRing, generateSigningKey } from '../src/tokens/keys';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
const ECID = '12345678901234567890123456789012345678';

async function setup() {
  const store = new MemoryStore();
  const clock = () => NOW;
  const key = generateSigningKey(NOW);
  const signingKeys = new KeyRing([key]);
  const access = new ProfileAccess({ store, signingKeys, clock });
  const profiles = new ProfileService({ store, clock });
  const made = await profiles.updateProfile(
    'acme',
    { kind: 'thirdPartyId', id: 'crm-1' },
    { 'profile.tier': 'gold' },
    {
      createMissing: true,
    },
  );
  await profiles.linkMarketingCloudVisitorId('acme', made.pcId, ECID);
  return { store, access, profiles, key, pcId: made.pcId };
}

describe('deleting a profile through the services (issue 19)', () => {
  it('deletes it and writes profile.deleted with the actor and keyed hashes of its ids', async () => {
    const { store, access, profiles, key, pcId } = await setup();
    await profiles.deleteProfile('acme', { kind: 'thirdPartyId', id: 'crm-1' }, (deleted) =>
      access.profileDeletedEvent('acme', 'abcd1234', deleted),
    );
    assert.equal(await profiles.getProfile('acme', { kind: 'pcId', id: pcId }), null);
    const [event] = await store.listAudit('acme', 10);
    // HMAC-SHA256 under a key derived (HKDF) from the active signing key, of client, id kind and id.
    const macKey = Buffer.from(hkdfSync('sha256', key.key, Buffer.alloc(0), PROFILE_ID_HASH_LABEL, 32));
    const mac = (kind: string, id: string) =>
      createHmac('sha256', macKey)
        .update(JSON.stringify(['acme', kind, id]))
        .digest('base64url');
    assert.deepEqual(event, {
      at: NOW,
      actor: 'abcd1234',
      action: 'profile.deleted',
      details: {
        kid: key.kid,
        ids: {
          pcId: mac('pcId', pcId),
          thirdPartyId: mac('thirdPartyId', 'crm-1'),
          marketingCloudVisitorId: mac('marketingCloudVisitorId', ECID),
        },
      },
    });
    const text = JSON.stringify(event);
    for (const id of [pcId, 'crm-1', ECID]) assert.ok(!text.includes(id), `${id} is not in the event`);
    assert.equal(profileIdHash(key, 'acme', 'pcId', pcId), mac('pcId', pcId));
  });

  it('answers NotFoundError for no such profile and writes no audit event', async () => {
    const { store, access, profiles } = await setup();
    await assert.rejects(
      profiles.deleteProfile('acme', { kind: 'pcId', id: 'nope' }, (d) => access.profileDeletedEvent('acme', 'x', d)),
      (error: unknown) => error instanceof NotFoundError && error.code === 'ProfileNotFound',
    );
    assert.deepEqual(await store.listAudit('acme', 10), []);
  });

  it('refuses an id no profile can have with ValidationError, as a fetch does', async () => {
    const { profiles } = await setup();
    await assert.rejects(profiles.deleteProfile('acme', { kind: 'pcId', id: 'a\u0000b' }), ValidationError);
  });
});
