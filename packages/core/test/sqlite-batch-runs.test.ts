/**
 * While a batch is staged, SqliteBatchRuns keeps the profiles other writes touch, for its merge to
 * check. A stage can last as long as a slow upload, so that list is bounded: past the bound the
 * batch is applied again directly under the lock (always right, only slower) instead of merged.
 */
import assert from 'node:assert/strict';
import type { SqliteBatchEngines } from '../src/store/sqlite-batch';
import { SqliteBatchRuns } from '../src/store/sqlite-batch-runs';
import type { TouchedProfile } from '../src/store/sqlite-stage';
import type { BatchRecord, BatchRows } from '../src/store/types';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const record = (batchId: string): BatchRecord => ({
  batchId,
  client: 'acme',
  version: 'v2',
  status: 'complete',
  batchSize: 1,
  consumedCount: 1,
  successfulUpdates: 1,
  profilesNotFound: 0,
  failedUpdates: 0,
  failures: [],
  createdAt: NOW,
  completedAt: NOW,
});

/** An engine that records what it is asked, with a stage that ends when the test says so. */
function fakeEngine() {
  const calls: string[] = [];
  let merged: TouchedProfile[] = [];
  let endStage: () => void = () => undefined;
  const engine = {
    stage: () => {
      calls.push('stage');
      return new Promise<void>((resolve) => (endStage = resolve));
    },
    merge: async (touched: TouchedProfile[]) => {
      calls.push('merge');
      merged = touched;
      return record('b1');
    },
    discard: async () => void calls.push('discard'),
    apply: async (_client: string, batchId: string) => {
      calls.push('apply');
      return record(batchId);
    },
  };
  const engines = { get: () => engine, close: async () => undefined } as unknown as SqliteBatchEngines;
  return { engines, calls, merged: () => merged, endStage: () => endStage() };
}

const host = { checkOpen: () => undefined, write: <T>(task: () => Promise<T>) => task(), finished: () => undefined };
const rows: BatchRows = async function* () {};
const touch = (runs: SqliteBatchRuns, n: number) => {
  for (let i = 0; i < n; i++) runs.touch({ client: 'acme', pcId: `p${i}`, thirdPartyId: `t${i}` });
};

describe('SqliteBatchRuns: profiles touched while a batch is staged', () => {
  it('merges with every touched profile while they are at most the bound', async () => {
    const fake = fakeEngine();
    const runs = new SqliteBatchRuns(fake.engines, host, { maxTouched: 3 });
    const applying = runs.apply('acme', 'b1', rows, { createMissing: true, now: NOW });
    await new Promise((resolve) => setImmediate(resolve));
    touch(runs, 3);
    fake.endStage();
    assert.equal((await applying).status, 'complete');
    assert.deepEqual(fake.calls, ['stage', 'merge']);
    assert.deepEqual(
      fake.merged().map((t) => t.pcId),
      ['p0', 'p1', 'p2'],
    );
  });

  it('past the bound, drops the list and applies the batch directly under the lock', async () => {
    const fake = fakeEngine();
    const runs = new SqliteBatchRuns(fake.engines, host, { maxTouched: 3 });
    const applying = runs.apply('acme', 'b1', rows, { createMissing: true, now: NOW });
    await new Promise((resolve) => setImmediate(resolve));
    touch(runs, 4);
    fake.endStage();
    assert.equal((await applying).status, 'complete');
    assert.deepEqual(fake.calls, ['stage', 'discard', 'apply']);
  });
});
