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
  // Settings, token state and audit moved to the control database (sqlite-control.ts), so that
  // admin writes never wait behind a batch holding this file's write lock.
  `DROP TABLE settings;
   DROP TABLE token_state;
   DROP TABLE audit;`,
  // 3: failed rows kept as a failure log (failure-log.ts), at most as large as the failing rows;
  // \`failures\` keeps the JSON of batches written before, and '[]' for new ones.
  `ALTER TABLE batches ADD COLUMN failure_log BLOB;`,
  // 4: a profile may carry one Experience Cloud ID, which names at most one profile of its client.
  `ALTER TABLE profiles ADD COLUMN marketing_cloud_visitor_id TEXT;
   CREATE UNIQUE INDEX profiles_marketing_cloud_visitor_id ON profiles (client, marketing_cloud_visitor_id)
     WHERE marketing_cloud_visitor_id IS NOT NULL;`,
  // 5: the retention sweep finds a client's profiles by last modification (API.md 5).
  `CREATE INDEX profiles_modified ON profiles (client, modified_at);`,
  // 6: profiles in a rowid table, their keys in unique indexes beside it (issue 18). Keyed by a
  // random pcId, the rows themselves were inserted at random places, and a large batch's inserts
  // slowed down as the table outgrew the page cache; now rows are appended and only the small
  // index entries go to random places. (client, pc_id) still serves exports' ORDER BY pc_id.
  `CREATE TABLE profiles_by_rowid (
     id INTEGER PRIMARY KEY,
     client TEXT NOT NULL,
     pc_id TEXT NOT NULL,
     third_party_id TEXT,
     attributes TEXT NOT NULL,
     modified_at INTEGER NOT NULL,
     marketing_cloud_visitor_id TEXT
   );
   INSERT INTO profiles_by_rowid (client, pc_id, third_party_id, attributes, modified_at, marketing_cloud_visitor_id)
     SELECT client, pc_id, third_party_id, attributes, modified_at, marketing_cloud_visitor_id FROM profiles;
   DROP TABLE profiles;
   ALTER TABLE profiles_by_rowid RENAME TO profiles;
   CREATE UNIQUE INDEX profiles_pc_id ON profiles (client, pc_id);
   CREATE UNIQUE INDEX profiles_third_party ON profiles (client, third_party_id) WHERE third_party_id IS NOT NULL;
   CREATE UNIQUE INDEX profiles_marketing_cloud_visitor_id ON profiles (client, marketing_cloud_visitor_id)
     WHERE marketing_cloud_visitor_id IS NOT NULL;
   CREATE INDEX profiles_modified ON profiles (client, modified_at);`,
  // 7: a value changed with its profile is stored as a plain string, `{"tier":"gold"}`, beside
  // `["value",modifiedAt]` for one changed before (sqlite-rows.ts, issue 18). Nothing to migrate:
  // rows in the earlier form read the same. The version moves so that a build that reads only
  // `[value, time]` refuses this file instead of misreading "gold" as value "g", time "o".
  `SELECT 1;`,
];

/**
 * Migrations of the control database: the small state admins change (settings, token state,
 * audit), in its own file with its own writer so it never waits for the profile database's lock.
 */
export const SQLITE_CONTROL_MIGRATIONS: readonly string[] = [
  `CREATE TABLE settings (client TEXT PRIMARY KEY, require_authentication INTEGER NOT NULL);
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
  // 3: per-client retention in days (API.md 5); NULL keeps profiles forever.
  `ALTER TABLE settings ADD COLUMN profile_retention_days INTEGER;`,
];

/** Tables that moved from the profile database to the control database in schema version 2. */
const MOVED_TABLES = ['settings', 'token_state', 'audit'] as const;

/**
 * Settings of the writer connection, shared with the benchmark's raw SQLite anchor so that both
 * measure the same storage: WAL (readers never wait for a writer), FULL sync (once a batch
 * reads `complete`, it survives a power cut, not only a crash) and secure_delete (a deleted or
 * overwritten row is zeroed in the file, not left readable in free space: API.md 5).
 */
export function configureSqliteWriter(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  // The database file only: a batch's TEMP stage is dropped after its merge, and zeroing it would
  // cost writes for data that never reaches the file.
  db.pragma('main.secure_delete = ON');
}

/**
 * Page caches of a batch connection (the worker's, or SqliteLocalBatches'), in KiB: the profile
 * database's, so that the indexes a large batch inserts into at random stay in memory longer,
 * and the TEMP database's, where a batch is staged. Both count in the server's RSS (target:
 * peak under 300 MB with a 500,000-row batch), so they stay far below the indexes of a large table.
 */
export const BATCH_CACHE_KIB = 32 * 1024;

/**
 * Settings of a connection that applies batches: the writer's, larger page caches, and no
 * checkpoint within a commit. A batch's commit appends its whole merge to the WAL, and the
 * automatic checkpoint would then copy it all into the database file before the commit returns
 * (about a fifth of a 500,000-row merge). The batch reads `complete` as soon as it is committed,
 * so the copy is done after it (`checkpointAfterBatch`), still before other profile writes go on.
 */
export function configureSqliteBatchConnection(db: Database.Database): void {
  configureSqliteWriter(db);
  db.pragma(`main.cache_size = -${BATCH_CACHE_KIB}`);
  db.pragma(`temp.cache_size = -${BATCH_CACHE_KIB}`);
  db.pragma('wal_autocheckpoint = 0');
}

/**
 * Copies the WAL into the database file after a batch connection's commit. PASSIVE: it never
 * waits for a reader (frames a reader's snapshot still needs are copied by a later checkpoint).
 */
export function checkpointAfterBatch(db: Database.Database): void {
  db.pragma('wal_checkpoint(PASSIVE)');
}

/** Runs the profile database's migrations it has not seen yet, each in its own transaction. */
export function migrateSqlite(db: Database.Database): number {
  return runMigrations(db, SQLITE_MIGRATIONS, 'database');
}

/**
 * Runs the control database's migrations. Creating it copies the settings, token state and audit
 * of a profile database written by an earlier Profilegate (`legacy`), in the same transaction; the
 * profile database drops them in its own next migration, which runs after this one.
 */
export function migrateSqliteControl(control: Database.Database, legacy: Database.Database): number {
  const current = control.pragma('user_version', { simple: true }) as number;
  const imports = current === 0 ? legacyRows(legacy) : null;
  return runMigrations(control, SQLITE_CONTROL_MIGRATIONS, 'control database', () => {
    if (!imports) return;
    for (const [table, rows] of imports) {
      for (const row of rows) {
        const columns = Object.keys(row);
        control
          .prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`)
          .run(row);
      }
    }
  });
}

/** Rows of the tables a profile database held before they moved, or null when it has none. */
function legacyRows(legacy: Database.Database): Array<[string, Array<Record<string, unknown>>]> | null {
  const present = legacy
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('settings', 'token_state', 'audit')`)
    .all() as Array<{ name: string }>;
  if (present.length === 0) return null;
  const names = new Set(present.map((t) => t.name));
  return MOVED_TABLES.filter((t) => names.has(t)).map((table) => [
    table,
    legacy.prepare(`SELECT * FROM ${table}`).all() as Array<Record<string, unknown>>,
  ]);
}

function runMigrations(
  db: Database.Database,
  migrations: readonly string[],
  what: string,
  afterFirst?: () => void,
): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `The ${what} schema is version ${current}, newer than this Profilegate (${migrations.length}); upgrade Profilegate`,
    );
  }
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version]!);
      if (version === 0) afterFirst?.();
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
  return migrations.length - current;
}
