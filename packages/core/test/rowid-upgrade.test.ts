/**
 * Databases written before the rowid layout of profiles (issue 18) are upgraded in place: every
 * profile keeps its ids, ECID link and attributes, the unique keys still hold, export still pages
 * by pcId, and a batch applied afterwards merges into the old profiles.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/store/sqlite';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite-schema';
import { NOW } from './postgres-harness';

const ECID = '12345678901234567890123456789012345678';
/** The last schema version written with profiles keyed WITHOUT ROWID by (client, pc_id). */
const SQLITE_BEFORE = 5;

describe('upgrading a SQLite database written before the rowid layout of profiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'profilegate-rowid-upgrade-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every profile, link and attribute, and its unique keys', async () => {
    const path = join(dir, 'v5.db');
    const legacy = new Database(path);
    for (const migration of SQLITE_MIGRATIONS.slice(0, SQLITE_BEFORE)) legacy.exec(migration);
    legacy.pragma(`user_version = ${SQLITE_BEFORE}`);
    const insert = legacy.prepare(
      `INSERT INTO profiles (client, pc_id, third_party_id, attributes, modified_at, marketing_cloud_visitor_id)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    insert.run(
      'acme',
      'p2',
      'u2',
      JSON.stringify({ tier: ['silver', NOW - 5], city: ['Oslo', NOW - 3] }),
      NOW - 3,
      null,
    );
    insert.run('acme', 'p1', null, JSON.stringify({ tier: ['gold', NOW - 9] }), NOW - 9, ECID);
    insert.run('acme', 'p3', 'u3', JSON.stringify({}), NOW - 1, null);
    insert.run('other', 'p1', 'u2', JSON.stringify({ tier: ['bronze', NOW] }), NOW, ECID);
    legacy.close();

    const store = new SqliteStore(path);
    try {
      const p1 = await store.getProfile('acme', { kind: 'marketingCloudVisitorId', id: ECID });
      assert.deepEqual(
        { ...p1, attributes: { ...p1?.attributes } },
        {
          pcId: 'p1',
          marketingCloudVisitorId: ECID,
          attributes: { tier: { value: 'gold', modifiedAt: NOW - 9 } },
          modifiedAt: NOW - 9,
        },
      );
      const u2 = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u2' });
      assert.deepEqual(
        { ...u2, attributes: { ...u2?.attributes } },
        {
          pcId: 'p2',
          thirdPartyId: 'u2',
          attributes: { tier: { value: 'silver', modifiedAt: NOW - 5 }, city: { value: 'Oslo', modifiedAt: NOW - 3 } },
          modifiedAt: NOW - 3,
        },
      );
      assert.equal((await store.getProfile('other', { kind: 'thirdPartyId', id: 'u2' }))?.pcId, 'p1');
      // Export pages by pcId, per client.
      const pages: string[][] = [];
      for await (const page of store.exportProfiles('acme', 2)) pages.push(page.map((p) => p.pcId));
      assert.deepEqual(pages, [['p1', 'p2'], ['p3']]);
      // A batch merges into the old profiles and creates new ones beside them.
      const batch = await store.createBatch({
        client: 'acme',
        version: 'v2',
        batchSize: 2,
        parseFailures: [],
        parseFailedCount: 0,
        parseFailedRowBytes: 0,
        now: NOW,
      });
      const rows = async function* () {
        yield [
          { key: { kind: 'thirdPartyId' as const, id: 'u2' }, attributes: { tier: 'gold' } },
          { key: { kind: 'thirdPartyId' as const, id: 'u9' }, attributes: { tier: 'new' } },
        ];
      };
      const done = await store.applyBatch('acme', batch.batchId, rows, { createMissing: true, now: NOW });
      assert.equal(done.successfulUpdates, 2);
      const merged = await store.getProfile('acme', { kind: 'pcId', id: 'p2' });
      assert.equal(merged?.attributes['tier']?.value, 'gold');
      assert.equal(merged?.attributes['city']?.value, 'Oslo');
      assert.equal(
        (await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u9' }))?.attributes['tier']?.value,
        'new',
      );
    } finally {
      await store.close();
    }

    const db = new Database(path);
    try {
      assert.equal(db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length);
      // A rowid table now: new profiles are appended, and the keys are unique indexes beside it.
      assert.equal((db.prepare('SELECT count(rowid) AS n FROM profiles').get() as { n: number }).n, 5);
      const add = db.prepare(
        'INSERT INTO profiles (client, pc_id, third_party_id, attributes, modified_at, marketing_cloud_visitor_id) VALUES (?, ?, ?, ?, ?, ?)',
      );
      assert.throws(() => add.run('acme', 'p1', null, '{}', NOW, null), /UNIQUE constraint failed/);
      assert.throws(() => add.run('acme', 'p8', 'u3', '{}', NOW, null), /UNIQUE constraint failed/);
      assert.throws(() => add.run('acme', 'p8', null, '{}', NOW, ECID), /UNIQUE constraint failed/);
      add.run('acme', 'p8', null, '{}', NOW, null);
      const plan = db
        .prepare("EXPLAIN QUERY PLAN SELECT * FROM profiles WHERE client = 'acme' AND pc_id > 'p1' ORDER BY pc_id")
        .all() as Array<{ detail: string }>;
      assert.ok(!plan.some((step) => /TEMP B-TREE/.test(step.detail)), JSON.stringify(plan));
    } finally {
      db.close();
    }
  });
});
