/**
 * The retention sweep with several instances on one PostgreSQL schema (issue 19, API.md 5): two
 * sweepers together delete each expired profile once, with no error, and a sweep never waits for
 * a row another transaction holds.
 */
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { AuditLog } from '../src/audit';
import { RetentionSweeper } from '../src/retention-sweeper';
import { PostgresStore } from '../src/store/postgres';
import { NOW, URL, adminQuery, dropSchemas, newSchema, requirePostgres } from './postgres-harness';

const DAY = 86_400_000;
const EXPIRED = 3000;
const FRESH = 40;

/** `count` profiles of `client` named `${prefix}N`, last modified at `at`, inserted in one statement. */
async function insertProfiles(schema: string, client: string, prefix: string, count: number, at: number) {
  await adminQuery(
    `INSERT INTO "${schema}".profiles (client, pc_id, third_party_id, attributes, modified_at)
     SELECT $1, $2 || i, 'tp-' || $2 || i, '[["a","1",0]]'::jsonb, $3 FROM generate_series(1, $4) AS i`,
    [client, prefix, at, count],
  );
}

describe('retention sweep on one PostgreSQL schema shared by two instances', function () {
  this.timeout(60_000);
  const open: PostgresStore[] = [];
  before(requirePostgres);
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  after(dropSchemas);

  async function twoStores(): Promise<[PostgresStore, PostgresStore, string]> {
    const schema = newSchema();
    const a = await PostgresStore.open(URL, { schema });
    const b = await PostgresStore.open(URL, { schema });
    open.push(a, b);
    return [a, b, schema];
  }

  it('two sweepers together delete each expired profile once, in small batches, with no error', async () => {
    const [a, b, schema] = await twoStores();
    await a.putSettings('acme', { profileRetentionDays: 30 });
    await insertProfiles(schema, 'acme', 'old', EXPIRED, NOW - 31 * DAY);
    await insertProfiles(schema, 'acme', 'new', FRESH, NOW - 29 * DAY);
    await insertProfiles(schema, 'globex', 'old', 10, NOW - 31 * DAY);
    const errors: unknown[] = [];
    const sweeper = (store: PostgresStore) =>
      new RetentionSweeper({
        store,
        clients: ['acme', 'globex'],
        audit: new AuditLog({ store, clock: () => NOW }),
        clock: () => NOW,
        batchSize: 100,
        onError: (error) => errors.push(error),
      });
    const [fromA, fromB] = await Promise.all([sweeper(a).sweep(), sweeper(b).sweep()]);
    assert.deepEqual(errors, []);
    assert.equal((fromA['acme'] ?? 0) + (fromB['acme'] ?? 0), EXPIRED, 'each expired profile deleted once');
    assert.equal(fromA['globex'], undefined, 'retention null: kept');
    const left = await adminQuery<{ client: string; n: string }>(
      `SELECT client, count(*) AS n FROM "${schema}".profiles GROUP BY client ORDER BY client`,
    );
    assert.deepEqual(
      left.map((r) => [r.client, Number(r.n)]),
      [
        ['acme', FRESH],
        ['globex', 10],
      ],
    );
    const events = (await a.listAudit('acme', 10)).filter((e) => e.action === 'profiles.expired');
    assert.equal(
      events.reduce((sum, e) => sum + (e.details['count'] as number), 0),
      EXPIRED,
      'the audit counts add up',
    );
    assert.ok(events.length >= 1 && events.length <= 2, 'one event per sweep that deleted something');
  });

  it('skips a row another transaction holds instead of waiting for it; a later sweep takes it', async () => {
    const [a, , schema] = await twoStores();
    await insertProfiles(schema, 'acme', 'old', 3, NOW - 31 * DAY);
    const holder = new Client({ connectionString: URL });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${schema}".profiles WHERE client = 'acme' AND pc_id = 'old1' FOR UPDATE`);
      assert.equal(await a.deleteExpiredProfiles('acme', NOW - 30 * DAY, 500), 2);
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }
    assert.equal((await a.getProfile('acme', { kind: 'pcId', id: 'old1' }))?.pcId, 'old1');
    assert.equal(await a.deleteExpiredProfiles('acme', NOW - 30 * DAY, 500), 1);
    assert.equal(await a.getProfile('acme', { kind: 'thirdPartyId', id: 'tp-old1' }), null);
  });
});
