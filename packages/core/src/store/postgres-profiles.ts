import type { ClientBase } from 'pg';
import type { Profile, ProfileUpdate } from '../profiles/types';
import { nextProfileState, tallyRow } from './apply-row';
import type { BatchTally } from './apply-row';
import { encodeAttributes, toProfile } from './postgres-rows';
import type { PgProfileRow } from './postgres-rows';

/** What one row of an update or batch came to. */
export type RowResult = ReturnType<typeof nextProfileState>;

/** How often a chunk is retried after another instance created one of its profiles first. */
const MAX_CREATE_RACES = 5;

/** Whether a `pg` error is a unique violation (two instances created the same profile at once). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

/**
 * Applies rows inside the caller's transaction: locks the rows' existing profiles
 * (`SELECT … FOR UPDATE`, so a concurrent writer on another instance waits and nothing is lost),
 * merges in JS with the rules every store shares, then writes with one multi-row INSERT for new
 * profiles and one multi-row UPDATE for changed ones. A new profile that another transaction
 * created meanwhile makes the INSERT fail with a unique violation; the caller retries.
 */
export async function applyProfileRows(
  db: ClientBase,
  schema: string,
  client: string,
  rows: readonly ProfileUpdate[],
  createMissing: boolean,
  now: number,
): Promise<RowResult[]> {
  const pcIds = new Set<string>();
  const thirdPartyIds = new Set<string>();
  for (const row of rows) (row.key.kind === 'pcId' ? pcIds : thirdPartyIds).add(row.key.id);
  // ORDER BY: instances locking overlapping rows take the locks in one order, avoiding deadlocks.
  const found = await db.query<PgProfileRow>(
    `SELECT pc_id, third_party_id, attributes, modified_at FROM ${schema}.profiles
     WHERE client = $1 AND (pc_id = ANY($2::text[]) OR third_party_id = ANY($3::text[]))
     ORDER BY pc_id FOR UPDATE`,
    [client, [...pcIds], [...thirdPartyIds]],
  );
  const byPcId = new Map<string, Profile>();
  const byThirdPartyId = new Map<string, string>();
  const stored = new Set<string>();
  for (const row of found.rows) {
    const profile = toProfile(row);
    byPcId.set(profile.pcId, profile);
    stored.add(profile.pcId);
    if (profile.thirdPartyId !== undefined) byThirdPartyId.set(profile.thirdPartyId, profile.pcId);
  }

  const dirty = new Set<string>();
  const results: RowResult[] = [];
  for (const update of rows) {
    const pcId = update.key.kind === 'pcId' ? update.key.id : byThirdPartyId.get(update.key.id);
    const existing = pcId === undefined ? null : (byPcId.get(pcId) ?? null);
    const result = nextProfileState(existing, update, createMissing, now);
    if (result.status === 'write' && result.changed) {
      const profile = result.profile;
      byPcId.set(profile.pcId, profile);
      if (profile.thirdPartyId !== undefined) byThirdPartyId.set(profile.thirdPartyId, profile.pcId);
      dirty.add(profile.pcId);
    }
    results.push(result);
  }

  const inserts: Profile[] = [];
  const updates: Profile[] = [];
  for (const pcId of dirty) (stored.has(pcId) ? updates : inserts).push(byPcId.get(pcId)!);
  if (inserts.length > 0) {
    // A plain INSERT, not an upsert: overwriting a profile another instance just created would lose it.
    await db.query(
      `INSERT INTO ${schema}.profiles (client, pc_id, third_party_id, attributes, modified_at)
       SELECT $1, u.pc_id, u.third_party_id, u.attributes::jsonb, u.modified_at
       FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS u(pc_id, third_party_id, attributes, modified_at)`,
      [
        client,
        inserts.map((p) => p.pcId),
        inserts.map((p) => p.thirdPartyId ?? null),
        inserts.map((p) => encodeAttributes(p.attributes)),
        inserts.map((p) => p.modifiedAt),
      ],
    );
  }
  if (updates.length > 0) {
    await db.query(
      `UPDATE ${schema}.profiles AS p SET attributes = u.attributes::jsonb, modified_at = u.modified_at
       FROM unnest($2::text[], $3::text[], $4::bigint[]) AS u(pc_id, attributes, modified_at)
       WHERE p.client = $1 AND p.pc_id = u.pc_id`,
      [
        client,
        updates.map((p) => p.pcId),
        updates.map((p) => encodeAttributes(p.attributes)),
        updates.map((p) => p.modifiedAt),
      ],
    );
  }
  return results;
}

/**
 * `applyProfileRows` under a savepoint, retried when another instance created one of the
 * chunk's profiles first: the retry's lookup finds (and locks) the now committed profile.
 */
export async function applyProfileRowsRetrying(
  db: ClientBase,
  schema: string,
  client: string,
  rows: readonly ProfileUpdate[],
  createMissing: boolean,
  now: number,
): Promise<RowResult[]> {
  for (let attempt = 1; ; attempt++) {
    await db.query('SAVEPOINT profilegate_rows');
    try {
      const results = await applyProfileRows(db, schema, client, rows, createMissing, now);
      await db.query('RELEASE SAVEPOINT profilegate_rows');
      return results;
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= MAX_CREATE_RACES) throw error;
      await db.query('ROLLBACK TO SAVEPOINT profilegate_rows');
    }
  }
}

/** Adds one applied chunk's results to the tally. */
export function tallyRows(tally: BatchTally, rows: readonly ProfileUpdate[], results: readonly RowResult[]): void {
  for (let i = 0; i < rows.length; i++) tallyRow(tally, rows[i]!, results[i]!);
}
