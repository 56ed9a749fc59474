import type { ClientBase } from 'pg';
import type { BatchKey, ProfileUpdate } from '../profiles/types';
import { toProfile, type PgProfileRow } from './postgres-rows';
import type { LinkOutcome } from './types';

/** Every column of a profile, for reads that return it. */
export const PG_PROFILE_COLUMNS = 'pc_id, third_party_id, attributes, modified_at, marketing_cloud_visitor_id';

/**
 * Links an Experience Cloud ID to the profile `pcId` inside the caller's transaction, taking it
 * from any other profile of the client. Links of one ECID of one client take turns (an advisory
 * lock on a hash of schema, client and ECID, in the one-key space, apart from the migration
 * lock's two-key space): each sees the link committed before it and moves it, so the latest link
 * wins and none fails on the unique index. Batches never write the link column.
 */
export async function linkMarketingCloudVisitorIdIn(
  db: ClientBase,
  schema: string,
  client: string,
  pcId: string,
  marketingCloudVisitorId: string,
): Promise<LinkOutcome> {
  await db.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
    JSON.stringify(['ecid', schema, client, marketingCloudVisitorId]),
  ]);
  const { rows } = await db.query<PgProfileRow>(
    `SELECT ${PG_PROFILE_COLUMNS} FROM ${schema}.profiles WHERE client = $1 AND pc_id = $2 FOR UPDATE`,
    [client, pcId],
  );
  if (!rows[0]) return { status: 'notFound' };
  const profile = toProfile(rows[0]);
  if (profile.marketingCloudVisitorId === marketingCloudVisitorId)
    return { status: 'linked', profile, movedFrom: null };
  const taken = await db.query<{ pc_id: string }>(
    `UPDATE ${schema}.profiles SET marketing_cloud_visitor_id = NULL
     WHERE client = $1 AND marketing_cloud_visitor_id = $2 AND pc_id <> $3 RETURNING pc_id`,
    [client, marketingCloudVisitorId, pcId],
  );
  await db.query(`UPDATE ${schema}.profiles SET marketing_cloud_visitor_id = $3 WHERE client = $1 AND pc_id = $2`, [
    client,
    pcId,
    marketingCloudVisitorId,
  ]);
  profile.marketingCloudVisitorId = marketingCloudVisitorId;
  return { status: 'linked', profile, movedFrom: taken.rows[0]?.pc_id ?? null };
}

/**
 * The update keyed as a batch row: an update by ECID goes to the pcId the ECID is linked to (that
 * profile locked for the caller's write), or is not found (null): no profile is created by ECID.
 */
export async function resolveLinkedUpdate(
  db: ClientBase,
  schema: string,
  client: string,
  update: ProfileUpdate,
): Promise<ProfileUpdate<BatchKey> | null> {
  if (update.key.kind !== 'marketingCloudVisitorId') return { ...update, key: update.key };
  const { rows } = await db.query<{ pc_id: string }>(
    `SELECT pc_id FROM ${schema}.profiles WHERE client = $1 AND marketing_cloud_visitor_id = $2 FOR UPDATE`,
    [client, update.key.id],
  );
  return rows[0] ? { ...update, key: { kind: 'pcId', id: rows[0].pc_id } } : null;
}
