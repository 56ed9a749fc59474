/**
 * Issue 18: a batch chunk's statements must reach profiles by key (one index probe per row),
 * never by reading every profile of the client, whatever the planner's statistics say. A
 * client's first batch runs in one transaction whose rows no statistics know; with
 * `client = $1 AND pc_id = ANY($2)` the planner then read the whole client through the
 * (client, modified_at) index, per chunk. The statements a batch sends are recorded and
 * EXPLAINed on a table whose statistics are missing (autovacuum off, never analyzed).
 */
import assert from 'node:assert/strict';
import { Client } from 'pg';
import type { QueryConfig } from 'pg';
import sinon from 'sinon';
import { pcIdRandomness } from '../src/profiles/ids';
import { PostgresStore } from '../src/store/postgres';
import type { BatchRow } from '../src/store/types';
import { NOW, URL, adminQuery, chunks, dropSchemas, newSchema, requirePostgres, row } from './postgres-harness';

/** Profiles stored before the batch: enough that reading them all is the planner's wrong choice. */
const STORED = 20_000;
/** Indexes that find a profile by its key; `profiles_modified` (client, modified_at) is not one. */
const KEY_INDEXES = new Set(['profiles_pkey', 'profiles_third_party']);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

/** How each scan of the profiles table in `plan` reads it, when not by key. */
function scansNotByKey(plan: PlanNode, found: string[] = []): string[] {
  const type = plan['Node Type'];
  if (plan['Relation Name'] === 'profiles' && type === 'Seq Scan') found.push('Seq Scan on profiles');
  if (plan['Index Name'] !== undefined && plan['Index Name'].startsWith('profiles')) {
    const cond = plan['Index Cond'] ?? '';
    if (!KEY_INDEXES.has(plan['Index Name']) || !/pc_id|third_party_id/.test(cond)) {
      found.push(`${type} on ${plan['Index Name']} (${cond})`);
    }
  }
  for (const child of plan.Plans ?? []) scansNotByKey(child, found);
  return found;
}

