import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/store/sqlite';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite-schema';
import { describeStoreConformance } from './store-conformance';

const root = mkdtempSync(join(tmpdir(), 'profilegate-sqlite-'));
let n = 0;

describeStoreConformance('SqliteStore', {
  create: async () => new SqliteStore(join(root, `store-${++n}.db`)),
  reopen: async (store) => {
    await store.close();
    return new SqliteStore((store as SqliteStore).path);
  },
  cleanup: async () => rmSync(root, { recursive: true, force: true }),
});

describe('SqliteStore specifics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'profilegate-sqlite-x-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the database file with mode 0600, in WAL mode, at the latest schema version', async () => {
    const path = join(dir, 'mode.db');
    const store = new SqliteStore(path);
    await store.close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
  });

  it('refuses a database from a newer Profilegate', async () => {
    const path = join(dir, 'newer.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SQLITE_MIGRATIONS.length + 1}`);
    db.close();
    assert.throws(() => new SqliteStore(path), /newer than this Profilegate/);
  });

  it('refuses writes after close with a clear error', async () => {
    const store = new SqliteStore(join(dir, 'closed.db'));
    await store.close();
    await assert.rejects(store.putSettings('acme', { requireAuthentication: false }), /closed/);
  });

  it('refuses an in-memory path, which a second reader connection could not see', () => {
    assert.throws(() => new SqliteStore(':memory:'), /file path/);
  });
});
