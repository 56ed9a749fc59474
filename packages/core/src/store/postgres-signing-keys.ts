import type { Pool, PoolClient } from 'pg';
import { checkSigningKeyChanges } from './signing-key-records';
import type { DecideSigningKeys, SigningKeyRecord } from './types';

/** The `kind` of the NOTIFY payload announcing a change of the recorded signing keys. */
export const SIGNING_KEYS_CHANGED = 'signing-keys';

interface PgSigningKeyRow {
  kid: string;
  fingerprint: string;
  registered_by: string;
  registered_at: string;
  retired_at: string | null;
}

/** Every recorded signing key of schema `q` (quoted), by kid. */
export async function listSigningKeysIn(db: Pool | PoolClient, q: string): Promise<SigningKeyRecord[]> {
  const { rows } = await db.query<PgSigningKeyRow>(
    `SELECT kid, fingerprint, registered_by, registered_at, retired_at FROM ${q}.signing_keys ORDER BY kid COLLATE "C"`,
  );
  return rows.map((row) => ({
    kid: row.kid,
    fingerprint: row.fingerprint,
    registeredBy: row.registered_by,
    registeredAt: Number(row.registered_at),
    retiredAt: row.retired_at === null ? null : Number(row.retired_at),
  }));
}

/**
 * Read, decide, write, in the caller's transaction. The table lock (which only another sync
 * conflicts with; reads go on) makes instances starting at once sync one after the other, so
 * the second sees what the first registered.
 */
export async function syncSigningKeysIn(
  db: PoolClient,
  q: string,
  decide: DecideSigningKeys,
  now: number,
): Promise<{ records: SigningKeyRecord[]; changed: boolean }> {
  await db.query(`LOCK TABLE ${q}.signing_keys IN SHARE ROW EXCLUSIVE MODE`);
  const before = await listSigningKeysIn(db, q);
  const changes = checkSigningKeyChanges(decide(before));
  let changed = false;
  for (const { kid, fingerprint } of changes.register) {
    const result = await db.query(
      `INSERT INTO ${q}.signing_keys (kid, fingerprint, registered_by, registered_at, retired_at)
       VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (kid) DO NOTHING`,
      [kid, fingerprint, changes.by, now],
    );
    changed = (result.rowCount ?? 0) > 0 || changed;
  }
  for (const kid of changes.retire) {
    const result = await db.query(
      `INSERT INTO ${q}.signing_keys AS k (kid, fingerprint, registered_by, registered_at, retired_at)
       VALUES ($1, '', $2, $3, $3)
       ON CONFLICT (kid) DO UPDATE SET retired_at = excluded.retired_at WHERE k.retired_at IS NULL`,
      [kid, changes.by, now],
    );
    changed = (result.rowCount ?? 0) > 0 || changed;
  }
  return { records: changed ? await listSigningKeysIn(db, q) : before, changed };
}
