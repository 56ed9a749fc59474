/**
 * The SQLite store works a batch out in its stage (sqlite-stage.ts: staged keys found through
 * hashes kept in memory, stored profiles read a chunk at a time, new profiles encoded straight from
 * the row) and merges it; these tests hold it to MemoryStore's results for random scenarios of
 * single updates and batches, with rows handed to the worker as objects and still encoded (as a
 * spooled batch's are), and with batches applied on the main thread.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { MemoryStore } from '../src/store/memory';
import { SqliteStore } from '../src/store/sqlite';
import { run, stepArb } from './store-differential';

const root = mkdtempSync(join(tmpdir(), 'profilegate-sqlite-semantics-'));
after(() => rmSync(root, { recursive: true, force: true }));

for (const [name, batchWorker, encoded] of [
  ['with its batch worker, rows as objects', true, false],
  ['with its batch worker, rows still encoded', true, true],
  ['applying batches on the main thread', false, false],
] as const) {
  describe(`SqliteStore ${name} merges like MemoryStore`, function () {
    this.timeout(120_000);
    let store: SqliteStore;
    before(() => {
      store = new SqliteStore(join(root, `${name.replace(/\W+/g, '-')}.db`), { batchWorker });
    });
    after(async () => {
      await store.close();
    });

    it('gives the same profiles and batch counters for random updates and batches', async () => {
      let run_ = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 6 }), async (steps) => {
          const client = `c${++run_}`;
          assert.deepEqual(await run(store, client, steps, { encoded }), await run(new MemoryStore(), client, steps));
        }),
        { numRuns: 60 },
      );
    });
  });
}