describe('PostgresStore batch statements (issue 18)', function () {
  this.timeout(60_000);

  before(requirePostgres);
  after(dropSchemas);

  it('reach profiles by key, with or without statistics', async () => {
    const schema = newSchema();
    const store = await PostgresStore.open(URL, { schema });
    const recorded: Array<{ text: string; values: unknown[] }> = [];
    const query = Client.prototype.query;
    try {
      await adminQuery(`ALTER TABLE "${schema}".profiles SET (autovacuum_enabled = false)`);
      await adminQuery(
        `INSERT INTO "${schema}".profiles (client, pc_id, third_party_id, attributes, modified_at)
         SELECT 'acme', 'pc' || g, 'tp' || g, '[["a","1",0]]', $1 FROM generate_series(1, ${STORED}) g`,
        [NOW],
      );
      const rows: BatchRow[] = [];
      for (let i = 1; i <= 100; i++) {
        rows.push(row('thirdPartyId', `tp${i * 97}`, { a: `x${i}` })); // stored, by thirdPartyId
        rows.push(row('pcId', `pc${i * 89}`, { b: `y${i}` })); // stored, by pcId
        rows.push(row('thirdPartyId', `new${i}`, { c: `z${i}` })); // new
      }
      rows.push(row('pcId', 'pc7', { big: 'w'.repeat(70_000) })); // over the limit on its own
      // Record what the batch sends (its statements that name the profiles table).
      Client.prototype.query = function (this: Client, ...args: unknown[]) {
        const [text, values] = args as [string | QueryConfig, unknown[] | undefined];
        const sql = typeof text === 'string' ? text : text.text;
        if (sql.includes('.profiles')) recorded.push({ text: sql, values: values ?? [] });
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof query;
      const batch = await store.createBatch({
        client: 'acme',
        version: 'v2',
        batchSize: rows.length,
        parseFailures: [],
        parseFailedCount: 0,
        now: NOW,
      });
      const done = await store.applyBatch('acme', batch.batchId, chunks(rows, 1000), {
        createMissing: true,
        now: NOW + 1000,
      });
      // A chunk keyed by thirdPartyIds only takes another statement (insertOrLinkSql).
      const byThirdPartyId = [...Array(100).keys()].flatMap((i) => [
        row('thirdPartyId', `tp${i * 101 + 3}`, { d: `v${i}` }),
        row('thirdPartyId', `newer${i}`, { d: `v${i}` }),
      ]);
      const second = await store.createBatch({
        client: 'acme',
        version: 'v2',
        batchSize: byThirdPartyId.length,
        parseFailures: [],
        parseFailedCount: 0,
        now: NOW,
      });
      const done2 = await store.applyBatch('acme', second.batchId, chunks(byThirdPartyId, 1000), {
        createMissing: true,
        now: NOW + 2000,
      });
      Client.prototype.query = query;
      assert.equal(done.successfulUpdates, 300);
      assert.equal(done.failedUpdates, 1);
      assert.equal(done2.successfulUpdates, 200);
      assert.ok(recorded.length >= 3, `recorded ${recorded.length} statements`);

      const db = new Client({ connectionString: URL });
      await db.connect();
      try {
        for (const analyzed of [false, true]) {
          if (analyzed) await db.query(`ANALYZE "${schema}".profiles`);
          for (const { text, values } of recorded) {
            const { rows: plan } = await db.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
              `EXPLAIN (FORMAT JSON) ${text}`,
              values,
            );
            const bad = scansNotByKey(plan[0]!['QUERY PLAN'][0]!.Plan);
            const first = text.replace(/\s+/g, ' ').slice(0, 80);
            assert.deepEqual(bad, [], `${analyzed ? 'analyzed' : 'no statistics'}: ${first}`);
          }
        }
      } finally {
        await db.end();
      }
    } finally {
      Client.prototype.query = query;
      await store.close();
    }
  });

  it('draws no pcId twice in one batch, so no chunk writes its new profiles twice', async () => {
    // Every row of a batch shares one `now`: a 500,000-row batch drew about a thousand random
    // pcIds an earlier chunk had taken, each found by the INSERT and written in a second round.
    const store = await PostgresStore.open(URL, { schema: newSchema(), batchChunkRows: 1 });
    const query = Client.prototype.query;
    let inserts = 0;
    try {
      const rows = ['a', 'b', 'c'].map((id) => row('thirdPartyId', id, { who: id }));
      const batch = await store.createBatch({
        client: 'acme',
        version: 'v2',
        batchSize: rows.length,
        parseFailures: [],
        parseFailedCount: 0,
        now: NOW,
      });
      // The first draw of each chunk (one row each) is the same.
      const real = pcIdRandomness.next4;
      let draws = 0;
      sinon.stub(pcIdRandomness, 'next4').callsFake(() => (draws++ < 3 ? Buffer.from([1, 2, 3, 4]) : real()));
      Client.prototype.query = function (this: Client, ...args: unknown[]) {
        const text = args[0] as string | QueryConfig;
        if ((typeof text === 'string' ? text : text.text).includes('INSERT INTO')) inserts++;
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof query;
      const done = await store.applyBatch('acme', batch.batchId, chunks(rows, 1), { createMissing: true, now: NOW });
      Client.prototype.query = query;
      sinon.restore();
      assert.equal(done.successfulUpdates, 3);
      const pcIds = new Set<string>();
      for (const id of ['a', 'b', 'c']) {
        const profile = await store.getProfile('acme', { kind: 'thirdPartyId', id });
        assert.equal(profile?.attributes['who']?.value, id);
        pcIds.add(profile!.pcId);
      }
      assert.equal(pcIds.size, 3);
      assert.equal(inserts, 3, 'one INSERT per chunk');
    } finally {
      Client.prototype.query = query;
      sinon.restore();
      await store.close();
    }
  });
});
