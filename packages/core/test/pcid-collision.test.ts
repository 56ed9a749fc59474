/**
 * A thirdPartyId row that creates a profile draws a random pcId; every row of a batch shares one
 * `now`, so two rows can draw the same one (about a thousand times in a 500,000-row batch, found
 * by the reliability suite's crash trials). The second must get another pcId, never merge into
 * the first profile. Randomness is forced to repeat here so the test does not depend on luck.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sinon from 'sinon';
import { pcIdRandomness } from '../src/profiles/ids';
import { MemoryStore } from '../src/store/memory';
import { SqliteStore } from '../src/store/sqlite';
import type { BatchRow, Store } from '../src/store/types';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);

/** Makes the next `times` draws of newPcId's randomness identical. */
function repeatPcIdDraws(times: number): sinon.SinonStub {
  const real = pcIdRandomness.next4;
  let left = times;
  return sinon.stub(pcIdRandomness, 'next4').callsFake(() => (left-- > 0 ? Buffer.from([1, 2, 3, 4]) : real()));
}

function once(rows: BatchRow[]): () => AsyncGenerator<BatchRow[]> {
  return async function* () {
    yield rows;
  };
}

/** A v2 batch of `size` rows of client acme, recorded at NOW. */
function record(store: Store, size: number) {
  return store.createBatch({
    client: 'acme',
    version: 'v2',
    batchSize: size,
    parseFailures: [],
    parseFailedCount: 0,
    now: NOW,
  });
}

const root = mkdtempSync(join(tmpdir(), 'profilegate-pcid-'));
after(() => rmSync(root, { recursive: true, force: true }));

for (const [name, create] of [
  ['MemoryStore', () => new MemoryStore()],
  // Batches applied on this thread (the worker thread's draws cannot be stubbed from here).
  ['SqliteStore', () => new SqliteStore(join(root, `pcid-${Date.now()}-${Math.random()}.db`), { batchWorker: false })],
  // Batches applied in the worker: new profiles are drawn on this thread (freshRowOf), so the
  // repeats reach the worker, whose insert finds the pcId taken and draws again.
  ['SqliteStore with its batch worker', () => new SqliteStore(join(root, `pcid-w-${Date.now()}-${Math.random()}.db`))],
] as Array<[string, () => Store]>) {
  describe(`${name}: a pcId drawn twice`, () => {
    let store: Store;
    beforeEach(() => {
      store = create();
    });
    afterEach(async () => {
      sinon.restore();
      await store.close();
    });

    it('in one batch: each thirdPartyId keeps its own profile', async () => {
      const rows: BatchRow[] = ['a', 'b', 'c'].map((id) => ({
        key: { kind: 'thirdPartyId', id },
        attributes: { who: id },
      }));
      const batch = await record(store, 3);
      repeatPcIdDraws(3);
      const done = await store.applyBatch('acme', batch.batchId, once(rows), { createMissing: true, now: NOW });
      sinon.restore();
      assert.equal(done.successfulUpdates, 3);
      const pcIds = new Set<string>();
      for (const id of ['a', 'b', 'c']) {
        const profile = await store.getProfile('acme', { kind: 'thirdPartyId', id });
        assert.equal(profile?.attributes['who']?.value, id, `profile of ${id}`);
        pcIds.add(profile!.pcId);
      }
      assert.equal(pcIds.size, 3, 'three distinct pcIds');
    });

    it('against a stored profile: a batch row that creates gets another pcId', async () => {
      // The stored profile was created in the batch's millisecond, so its pcId has the prefix
      // every pcId the batch draws has (the SQLite stage reads those stored pcIds once, ahead).
      repeatPcIdDraws(2);
      const first = await store.updateProfile(
        'acme',
        { key: { kind: 'thirdPartyId', id: 'first' }, attributes: { who: 'first' } },
        { createMissing: true, now: NOW },
      );
      const rows: BatchRow[] = [{ key: { kind: 'thirdPartyId', id: 'second' }, attributes: { who: 'second' } }];
      const batch = await record(store, 1);
      const done = await store.applyBatch('acme', batch.batchId, once(rows), { createMissing: true, now: NOW });
      sinon.restore();
      assert.ok(first.status === 'updated');
      assert.equal(done.successfulUpdates, 1);
      const second = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'second' });
      assert.notEqual(second?.pcId, first.profile.pcId);
      const stored = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'first' });
      assert.equal(stored?.attributes['who']?.value, 'first', 'the first visitor keeps their attributes');
      assert.equal(stored?.pcId, first.profile.pcId);
    });

    it('against a stored profile: a single update that creates gets another pcId', async () => {
      repeatPcIdDraws(2);
      const first = await store.updateProfile(
        'acme',
        { key: { kind: 'thirdPartyId', id: 'first' }, attributes: { who: 'first' } },
        { createMissing: true, now: NOW },
      );
      const second = await store.updateProfile(
        'acme',
        { key: { kind: 'thirdPartyId', id: 'second' }, attributes: { who: 'second' } },
        { createMissing: true, now: NOW },
      );
      sinon.restore();
      assert.ok(first.status === 'updated' && second.status === 'updated');
      assert.notEqual(first.profile.pcId, second.profile.pcId);
      const stored = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'first' });
      assert.equal(stored?.attributes['who']?.value, 'first', 'the first visitor keeps their attributes');
    });
  });
}

/**
 * A row that would create a profile and is refused (over 64 KiB on its own) still counts as read:
 * when a single update creates that profile while the batch is staged, the batch is applied again
 * against it, and the refusal quotes the size with the profile's own attributes, as MemoryStore's
 * does when the update comes first.
 */
describe('SqliteStore with its batch worker: a refused new-profile row and a single update meanwhile', () => {
  let store: SqliteStore;
  beforeEach(() => {
    store = new SqliteStore(join(root, `refused-${Math.random()}.db`));
  });
  afterEach(async () => {
    await store.close();
  });

  it('refuses the row against the profile the update created', async () => {
    const huge = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`h${i}`, 'z'.repeat(5000)]));
    const rows: BatchRow[] = [
      { key: { kind: 'thirdPartyId', id: 'first' }, attributes: { a: '1' } },
      { key: { kind: 'thirdPartyId', id: 'late' }, attributes: huge },
    ];
    const batch = await record(store, 2);
    let first = true;
    const chunks = async function* () {
      yield rows.slice(0, 1);
      // The first reading only: a fallback reads the rows again under the write lock.
      if (first) {
        first = false;
        await store.updateProfile(
          'acme',
          { key: { kind: 'thirdPartyId', id: 'late' }, attributes: { mine: 'x'.repeat(100) } },
          { createMissing: true, now: NOW },
        );
      }
      yield rows.slice(1);
    };
    const done = await store.applyBatch('acme', batch.batchId, chunks, { createMissing: true, now: NOW });

    const memory = new MemoryStore();
    await memory.updateProfile(
      'acme',
      { key: { kind: 'thirdPartyId', id: 'late' }, attributes: { mine: 'x'.repeat(100) } },
      { createMissing: true, now: NOW },
    );
    const expected = await record(memory, 2);
    const want = await memory.applyBatch('acme', expected.batchId, once(rows), { createMissing: true, now: NOW });
    assert.equal(done.failedUpdates, 1);
    assert.deepEqual(done.failures, want.failures);
  });
});
