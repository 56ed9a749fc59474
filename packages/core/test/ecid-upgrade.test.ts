/**
 * Databases written before profiles carried an Experience Cloud ID (issue 16.4) are upgraded in
 * place: their profiles survive, can be linked, and the database itself refuses two profiles of
 * one client holding the same ECID.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PostgresStore } from '../src/store/postgres';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres-schema';
import { SqliteStore } from '../src/store/sqlite';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite-schema';
import type { Store } from '../src/store/types';
import { NOW, URL, adminQuery, dropSchemas, newSchema, requirePostgres } from './postgres-harness';

const ECID = '12345678901234567890123456789012345678';
/** The last schema versions written before ECIDs. */
const SQLITE_BEFORE = 3;
const POSTGRES_BEFORE = 4;

/** What every upgraded store must show: the old profiles as they were, linkable and found by ECID. */
async function checkUpgraded(store: Store): Promise<void> {
  const p1 = await store.getProfile('acme', { kind: 'pcId', id: 'p1' });
  assert.deepEqual(
    { ...p1, attributes: { ...p1?.attributes } },
    { pcId: 'p1', attributes: { tier: { value: 'gold', modifiedAt: NOW } }, modifiedAt: NOW },
  );
  const u1 = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' });
  assert.equal(u1?.pcId, 'p2');
  assert.equal(u1?.attributes['tier']?.value, 'silver');
  assert.equal(await store.getProfile('acme', { kind: 'marketingCloudVisitorId', id: ECID }), null);

  assert.equal((await store.linkMarketingCloudVisitorId('acme', 'p1', ECID)).status, 'linked');
  assert.equal((await store.getProfile('acme', { kind: 'marketingCloudVisitorId', id: ECID }))?.pcId, 'p1');
  const moved = await store.linkMarketingCloudVisitorId('acme', 'p2', ECID);
  assert.equal((moved as { movedFrom: string | null }).movedFrom, 'p1');
  const byEcid = await store.getProfile('acme', { kind: 'marketingCloudVisitorId', id: ECID });
  assert.equal(byEcid?.thirdPartyId, 'u1');
  assert.equal(byEcid?.attributes['tier']?.value, 'silver');
}

describe('upgrading a SQLite database written before ECIDs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'profilegate-ecid-upgrade-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps its profiles, links them, and holds a unique index of ECIDs per client', async () => {
    const path = join(dir, 'v3.db');
    const legacy = new Database(path);
    for (const migration of SQLITE_MIGRATIONS.slice(0, SQLITE_BEFORE)) legacy.exec(migration);
    legacy.pragma(`user_version = ${SQLITE_BEFORE}`);
    const insert = legacy.prepare(
      'INSERT INTO profiles (client, pc_id, third_party_id, attributes, modified_at) VALUES (?, ?, ?, ?, ?)',
    );
    insert.run('acme', 'p1', null, JSON.stringify({ tier: ['gold', NOW] }), NOW);
    insert.run('acme', 'p2', 'u1', JSON.stringify({ tier: ['silver', NOW] }), NOW);
    legacy.close();

    const store = new SqliteStore(path);
    try {
      await checkUpgraded(store);
    } finally {
      await store.close();
    }
    const db = new Database(path);
    try {
      assert.equal(db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length);
      assert.throws(
        () => db.prepare('UPDATE profiles SET marketing_cloud_visitor_id = ? WHERE pc_id = ?').run(ECID, 'p1'),
        /UNIQUE constraint failed/,
      );
      db.prepare(
        'INSERT INTO profiles (client, pc_id, attributes, modified_at, marketing_cloud_visitor_id) VALUES (?, ?, ?, ?, ?)',
      ).run('other', 'p1', '{}', NOW, ECID);
    } finally {
      db.close();
    }
  });
});

describe('upgrading a PostgreSQL schema written before ECIDs', function () {
  this.timeout(30_000);
  before(requirePostgres);
  after(dropSchemas);

  it('keeps its profiles, links them, and holds a unique index of ECIDs per client', async () => {
    const schema = newSchema();
    const q = `"${schema}"`;
    await adminQuery(`CREATE SCHEMA ${q}`);
    await adminQuery(
      `CREATE TABLE ${q}.profilegate_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    for (const [i, migration] of POSTGRES_MIGRATIONS.slice(0, POSTGRES_BEFORE).entries()) {
      await adminQuery(migration.replaceAll('{schema}', q));
      await adminQuery(`INSERT INTO ${q}.profilegate_migrations (version) VALUES ($1)`, [i + 1]);
    }
    await adminQuery(
      `INSERT INTO ${q}.profiles (client, pc_id, third_party_id, attributes, modified_at)
       VALUES ('acme', 'p1', NULL, $1, $3), ('acme', 'p2', 'u1', $2, $3)`,
      [JSON.stringify([['tier', 'gold', NOW]]), JSON.stringify([['tier', 'silver', NOW]]), NOW],
    );

    const store = await PostgresStore.open(URL, { schema });
    try {
      await checkUpgraded(store);
    } finally {
      await store.close();
    }
    const versions = await adminQuery<{ version: number }>(
      `SELECT max(version) AS version FROM ${q}.profilegate_migrations`,
    );
    assert.equal(versions[0]?.version, POSTGRES_MIGRATIONS.length);
    await assert.rejects(
      adminQuery(`UPDATE ${q}.profiles SET marketing_cloud_visitor_id = $1 WHERE pc_id = 'p1'`, [ECID]),
      /duplicate key value violates unique constraint/,
    );
    await adminQuery(
      `INSERT INTO ${q}.profiles (client, pc_id, attributes, modified_at, marketing_cloud_visitor_id)
       VALUES ('other', 'p1', '[]', $1, $2)`,
      [NOW, ECID],
    );
  });
});
