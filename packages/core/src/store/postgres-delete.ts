import type { Profile, ProfileKey } from '../profiles/types';
import type { PostgresControl } from './postgres-control';
import { PG_PROFILE_COLUMNS } from './postgres-links';
import { toProfile, type PgProfileRow } from './postgres-rows';
import type { PostgresAccess } from './postgres-transaction';
import type { AuditEvent } from './types';

/** SQLSTATE of `FOR UPDATE NOWAIT` meeting a row another transaction holds. */
const LOCK_NOT_AVAILABLE = '55P03';
/** Longest pause of a deletion waiting for a locked profile. */
const MAX_LOCK_PAUSE_MS = 200;

const COLUMNS: Record<ProfileKey['kind'], string> = {
  pcId: 'pc_id',
  thirdPartyId: 'third_party_id',
  marketingCloudVisitorId: 'marketing_cloud_visitor_id',
};

/**
 * Deletes a profile's row (attributes and both id links) and writes the audit event in one
 * transaction (API.md 5). A batch that wrote the row first holds its lock until it commits; the
 * deletion then removes what it wrote. One that comes after finds no row: v2 creates a new
 * profile. The row is locked with NOWAIT, and a deletion that meets a lock waits for it holding
 * no pooled connection (a pause, then a new try): deletions of profiles a long batch holds must
 * not take every connection of the pool from the instance's other requests.
 */
export async function deletePostgresProfile(
  db: PostgresAccess,
  schema: string,
  control: PostgresControl,
  request: { client: string; key: ProfileKey; audit?: ((deleted: Profile) => AuditEvent) | undefined },
): Promise<Profile | null> {
  const { client, key, audit } = request;
  for (let pause = 5; ; pause = Math.min(pause * 2, MAX_LOCK_PAUSE_MS)) {
    try {
      return await db.transaction(async (tx) => {
        const locked = await tx.query<{ pc_id: string }>(
          `SELECT pc_id FROM ${schema}.profiles WHERE client = $1 AND ${COLUMNS[key.kind]} = $2 FOR UPDATE NOWAIT`,
          [client, key.id],
        );
        if (!locked.rows[0]) return null;
        const { rows } = await tx.query<PgProfileRow>(
          `DELETE FROM ${schema}.profiles WHERE client = $1 AND pc_id = $2 RETURNING ${PG_PROFILE_COLUMNS}`,
          [client, locked.rows[0].pc_id],
        );
        const deleted = toProfile(rows[0]!);
        if (audit) await control.insertAudit(tx, client, audit(deleted));
        return deleted;
      });
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code !== LOCK_NOT_AVAILABLE) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
