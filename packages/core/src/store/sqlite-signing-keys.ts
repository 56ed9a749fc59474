import type Database from 'better-sqlite3';
import { checkSigningKeyChanges } from './signing-key-records';
import type { DecideSigningKeys, SigningKeyRecord } from './types';

interface SigningKeyRow {
  kid: string;
  fingerprint: string;
  registered_by: string;
  registered_at: number;
  retired_at: number | null;
}

const toRecord = (row: SigningKeyRow): SigningKeyRecord => ({
  kid: row.kid,
  fingerprint: row.fingerprint,
  registeredBy: row.registered_by,
  registeredAt: row.registered_at,
  retiredAt: row.retired_at,
});

const SELECT = 'SELECT kid, fingerprint, registered_by, registered_at, retired_at FROM signing_keys ORDER BY kid';

/** The `signing_keys` table of the SQLite control database (its migration 2): signing key fingerprints, never keys. */
export class SqliteSigningKeys {
  private readonly sql;

  constructor(
    private readonly writer: Database.Database,
    reader: Database.Database,
  ) {
    this.sql = {
      read: reader.prepare(SELECT),
      writerRead: writer.prepare(SELECT),
      register: writer.prepare(
        `INSERT INTO signing_keys (kid, fingerprint, registered_by, registered_at, retired_at)
         VALUES (?, ?, ?, ?, NULL) ON CONFLICT (kid) DO NOTHING`,
      ),
      retire: writer.prepare(
        `INSERT INTO signing_keys (kid, fingerprint, registered_by, registered_at, retired_at) VALUES (?, '', ?, ?, ?)
         ON CONFLICT (kid) DO UPDATE SET retired_at = excluded.retired_at WHERE retired_at IS NULL`,
      ),
    };
  }

  /** Every record, by kid, from the last commit. */
  list(): SigningKeyRecord[] {
    return (this.sql.read.all() as SigningKeyRow[]).map(toRecord);
  }

  /** One transaction on the writer: read, decide, write. The caller holds the store's write lock. */
  sync(decide: DecideSigningKeys, now: number): { records: SigningKeyRecord[]; changed: boolean } {
    return this.writer
      .transaction(() => {
        const before = (this.sql.writerRead.all() as SigningKeyRow[]).map(toRecord);
        const changes = checkSigningKeyChanges(decide(before));
        let changed = false;
        for (const { kid, fingerprint } of changes.register) {
          changed = this.sql.register.run(kid, fingerprint, changes.by, now).changes > 0 || changed;
        }
        for (const kid of changes.retire) {
          changed = this.sql.retire.run(kid, changes.by, now, now).changes > 0 || changed;
        }
        const records = changed ? (this.sql.writerRead.all() as SigningKeyRow[]).map(toRecord) : before;
        return { records, changed };
      })
      .immediate();
  }
}
