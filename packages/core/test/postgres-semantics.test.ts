/**
 * The PostgreSQL store merges attributes in SQL; the other stores use mergeAttributes in
 * JavaScript. These tests check that both give the same profiles and batch counters.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryStore } from '../src/store/memory';
import { PostgresStore } from '../src/store/postgres';
import { NOW, URL, chunks, dropSchemas, newSchema, requirePostgres, row } from './postgres-harness';
import { entries, run, stepArb } from './store-differential';

describe('PostgresStore merges like the other stores', function () {
  this.timeout(60_000);
  let pg: PostgresStore;

  before(requirePostgres);
  before(async () => {
    pg = await PostgresStore.open(URL, { schema: newSchema(), batchChunkRows: 3 });
  });
  after(async () => {
    await pg?.close();
    await dropSchemas();
  });

  it('gives the same profiles and batch counters as MemoryStore for random updates and batches', async () => {
    let run_ = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 6 }), async (steps) => {
        const client = `c${++run_}`;
        const memory = new MemoryStore();
        assert.deepEqual(await run(pg, client, steps), await run(memory, client, steps));
      }),
      { numRuns: 40 },
    );
  });

  it('applies rows naming one profile by thirdPartyId and by pcId in their order', async () => {
    const client = 'alias';
    await pg.updateProfile(client, row('thirdPartyId', 'u1', { a: '0' }), { createMissing: true, now: NOW });
    const pcId = (await pg.getProfile(client, { kind: 'thirdPartyId', id: 'u1' }))!.pcId;
    const batch = await pg.createBatch({
      client,
      version: 'v1',
      batchSize: 4,
      parseFailures: [],
      parseFailedCount: 0,
      now: NOW,
    });
    const rows = [
      row('thirdPartyId', 'u1', { a: '1', b: '1' }),
      row('pcId', pcId, { a: '2' }),
      row('thirdPartyId', 'u1', { b: '3' }),
      row('pcId', pcId, { c: '4' }),
    ];
    const done = await pg.applyBatch(client, batch.batchId, chunks(rows, 4), { createMissing: false, now: NOW + 1 });
    assert.equal(done.successfulUpdates, 4);
    const profile = await pg.getProfile(client, { kind: 'pcId', id: pcId });
    assert.deepEqual(entries(profile!), [
      ['a', '2', NOW + 1],
      ['b', '3', NOW + 1],
      ['c', '4', NOW + 1],
    ]);
  });
});
