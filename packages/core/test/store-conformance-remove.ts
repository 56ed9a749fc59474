/**
 * Conformance of every store to attribute removal (issue 19, API.md 5): a row or an update may
 * name attributes to remove (`ProfileUpdate.remove`). Removals apply before the row's values;
 * removing an absent attribute is no change; a profile's `modifiedAt` moves only when something
 * was removed or set.
 */
import assert from 'node:assert/strict';
import type { BatchKey, Profile, ProfileUpdate } from '../src/profiles/types';
import type { BatchRecord, BatchRow, BatchRows, Store } from '../src/store/types';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
const LATER = NOW + 60_000;
const ECID = '98765432109876543210987654321098765432';

function row(
  kind: 'pcId' | 'thirdPartyId',
  id: string,
  attributes: Record<string, string>,
  remove?: string[],
): ProfileUpdate<BatchKey> {
  return remove === undefined ? { key: { kind, id }, attributes } : { key: { kind, id }, attributes, remove };
}

function chunks(rows: BatchRow[], size = 2): BatchRows {
  return async function* () {
    for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
  };
}

/** Name → [value, modifiedAt], in the profile's order. */
function view(profile: Profile | null): Array<[string, string, number]> | null {
  if (profile === null) return null;
  return Object.keys(profile.attributes).map((name) => [
    name,
    profile.attributes[name]!.value,
    profile.attributes[name]!.modifiedAt,
  ]);
}

