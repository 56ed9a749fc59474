import type Database from 'better-sqlite3';

/**
 * Versioned schema migrations; `PRAGMA user_version` records how many have run. Append only:
 * never edit a migration that has shipped.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE profiles (
     client TEXT NOT NULL,
     pc_id TEXT NOT NULL,
     third_party_id TEXT,
     attributes TEXT NOT NULL,
     modified_at INTEGER NOT NULL,
     PRIMARY KEY (client, pc_id)
   ) WITHOUT ROWID;
   CREATE UNIQUE INDEX profiles_third_party ON profiles (client, third_party_id) WHERE third_party_id IS NOT NULL;
   CREATE TABLE batches (
     batch_id TEXT PRIMARY KEY,
     client TEXT NOT NULL,
     version TEXT NOT NULL,
     status TEXT NOT NULL,
     batch_size INTEGER NOT NULL,
     consumed_count INTEGER NOT NULL,
     successful_updates INTEGER NOT NULL,
     profiles_not_found INTEGER NOT NULL,
     failed_updates INTEGER NOT NULL,
     failures TEXT NOT NULL,
     message TEXT,
     created_at INTEGER NOT NULL,
     completed_at INTEGER
   );
   CREATE INDEX batches_client_created ON batches (client, created_at);
   CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
   CREATE TABLE settings (client TEXT PRIMARY KEY, require_authentication INTEGER NOT NULL);
   CREATE TABLE token_state (client TEXT PRIMARY KEY, current TEXT, graced TEXT NOT NULL);
   CREATE TABLE audit (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     client TEXT NOT NULL,
     at INTEGER NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     details TEXT NOT NULL
   );
   CREATE INDEX audit_client ON audit (client, id);`,
  // 2: fingerprints of the signing keys (never the keys), so a replaced key file is noticed.
  `CREATE TABLE signing_keys (
     kid TEXT PRIMARY KEY,
     fingerprint TEXT NOT NULL,
     registered_by TEXT NOT NULL,
     registered_at INTEGER NOT NULL,
     retired_at INTEGER
   ) WITHOUT ROWID;`,
];

/**
 * Settings of the writer connection, shared with the benchmark's raw SQLite anchor so that both
 * measure the same storage: WAL (readers never wait for a writer) and FULL sync (once a batch
 * reads `complete`, it survives a power cut, not only a crash).
 */
export function configureSqliteWriter(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
}

/** Runs the migrations this database has not seen yet, each in its own transaction. */
export function migrateSqlite(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SQLITE_MIGRATIONS.length) {
    throw new Error(
      `The database schema is version ${current}, newer than this Profilegate (${SQLITE_MIGRATIONS.length}); upgrade Profilegate`,
    );
  }
  for (let version = current; version < SQLITE_MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(SQLITE_MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
  return SQLITE_MIGRATIONS.length - current;
}
