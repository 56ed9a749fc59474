/**
 * Read-only looks at a demo server's SQLite file from the test process (another process than the
 * server). Only the table names of the first migration are used: they never change.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';

/** Opens the database read-only (WAL readers do not block the server's writer). */
export function openReadOnly(path: string): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

/** A digest of everything stored for one client: its profiles and its batch records. */
export function fingerprint(db: Database.Database, client: string): string {
  const profiles = db.prepare('SELECT * FROM profiles WHERE client = ? ORDER BY pc_id').all(client);
  const batches = db.prepare('SELECT * FROM batches WHERE client = ? ORDER BY batch_id').all(client);
  return createHash('sha256')
    .update(JSON.stringify([profiles, batches]))
    .digest('hex');
}

/** `PRAGMA integrity_check` of a database file no process has open. */
export function integrityCheck(path: string): string {
  const db = openReadOnly(path);
  try {
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    return rows.map((row) => row.integrity_check).join('; ');
  } finally {
    db.close();
  }
}
