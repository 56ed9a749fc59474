/**
 * Conformance of every store to the retention setting and its sweep (issue 19, API.md 5): the
 * setting is stored per client beside requireAuthentication; `deleteExpiredProfiles` deletes at
 * most `limit` profiles last modified before the cut-off, with their id links, and a batch applied
 * meanwhile never brings one back.
 */
import assert from 'node:assert/strict';
import type { BatchRow, BatchRows, Store, StoreChange } from '../src/store/types';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
const DAY = 86_400_000;
const ECID = '12345678901234567890123456789012345678';

function row(kind: 'pcId' | 'thirdPartyId', id: string, attributes: Record<string, string>): BatchRow {
  return { key: { kind, id }, attributes };
}

/** Creates (or updates) a profile by thirdPartyId at `now` and returns its pcId. */
async function profileAt(store: Store, client: string, thirdPartyId: string, now: number): Promise<string> {
  const made = await store.updateProfile(client, row('thirdPartyId', thirdPartyId, { seen: String(now) }), {
    createMissing: true,
    now,
  });
  assert.equal(made.status, 'updated');
  return made.status === 'updated' ? made.profile.pcId : '';
}

/** `getStore` returns the store of the running test; `reopen` (durable stores) opens its data again. */
export function describeRetention(getStore: () => Store, reopen?: () => Promise<Store>): void {
  describe('retention (issue 19)', () => {
    let store: Store;
    beforeEach(() => {
      store = getStore();
    });

    describe('the setting', () => {
      it('starts null (keep forever) and changes alone, keeping requireAuthentication', async () => {
        assert.deepEqual(await store.getSettings('acme'), { requireAuthentication: true, profileRetentionDays: null });
        const seen: StoreChange[] = [];
        const unsubscribe = store.onChange((c) => seen.push(c));
        const before = await store.putSettings('acme', { profileRetentionDays: 30 });
        unsubscribe();
        assert.deepEqual(before, { requireAuthentication: true, profileRetentionDays: null });
        assert.deepEqual(await store.getSettings('acme'), { requireAuthentication: true, profileRetentionDays: 30 });
        assert.deepEqual(seen, [{ client: 'acme', kind: 'settings' }]);
        assert.deepEqual(await store.getSettings('other'), { requireAuthentication: true, profileRetentionDays: null });
      });

      it('changing requireAuthentication alone keeps the retention, and null clears it', async () => {
        await store.putSettings('acme', { profileRetentionDays: 3650 });
        await store.putSettings('acme', { requireAuthentication: false });
        assert.deepEqual(await store.getSettings('acme'), { requireAuthentication: false, profileRetentionDays: 3650 });
        const before = await store.putSettings('acme', { requireAuthentication: true, profileRetentionDays: null });
        assert.deepEqual(before, { requireAuthentication: false, profileRetentionDays: 3650 });
        assert.deepEqual(await store.getSettings('acme'), { requireAuthentication: true, profileRetentionDays: null });
      });

      if (reopen) {
        it('is kept across a reopen', async () => {
          await store.putSettings('acme', { profileRetentionDays: 14 });
          store = await reopen();
          assert.deepEqual(await store.getSettings('acme'), { requireAuthentication: true, profileRetentionDays: 14 });
        });
      }
    });

    describe('deleteExpiredProfiles', () => {
      it('deletes the profiles modified before the cut-off, with their id links, and keeps the others', async () => {
        const old = await profileAt(store, 'acme', 'old', NOW - 40 * DAY);
        await store.linkMarketingCloudVisitorId('acme', old, ECID);
        const recent = await profileAt(store, 'acme', 'recent', NOW - 10 * DAY);
        const edge = await profileAt(store, 'acme', 'edge', NOW - 30 * DAY);
        const otherClient = await profileAt(store, 'other', 'old', NOW - 40 * DAY);
        assert.equal(await store.deleteExpiredProfiles('acme', NOW - 30 * DAY, 500), 1);
        assert.equal(await store.getProfile('acme', { kind: 'pcId', id: old }), null);
        assert.equal(await store.getProfile('acme', { kind: 'thirdPartyId', id: 'old' }), null);
        assert.equal(await store.getProfile('acme', { kind: 'marketingCloudVisitorId', id: ECID }), null);
        assert.equal((await store.getProfile('acme', { kind: 'pcId', id: recent }))?.thirdPartyId, 'recent');
        // Modified exactly at the cut-off: not older than it, so kept.
        assert.equal((await store.getProfile('acme', { kind: 'pcId', id: edge }))?.thirdPartyId, 'edge');
        assert.equal((await store.getProfile('other', { kind: 'pcId', id: otherClient }))?.thirdPartyId, 'old');
        assert.equal(await store.deleteExpiredProfiles('acme', NOW - 30 * DAY, 500), 0);
      });

      it('deletes at most `limit` per call, so many take several calls', async () => {
        for (let i = 0; i < 5; i++) await profileAt(store, 'acme', `p${i}`, NOW - 100 * DAY + i);
        assert.equal(await store.deleteExpiredProfiles('acme', NOW, 2), 2);
        assert.equal(await store.deleteExpiredProfiles('acme', NOW, 2), 2);
        assert.equal(await store.deleteExpiredProfiles('acme', NOW, 2), 1);
        assert.equal(await store.deleteExpiredProfiles('acme', NOW, 2), 0);
        for (let i = 0; i < 5; i++) {
          assert.equal(await store.getProfile('acme', { kind: 'thirdPartyId', id: `p${i}` }), null);
        }
      });

      it('a profile touched again is no longer expired', async () => {
        await profileAt(store, 'acme', 'back', NOW - 40 * DAY);
        await profileAt(store, 'acme', 'back', NOW - 1 * DAY);
        assert.equal(await store.deleteExpiredProfiles('acme', NOW - 30 * DAY, 500), 0);
        assert.notEqual(await store.getProfile('acme', { kind: 'thirdPartyId', id: 'back' }), null);
      });

      it('a later v2 row with a swept thirdPartyId creates a new profile with a new pcId', async () => {
        const old = await profileAt(store, 'acme', 'crm-1', NOW - 40 * DAY);
        assert.equal(await store.deleteExpiredProfiles('acme', NOW - 30 * DAY, 500), 1);
        const batch = await store.createBatch({
          client: 'acme',
          version: 'v2',
          batchSize: 1,
          parseFailures: [],
          parseFailedCount: 0,
          now: NOW,
        });
        const rows: BatchRows = async function* () {
          yield [row('thirdPartyId', 'crm-1', { plan: 'b' })];
        };
        await store.applyBatch('acme', batch.batchId, rows, { createMissing: true, now: NOW });
        const again = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'crm-1' });
        assert.notEqual(again?.pcId, old);
        assert.deepEqual(Object.keys(again!.attributes), ['plan']);
      });

      it('a batch applied meanwhile never brings a swept profile back, and completes', async () => {
        const pcId = await profileAt(store, 'acme', 'crm-1', NOW - 40 * DAY);
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let taken!: () => void;
        const firstTaken = new Promise<void>((resolve) => (taken = resolve));
        const batch = await store.createBatch({
          client: 'acme',
          version: 'v1',
          batchSize: 2,
          parseFailures: [],
          parseFailedCount: 0,
          now: NOW,
        });
        const applying = store.applyBatch(
          'acme',
          batch.batchId,
          async function* () {
            yield [row('pcId', pcId, { tier: 'silver' })];
            taken();
            await gate;
            yield [row('thirdPartyId', 'crm-1', { plan: 'c' })];
          },
          { createMissing: false, now: NOW },
        );
        await firstTaken;
        const sweeping = store.deleteExpiredProfiles('acme', NOW - 30 * DAY, 500);
        release();
        const [done, swept] = await Promise.all([applying, sweeping]);
        assert.equal(done.status, 'complete');
        const after = await store.getProfile('acme', { kind: 'pcId', id: pcId });
        if (swept === 1) {
          // The sweep came first: the profile is gone, and the v1 batch found nothing to update.
          assert.equal(after, null);
          assert.equal(await store.getProfile('acme', { kind: 'thirdPartyId', id: 'crm-1' }), null);
        } else {
          // The batch came first (or held the row): the profile is fresh again, with the batch's values.
          assert.equal(swept, 0);
          assert.equal(after?.attributes['tier']?.value, 'silver');
          assert.equal(after?.attributes['plan']?.value, 'c');
          assert.equal(after?.modifiedAt, NOW);
        }
      });

      it('a v2 batch (which creates) applied meanwhile never brings a swept profile’s old attributes back', async () => {
        const pcId = await profileAt(store, 'acme', 'crm-1', NOW - 40 * DAY);
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let taken!: () => void;
        const firstTaken = new Promise<void>((resolve) => (taken = resolve));
        const batch = await store.createBatch({
          client: 'acme',
          version: 'v2',
          batchSize: 2,
          parseFailures: [],
          parseFailedCount: 0,
          now: NOW,
        });
        const applying = store.applyBatch(
          'acme',
          batch.batchId,
          async function* () {
            yield [row('pcId', pcId, { tier: 'silver' })];
            taken();
            await gate;
            yield [row('thirdPartyId', 'crm-1', { plan: 'c' })];
          },
          { createMissing: true, now: NOW },
        );
        await firstTaken;
        const sweeping = store.deleteExpiredProfiles('acme', NOW - 30 * DAY, 500);
        release();
        const [done, swept] = await Promise.all([applying, sweeping]);
        assert.equal(done.status, 'complete');
        const byPcId = await store.getProfile('acme', { kind: 'pcId', id: pcId });
        const byCrm = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'crm-1' });
        if (swept === 1) {
          // The sweep came first: the batch's rows create profiles holding only the batch's values.
          for (const p of [byPcId, byCrm]) assert.equal(p?.attributes['seen'], undefined, JSON.stringify(p));
        } else {
          assert.equal(swept, 0);
          assert.equal(byPcId?.pcId, byCrm?.pcId);
          assert.equal(byPcId?.modifiedAt, NOW);
        }
      });
    });
  });
}
