/**
 * Conformance of every store to profile deletion (issue 19, API.md 5): the profile, its
 * attributes and its id links go at once, with its audit event; a batch staged meanwhile neither
 * brings it back nor fails.
 */
import assert from 'node:assert/strict';
import type { AuditEvent, BatchRow, BatchRows, Store } from '../src/store/types';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
const ECID = '12345678901234567890123456789012345678';

function row(kind: 'pcId' | 'thirdPartyId', id: string, attributes: Record<string, string>): BatchRow {
  return { key: { kind, id }, attributes };
}

function rowsOf(rows: BatchRow[]): BatchRows {
  return async function* () {
    yield rows;
  };
}

const deletedEvent = (hash: string): AuditEvent => ({
  at: NOW,
  actor: 'anonymous',
  action: 'profile.deleted',
  details: { profile: hash },
});

/** `getStore` returns the store of the running test. */
export function describeProfileDeletion(getStore: () => Store): void {
  describe('deleting a profile (issue 19)', () => {
    let store: Store;
    let pcId: string;
    beforeEach(async () => {
      store = getStore();
      const made = await store.updateProfile('acme', row('thirdPartyId', 'crm-1', { tier: 'gold' }), {
        createMissing: true,
        now: NOW,
      });
      assert.equal(made.status, 'updated');
      pcId = made.status === 'updated' ? made.profile.pcId : '';
      await store.linkMarketingCloudVisitorId('acme', pcId, ECID);
    });

    for (const kind of ['pcId', 'thirdPartyId', 'marketingCloudVisitorId'] as const) {
      it(`deletes by ${kind}: the profile and every id link are gone at once`, async () => {
        const id = { pcId, thirdPartyId: 'crm-1', marketingCloudVisitorId: ECID }[kind];
        const deleted = await store.deleteProfile('acme', { kind, id });
        assert.equal(deleted?.pcId, pcId);
        assert.equal(deleted?.thirdPartyId, 'crm-1');
        assert.equal(deleted?.marketingCloudVisitorId, ECID);
        assert.equal(await store.getProfile('acme', { kind: 'pcId', id: pcId }), null);
        assert.equal(await store.getProfile('acme', { kind: 'thirdPartyId', id: 'crm-1' }), null);
        assert.equal(await store.getProfile('acme', { kind: 'marketingCloudVisitorId', id: ECID }), null);
      });
    }

    it('answers null for a profile that does not exist (or another client’s), and deletes nothing', async () => {
      assert.equal(await store.deleteProfile('acme', { kind: 'pcId', id: 'nope' }), null);
      assert.equal(await store.deleteProfile('other', { kind: 'pcId', id: pcId }), null);
      assert.equal(await store.deleteProfile('other', { kind: 'thirdPartyId', id: 'crm-1' }), null);
      assert.equal((await store.getProfile('acme', { kind: 'pcId', id: pcId }))?.attributes['tier']?.value, 'gold');
    });

    it('writes the audit event made from the deleted profile, and none when there was no profile', async () => {
      const seen: string[] = [];
      await store.deleteProfile('acme', { kind: 'pcId', id: pcId }, (p) => {
        seen.push(p.pcId);
        return deletedEvent('h1');
      });
      await store.deleteProfile('acme', { kind: 'pcId', id: pcId }, () => deletedEvent('h2'));
      assert.deepEqual(seen, [pcId]);
      const audit = await store.listAudit('acme', 10);
      assert.deepEqual(audit, [deletedEvent('h1')]);
    });

    it('a later v2 row with the thirdPartyId creates a new profile with a new pcId', async () => {
      await store.deleteProfile('acme', { kind: 'thirdPartyId', id: 'crm-1' });
      const batch = await store.createBatch({
        client: 'acme',
        version: 'v2',
        batchSize: 1,
        parseFailures: [],
        parseFailedCount: 0,
        now: NOW,
      });
      await store.applyBatch('acme', batch.batchId, rowsOf([row('thirdPartyId', 'crm-1', { plan: 'b' })]), {
        createMissing: true,
        now: NOW + 1,
      });
      const again = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'crm-1' });
      assert.notEqual(again?.pcId, undefined);
      assert.notEqual(again?.pcId, pcId);
      assert.deepEqual(Object.keys(again!.attributes), ['plan']);
      assert.equal(again?.marketingCloudVisitorId, undefined);
    });

    it('a profile deleted while a batch is applied does not come back, and the batch completes', async () => {
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
        { createMissing: false, now: NOW + 1 },
      );
      await firstTaken;
      const deleting = store.deleteProfile('acme', { kind: 'pcId', id: pcId });
      release();
      const [done, deleted] = await Promise.all([applying, deleting]);
      assert.equal(done.status, 'complete');
      assert.equal(deleted?.pcId, pcId);
      assert.equal(await store.getProfile('acme', { kind: 'pcId', id: pcId }), null);
      assert.equal(await store.getProfile('acme', { kind: 'thirdPartyId', id: 'crm-1' }), null);
    });

    // Attack on issue 19: a v2 row by thirdPartyId that read the profile before it was deleted.
    it('a v2 batch that read the profile before its deletion never brings back its pcId, attributes or ECID', async () => {
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
          yield [row('thirdPartyId', 'crm-1', { plan: 'b' })];
          taken();
          await gate;
          yield [row('thirdPartyId', 'crm-2', { plan: 'c' })];
        },
        { createMissing: true, now: NOW + 1 },
      );
      await firstTaken;
      const deleting = store.deleteProfile('acme', { kind: 'thirdPartyId', id: 'crm-1' });
      release();
      const [done, deleted] = await Promise.all([applying, deleting]);
      assert.equal(done.status, 'complete');
      assert.equal(done.successfulUpdates, 2);
      assert.equal(deleted?.pcId, pcId);
      assert.equal(await store.getProfile('acme', { kind: 'pcId', id: pcId }), null);
      assert.equal(await store.getProfile('acme', { kind: 'marketingCloudVisitorId', id: ECID }), null);
      // Either order is sound (the deletion after the batch, or the batch after it), but a
      // profile there now is a new one, made by the row alone.
      const after = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'crm-1' });
      if (after !== null) {
        assert.notEqual(after.pcId, pcId);
        assert.deepEqual(Object.keys(after.attributes), ['plan']);
        assert.equal(after.marketingCloudVisitorId, undefined);
      }
    });
  });
}
