/**
 * Databases written before per-client retention (issue 19) are upgraded in place: their settings
 * keep requireAuthentication and read profileRetentionDays null (keep forever), the new setting is
 * stored, and the sweep finds their old profiles.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PostgresStore } from '../src/store/postgres';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres-schema';
import { SqliteStore } from '../src/store/sqlite';
import { controlPathOf } from '../src/store/sqlite-control';
import { SQLITE_CONTROL_MIGRATIONS, SQLITE_MIGRATIONS } from '../src/store/sqlite-schema';
import type { Store } from '../src/store/types';
import { NOW, URL, adminQuery, dropSchemas, newSchema, requirePostgres } from './postgres-harness';

const DAY = 86_400_000;
/** The last schema versions written before retention. */
const SQLITE_BEFORE = 4;
const SQLITE_CONTROL_BEFORE = 2;
const POSTGRES_BEFORE = 6;

/** What every upgraded store must show: the old setting, retention off, then set and swept. */
async function checkUpgraded(store: Store): Promise<void> {
  assert.deepEqual(await store.getSettings('acme'), { requireAuthentication: false, profileRetentionDays: null });
  await store.putSettings('acme', { profileRetentionDays: 30 });
  assert.deepEqual(await store.getSettings('acme'), { requireAuthentication: false, profileRetentionDays: 30 });
  assert.equal(await store.deleteExpiredProfiles('acme', NOW - 30 * DAY, 500), 1);
  assert.equal(await store.getProfile('acme', { kind: 'pcId', id: 'old' }), null);
  assert.equal((await store.getProfile('acme', { kind: 'pcId', id: 'new' }))?.pcId, 'new');
}

describe('upgrading a SQLite database written before retention', () => {
  const dir = mkdtempSync(join(tmpdir(), 'profilegate-retention-upgrade-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps its settings (retention off), stores a retention and sweeps old profiles', async () => {
    const path = join(dir, 'v4.db');
    const legacy = new Database(path);
    for (const migration of SQLITE_MIGRATIONS.slice(0, SQLITE_BEFORE)) legacy.exec(migration);
    legacy.pragma(`user_version = ${SQLITE_BEFORE}`);
    const insert = legacy.prepare(
      'INSERT INTO profiles (client, pc_id, third_party_id, attributes, modified_at) VALUES (?, ?, ?, ?, ?)',
    );
    insert.run('acme', 'old', null, JSON.stringify({ tier: ['gold', NOW - 40 * DAY] }), NOW - 40 * DAY);
    insert.run('acme', 'new', null, JSON.stringify({ tier: ['gold', NOW] }), NOW);
    legacy.close();
    const control = new Database(controlPathOf(path));
    for (const migration of SQLITE_CONTROL_MIGRATIONS.slice(0, SQLITE_CONTROL_BEFORE)) control.exec(migration);
    control.pragma(`user_version = ${SQLITE_CONTROL_BEFORE}`);
    control.prepare('INSERT INTO settings (client, require_authentication) VALUES (?, ?)').run('acme', 0);
    control.close();

    const store = new SqliteStore(path);
    try {
      await checkUpgraded(store);
    } finally {
      await store.close();
    }
    const db = new Database(path);
    const upgraded = new Database(controlPathOf(path));
    try {
      assert.equal(db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length);
      assert.equal(upgraded.pragma('user_version', { simple: true }), SQLITE_CONTROL_MIGRATIONS.length);
    } finally {
      db.close();
      upgraded.close();
    }
  });
});

describe('upgrading a PostgreSQL schema written before retention', function () {
  this.timeout(30_000);
  before(requirePostgres);
  after(dropSchemas);

  it('keeps its settings (retention off), stores a retention and sweeps old profiles', async () => {
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
       VALUES ('acme', 'old', NULL, $1, $2), ('acme', 'new', NULL, $3, $4)`,
      [
        JSON.stringify([['tier', 'gold', NOW - 40 * DAY]]),
        NOW - 40 * DAY,
        JSON.stringify([['tier', 'gold', NOW]]),
        NOW,
      ],
    );
    await adminQuery(`INSERT INTO ${q}.settings (client, require_authentication) VALUES ('acme', false)`);

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
  });
});
