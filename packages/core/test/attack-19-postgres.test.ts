/**
 * What an attack on issue 19 (profile deletion) found in the PostgreSQL store: a deletion that
 * commits while a batch row already read the profile's pcId must not bring that pcId back.
 */
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { PostgresStore } from '../src/store/postgres';
import type { NewBatch } from '../src/store/types';
import { NOW, URL, adminQuery, chunks, dropSchemas, newSchema, requirePostgres, row, until } from './postgres-harness';

function newBatch(version: 'v1' | 'v2', batchSize: number): NewBatch {
  return { client: 'acme', version, batchSize, parseFailures: [], parseFailedCount: 0, now: NOW };
}

describe('attack on issue 19: PostgreSQL deletion racing a write', function () {
  this.timeout(30_000);
  const open: PostgresStore[] = [];
  before(requirePostgres);
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  after(dropSchemas);

  /**
   * A deletion (held uncommitted by a connection of the test, as another instance's DELETE would
   * be) locks the profile's row; `write` starts, reads the thirdPartyId's pcId, and waits on that
   * lock; the deletion commits; the write then finds no row. It must create a new profile with a
   * new pcId (API.md 5), never one with the deleted pcId.
   */
  async function raceDeletion(write: (store: PostgresStore) => Promise<unknown>): Promise<void> {
    const schema = newSchema();
    const store = await PostgresStore.open(URL, { schema });
    open.push(store);
    await store.updateProfile('acme', row('thirdPartyId', 'u1', { seed: 's' }), { createMissing: true, now: NOW });
    const pcId = (await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' }))!.pcId;
    const deleter = new Client({ connectionString: URL });
    await deleter.connect();
    try {
      await deleter.query('BEGIN');
      await deleter.query(`DELETE FROM "${schema}".profiles WHERE client = 'acme' AND pc_id = $1`, [pcId]);
      const writing = write(store);
      await until(
        'the write to wait on the deleted row',
        async () =>
          (
            await adminQuery<{ n: string }>(
              `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
              [`%"${schema}".profiles%FOR UPDATE%`],
            )
          )[0]!.n !== '0',
        10_000,
      );
      await deleter.query('COMMIT');
      await writing;
    } finally {
      await deleter.end();
    }
    const after = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' });
    assert.ok(after, 'the v2 row creates the profile again');
    assert.notEqual(after.pcId, pcId, 'the deleted pcId came back');
    assert.deepEqual(Object.keys(after.attributes), ['plan']);
    assert.equal(await store.getProfile('acme', { kind: 'pcId', id: pcId }), null);
  }

  it('a v2 batch row by thirdPartyId makes a new pcId, not the deleted one', async () => {
    await raceDeletion(async (store) => {
      const batch = await store.createBatch(newBatch('v2', 1));
      const done = await store.applyBatch(
        'acme',
        batch.batchId,
        chunks([row('thirdPartyId', 'u1', { plan: 'b' })], 1),
        {
          createMissing: true,
          now: NOW + 1,
        },
      );
      assert.equal(done.successfulUpdates, 1);
    });
  });

  // A DELETE of a profile a batch has locked waited for the batch holding a pooled connection:
  // ten of them (the pool's size) left no connection for anything else, and every other request
  // of the instance (an unrelated fetch, an admin read) failed after 10 s with 500.
  it('deletions waiting for a locked profile hold no pooled connection: other reads go on meanwhile', async () => {
    const schema = newSchema();
    const store = await PostgresStore.open(URL, { schema, poolSize: 2 });
    open.push(store);
    await store.updateProfile('acme', row('thirdPartyId', 'u1', { seed: 's' }), { createMissing: true, now: NOW });
    await store.updateProfile('acme', row('thirdPartyId', 'bystander', { a: '1' }), { createMissing: true, now: NOW });
    const locker = new Client({ connectionString: URL });
    await locker.connect();
    try {
      // As a batch applying a row of u1 holds it until it commits.
      await locker.query('BEGIN');
      await locker.query(`SELECT 1 FROM "${schema}".profiles WHERE third_party_id = 'u1' FOR UPDATE`);
      let settled = 0;
      const deletions = [1, 2, 3, 4].map(() =>
        store.deleteProfile('acme', { kind: 'thirdPartyId', id: 'u1' }).finally(() => settled++),
      );
      // Four deletions on a pool of two: the reads below would wait for a free connection and
      // fail after the pool's 10 s connection timeout.
      for (let i = 0; i < 3; i++) {
        const seen = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'bystander' });
        assert.equal(seen?.attributes['a']?.value, '1');
      }
      assert.equal(settled, 0, 'no deletion ends while the profile is locked');
      await locker.query('COMMIT');
      const results = await Promise.all(deletions);
      assert.equal(results.filter((r) => r !== null).length, 1, 'one deletion deletes, the others find nothing');
    } finally {
      await locker.end();
    }
    assert.equal(await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' }), null);
  });

  it('a single write by thirdPartyId that creates makes a new pcId, not the deleted one', async () => {
    await raceDeletion((store) =>
      store.updateProfile('acme', row('thirdPartyId', 'u1', { plan: 'b' }), { createMissing: true, now: NOW + 1 }),
    );
  });
});
