/**
 * The router runs the retention sweep (issue 19, API.md 5): once when it is created (then on its
 * schedule, which the core tests drive), with the router's clock, and stops it on close().
 */
import assert from 'node:assert/strict';
import { KeyRing, MemoryStore, generateSigningKey, type Store } from '@profilegate/core';
import { adminKeyAuthenticator, profileApi } from '../src/index';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
const DAY = 86_400_000;

async function profileAt(store: Store, client: string, id: string, now: number): Promise<void> {
  await store.updateProfile(
    client,
    { key: { kind: 'thirdPartyId', id }, attributes: { a: '1' } },
    { createMissing: true, now },
  );
}

const exists = async (store: Store, client: string, id: string) =>
  (await store.getProfile(client, { kind: 'thirdPartyId', id })) !== null;

/** Lets the event loop turn until `condition` holds (a bounded number of turns, no real time). */
async function turnsUntil(what: string, condition: () => Promise<boolean>): Promise<void> {
  for (let turn = 0; turn < 10_000; turn++) {
    if (await condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.fail(`never happened: ${what}`);
}

function router(store: Store, extra: { retentionSweep?: boolean } = {}) {
  const errors: unknown[] = [];
  const api = profileApi({
    clients: ['acme', 'globex'],
    store,
    signingKeys: new KeyRing([generateSigningKey(NOW)]),
    authenticateAdmin: adminKeyAuthenticator([{ key: 'retention-test-admin-key-0123', role: 'admin' }]),
    clock: () => NOW,
    onError: (error) => errors.push(error),
    ...extra,
  });
  return { api, errors };
}

describe('profileApi() retention sweep (issue 19)', () => {
  it('sweeps at start with the router clock: expired profiles go, the rest stay, one audit event', async () => {
    const store = new MemoryStore();
    await store.putSettings('acme', { profileRetentionDays: 30 });
    await profileAt(store, 'acme', 'old', NOW - 31 * DAY);
    await profileAt(store, 'acme', 'young', NOW - 29 * DAY);
    await profileAt(store, 'globex', 'old', NOW - 3000 * DAY); // retention null: kept forever
    const { api, errors } = router(store);
    try {
      await turnsUntil('the expired profile is deleted', async () => !(await exists(store, 'acme', 'old')));
      await turnsUntil('the sweep is audited', async () =>
        (await store.listAudit('acme', 10)).some((e) => e.action === 'profiles.expired'),
      );
    } finally {
      await api.close();
    }
    assert.equal(await exists(store, 'acme', 'young'), true);
    assert.equal(await exists(store, 'globex', 'old'), true);
    const [event] = (await store.listAudit('acme', 10)).filter((e) => e.action === 'profiles.expired');
    assert.deepEqual(event, {
      at: NOW,
      actor: 'retention',
      action: 'profiles.expired',
      details: { count: 1, profileRetentionDays: 30, modifiedBefore: new Date(NOW - 30 * DAY).toISOString() },
    });
    assert.deepEqual(errors, []);
  });

  it('retentionSweep: false leaves the sweep to another process', async () => {
    const store = new MemoryStore();
    await store.putSettings('acme', { profileRetentionDays: 1 });
    await profileAt(store, 'acme', 'old', NOW - 2 * DAY);
    let sweeps = 0;
    const counting = Object.assign(Object.create(store) as MemoryStore, {
      deleteExpiredProfiles: async () => {
        sweeps++;
        return 0;
      },
    });
    const { api } = router(counting, { retentionSweep: false });
    await api.close();
    assert.equal(sweeps, 0);
    assert.equal(await exists(store, 'acme', 'old'), true);
  });

  it('refuses a retentionSweep that is not a boolean', () => {
    assert.throws(() => router(new MemoryStore(), { retentionSweep: 'yes' as unknown as boolean }), /retentionSweep/);
  });
});