/** `getStore` returns the store of the running test. */
export function describeAttributeRemoval(getStore: () => Store): void {
  describe('removing attributes (issue 19)', () => {
    let store: Store;

    async function batch(version: 'v1' | 'v2', rows: BatchRow[], now = LATER, size = 2): Promise<BatchRecord> {
      const created = await store.createBatch({
        client: 'acme',
        version,
        batchSize: rows.length,
        parseFailures: [],
        parseFailedCount: 0,
        now,
      });
      return store.applyBatch('acme', created.batchId, chunks(rows, size), { createMissing: version === 'v2', now });
    }
    const byPcId = (id: string) => store.getProfile('acme', { kind: 'pcId', id });
    const byThirdPartyId = (id: string) => store.getProfile('acme', { kind: 'thirdPartyId', id });

    beforeEach(async () => {
      store = getStore();
      const made = await store.updateProfile('acme', row('pcId', 'p1', { a: '1', b: '2', c: '3' }), {
        createMissing: true,
        now: NOW,
      });
      assert.equal(made.status, 'updated');
      await store.updateProfile('acme', row('thirdPartyId', 'crm-1', { a: '1', b: '2' }), {
        createMissing: true,
        now: NOW,
      });
    });

    for (const version of ['v1', 'v2'] as const) {
      it(`a ${version} batch row removes the attributes it names, and leaves the others as they were`, async () => {
        const done = await batch(version, [row('pcId', 'p1', {}, ['b']), row('thirdPartyId', 'crm-1', {}, ['a'])]);
        assert.equal(done.successfulUpdates, 2);
        assert.equal(done.failedUpdates, 0);
        const p1 = await byPcId('p1');
        assert.deepEqual(view(p1), [
          ['a', '1', NOW],
          ['c', '3', NOW],
        ]);
        assert.equal(p1?.modifiedAt, LATER);
        const crm = await byThirdPartyId('crm-1');
        assert.deepEqual(view(crm), [['b', '2', NOW]]);
        assert.equal(crm?.modifiedAt, LATER);
      });
    }

    it('a single update removes by pcId, thirdPartyId and linked ECID; it answers and stores the profile without them', async () => {
      const first = await store.updateProfile('acme', row('pcId', 'p1', {}, ['a']), {
        createMissing: false,
        now: LATER,
      });
      assert.equal(first.status, 'updated');
      if (first.status !== 'updated') return;
      assert.deepEqual(view(first.profile), [
        ['b', '2', NOW],
        ['c', '3', NOW],
      ]);
      assert.equal(first.profile.modifiedAt, LATER);
      assert.deepEqual(view(await byPcId('p1')), view(first.profile));

      const second = await store.updateProfile('acme', row('thirdPartyId', 'crm-1', {}, ['b']), {
        createMissing: false,
        now: LATER,
      });
      assert.equal(second.status, 'updated');
      assert.deepEqual(view(await byThirdPartyId('crm-1')), [['a', '1', NOW]]);

      await store.linkMarketingCloudVisitorId('acme', 'p1', ECID);
      const third = await store.updateProfile(
        'acme',
        { key: { kind: 'marketingCloudVisitorId', id: ECID }, attributes: {}, remove: ['c'] },
        { createMissing: false, now: LATER + 1 },
      );
      assert.equal(third.status, 'updated');
      const p1 = await byPcId('p1');
      assert.deepEqual(view(p1), [['b', '2', NOW]]);
      assert.equal(p1?.modifiedAt, LATER + 1);
      assert.equal(p1?.marketingCloudVisitorId, ECID);
    });

    it('removing an attribute the profile lacks is no error and no change: modifiedAt stays', async () => {
      const updated = await store.updateProfile('acme', row('pcId', 'p1', {}, ['zzz']), {
        createMissing: false,
        now: LATER,
      });
      assert.equal(updated.status, 'updated');
      if (updated.status === 'updated') assert.equal(updated.profile.modifiedAt, NOW);
      const done = await batch('v1', [row('pcId', 'p1', {}, ['zzz', 'yyy']), row('thirdPartyId', 'crm-1', {}, ['c'])]);
      assert.equal(done.successfulUpdates, 2);
      assert.equal(done.failedUpdates, 0);
      const p1 = await byPcId('p1');
      assert.equal(p1?.modifiedAt, NOW);
      assert.deepEqual(Object.keys(p1!.attributes), ['a', 'b', 'c']);
      assert.equal((await byThirdPartyId('crm-1'))?.modifiedAt, NOW);
    });

    it('a row may remove some attributes and set others', async () => {
      const done = await batch('v2', [row('pcId', 'p1', { d: '4', a: '1' }, ['b', 'c'])]);
      assert.equal(done.successfulUpdates, 1);
      const p1 = await byPcId('p1');
      assert.deepEqual(view(p1), [
        ['a', '1', NOW],
        ['d', '4', LATER],
      ]);
      assert.equal(p1?.modifiedAt, LATER);
      const updated = await store.updateProfile('acme', row('thirdPartyId', 'crm-1', { b: '9' }, ['a']), {
        createMissing: false,
        now: LATER + 1,
      });
      assert.equal(updated.status, 'updated');
      if (updated.status === 'updated') assert.deepEqual(view(updated.profile), [['b', '9', LATER + 1]]);
    });

    it('removals apply before the values of the same update: a name in both is set', async () => {
      // Front ends refuse such an update (API.md 5); a store still gives it one meaning.
      await batch('v1', [row('pcId', 'p1', { a: 'new' }, ['a'])]);
      const p1 = await byPcId('p1');
      assert.deepEqual(view(p1), [
        ['b', '2', NOW],
        ['c', '3', NOW],
        ['a', 'new', LATER],
      ]);
    });

    it('rows of one batch naming one profile apply in order: removed then set, set then removed', async () => {
      const done = await batch(
        'v2',
        [
          row('pcId', 'p1', {}, ['a']),
          row('pcId', 'p1', { a: 'back' }),
          row('thirdPartyId', 'crm-1', { e: '5' }),
          row('thirdPartyId', 'crm-1', {}, ['e', 'a']),
        ],
        LATER,
        4,
      );
      assert.equal(done.successfulUpdates, 4);
      assert.deepEqual(view(await byPcId('p1')), [
        ['b', '2', NOW],
        ['c', '3', NOW],
        ['a', 'back', LATER],
      ]);
      assert.deepEqual(view(await byThirdPartyId('crm-1')), [['b', '2', NOW]]);
    });

    it('a removal-only row for a missing profile: v1 counts it not found; v2 creates an empty profile, as a row of empty values does', async () => {
      const v1 = await batch('v1', [row('pcId', 'p9', {}, ['a']), row('thirdPartyId', 'crm-9', {}, ['a'])]);
      assert.equal(v1.profilesNotFound, 2);
      assert.equal(await byPcId('p9'), null);
      const v2 = await batch('v2', [
        row('pcId', 'p9', {}, ['a']),
        row('thirdPartyId', 'crm-9', {}, ['a']),
        row('pcId', 'p8', { a: '' }),
      ]);
      assert.equal(v2.successfulUpdates, 3);
      for (const profile of [await byPcId('p9'), await byThirdPartyId('crm-9'), await byPcId('p8')]) {
        assert.deepEqual(view(profile), []);
        assert.equal(profile?.modifiedAt, LATER);
      }
      const missing = await store.updateProfile('acme', row('pcId', 'p7', {}, ['a']), {
        createMissing: false,
        now: LATER,
      });
      assert.equal(missing.status, 'notFound');
    });

    it('removing every attribute leaves the profile, empty, with its ids', async () => {
      await batch('v2', [row('thirdPartyId', 'crm-1', {}, ['a', 'b'])]);
      const crm = await byThirdPartyId('crm-1');
      assert.deepEqual(view(crm), []);
      assert.equal(crm?.thirdPartyId, 'crm-1');
      assert.equal(crm?.modifiedAt, LATER);
    });

    it('a removal of a batch being applied and a single update made meanwhile both hold', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let taken!: () => void;
      const firstTaken = new Promise<void>((resolve) => (taken = resolve));
      const created = await store.createBatch({
        client: 'acme',
        version: 'v1',
        batchSize: 2,
        parseFailures: [],
        parseFailedCount: 0,
        now: LATER,
      });
      const applying = store.applyBatch(
        'acme',
        created.batchId,
        async function* () {
          yield [row('pcId', 'p1', {}, ['a'])];
          taken();
          await gate;
          yield [row('thirdPartyId', 'crm-1', {}, ['b'])];
        },
        { createMissing: false, now: LATER },
      );
      await firstTaken;
      const updating = store.updateProfile('acme', row('pcId', 'p1', { d: '4' }, ['c']), {
        createMissing: false,
        now: LATER + 1,
      });
      release();
      const [done, updated] = await Promise.all([applying, updating]);
      assert.equal(done.successfulUpdates, 2);
      assert.equal(updated.status, 'updated');
      assert.deepEqual(
        view(await byPcId('p1'))?.map(([name, value]) => [name, value]),
        [
          ['b', '2'],
          ['d', '4'],
        ],
      );
      assert.deepEqual(view(await byThirdPartyId('crm-1')), [['a', '1', NOW]]);
    });
  });
}
