import type { ClientBase } from 'pg';
import { PROFILE_LIMITS } from '../profiles/rules';
import { freePcId } from './apply-row';
import type { DrawnPcIds } from './postgres-encode';
import type { RowResult } from './postgres-profiles';
import type { AttributeValue, Profile } from '../profiles/types';

/** One row on its way to the database (postgres-profiles.ts). */
export interface Pending {
  /** Position in the rows given. */
  index: number;
  /**
   * `pc`: the row names a pcId, or a thirdPartyId whose profile exists (the link never changes,
   * so it is written by pcId). `tp`: a thirdPartyId without a profile yet.
   */
  by: 'pc' | 'tp';
  /** For `pc` the profile's pcId; for `tp` the random pcId a new profile gets. */
  pcId: string;
  thirdPartyId: string | null;
  /** The new values as stored: `[[name, value, now], …]`, empty values left out. */
  entries: Array<[string, string, number]>;
  /** `entries` as JSON, as the write statement takes them ('' for a row over the limit, never sent). */
  entriesJson: string;
  /**
   * UTF-8 bytes of the new values alone (above the limit, a new profile is refused); counted
   * exactly only when they might be over it, otherwise a lower bound that is under it.
   */
  bytes: number;
  /** The names to remove, as a JSON array; null when none. */
  removals: string | null;
}

/** What the write statement says of one row. */
export interface Outcome {
  n: number;
  /** `written`, `unchanged`, `over` (the merge is over the limit), `created` or `absent`. */
  outcome: 'written' | 'unchanged' | 'over' | 'created' | 'absent';
  /** For `over`: the size the merge would have. */
  bytes: string | null;
  pc_id: string | null;
  third_party_id: string | null;
  /** The profile's linked ECID (null for a new profile, which has none). */
  marketing_cloud_visitor_id: string | null;
  /** With profiles: the attributes after the write. */
  attributes: Array<[string, string, number]> | null;
  modified_at: string | null;
}

/*
 * Every statement of a batch chunk reaches profiles by key, one index probe per row (a LATERAL
 * subquery with LIMIT or FOR UPDATE, which the planner cannot turn into a join over the client's
 * profiles). With `client = $1 AND pc_id = ANY($2)` the planner picked the (client, modified_at)
 * index and read every profile of the client per chunk whenever its statistics did not know the
 * rows (a client's first batch, all in one uncommitted transaction): a cost per chunk that grew
 * with the table (issue 18).
 */

/** The stored pcId of each thirdPartyId in $2 that has a profile of client $1. */
export function linkSql(schema: string): string {
  return `SELECT u.id AS third_party_id, p.pc_id FROM unnest($2::text[]) AS u(id)
    CROSS JOIN LATERAL (SELECT pc_id FROM ${schema}.profiles
      WHERE client = $1 AND third_party_id = u.id LIMIT 1) p`;
}

/**
 * Locks client $1's profiles of the pcIds in $2 (FOR UPDATE, in pcId order, so that instances
 * lock in one order) and returns their pcIds.
 */
export function lockSql(schema: string): string {
  return `SELECT l.pc_id FROM (SELECT id FROM unnest($2::text[]) AS id ORDER BY id) u
    CROSS JOIN LATERAL (SELECT pc_id FROM ${schema}.profiles
      WHERE client = $1 AND pc_id = u.id FOR UPDATE) l`;
}

/** Client $1's stored profiles of the pcIds in $2. */
export function storedSql(schema: string): string {
  return `SELECT p.pc_id, p.third_party_id, p.attributes, p.modified_at FROM unnest($2::text[]) AS u(id)
    CROSS JOIN LATERAL (SELECT pc_id, third_party_id, attributes, modified_at FROM ${schema}.profiles
      WHERE client = $1 AND pc_id = u.id LIMIT 1) p`;
}

/**
 * The statement that merges, updates and inserts one round. `merged` reads only the profiles
 * the caller locked, so their attributes are the latest committed ones and their row (ctid)
 * stays where it is until this transaction ends: the update finds each by it; any other row is
 * inserted (with createMissing), unless another transaction created that profile (or took that
 * random pcId) first: then it is left alone and comes back `absent`. Parameters: client, now,
 * max bytes, createMissing, then per row: locked, pcId, thirdPartyId, entries (one JSON array
 * of every row's entries: `entriesParam`), removals (a JSON array of names, or NULL for none: a
 * missing profile created by the row has nothing to remove).
 */
export function writeSql(schema: string, withProfiles: boolean): string {
  const attributes = withProfiles
    ? `CASE WHEN c.pc_id IS NOT NULL THEN i.entries::jsonb
         WHEN jsonb_typeof(m.merge) = 'array' THEN m.merge ELSE m.attributes END`
    : 'NULL::jsonb';
  const modifiedAt = withProfiles
    ? `CASE WHEN c.pc_id IS NOT NULL OR jsonb_typeof(m.merge) = 'array' THEN $2::bigint ELSE m.modified_at END`
    : 'NULL::bigint';
  return `WITH input AS (
      SELECT * FROM ROWS FROM (unnest($5::boolean[]), unnest($6::text[]), unnest($7::text[]),
          jsonb_array_elements($8::jsonb), unnest($9::text[]))
        WITH ORDINALITY AS i(locked, pc_id, third_party_id, entries, removals, n)
    ),
    merged AS (
      SELECT i.n, p.ctid AS tid, p.pc_id, p.third_party_id, p.marketing_cloud_visitor_id, p.attributes, p.modified_at,
        CASE WHEN i.removals IS NULL THEN ${schema}.profilegate_merge(p.attributes, i.entries::jsonb, $3::bigint)
          ELSE ${schema}.profilegate_merge(p.attributes, i.entries::jsonb, i.removals::jsonb, $3::bigint) END AS merge
      FROM input i CROSS JOIN LATERAL (SELECT ctid, * FROM ${schema}.profiles
        WHERE client = $1 AND pc_id = i.pc_id LIMIT 1) p
      WHERE i.locked
    ),
    updated AS (
      UPDATE ${schema}.profiles p SET attributes = m.merge, modified_at = $2::bigint
      FROM merged m WHERE p.ctid = m.tid AND p.pc_id = m.pc_id AND jsonb_typeof(m.merge) = 'array'
    ),
    created AS (
      INSERT INTO ${schema}.profiles (client, pc_id, third_party_id, attributes, modified_at)
      SELECT $1::text, i.pc_id, i.third_party_id, i.entries::jsonb, $2::bigint FROM input i
      WHERE $4::boolean AND NOT EXISTS (SELECT FROM merged m WHERE m.n = i.n)
      ORDER BY i.pc_id
      ON CONFLICT DO NOTHING
      RETURNING pc_id
    )
    SELECT i.n,
      CASE WHEN m.n IS NULL THEN CASE WHEN c.pc_id IS NULL THEN 'absent' ELSE 'created' END
           WHEN m.merge IS NULL THEN 'unchanged'
           WHEN jsonb_typeof(m.merge) = 'number' THEN 'over'
           ELSE 'written' END AS outcome,
      CASE WHEN jsonb_typeof(m.merge) = 'number' THEN m.merge::text END AS bytes,
      COALESCE(m.pc_id, c.pc_id) AS pc_id,
      CASE WHEN m.n IS NULL THEN i.third_party_id ELSE m.third_party_id END AS third_party_id,
      m.marketing_cloud_visitor_id,
      ${attributes} AS attributes, ${modifiedAt} AS modified_at
    FROM input i LEFT JOIN merged m ON m.n = i.n LEFT JOIN created c ON c.pc_id = i.pc_id`;
}

/**
 * The statement of a batch round where no row names a locked profile: every row creates its
 * profile (in pcId order), unless another transaction created that profile, or took that random
 * pcId, first. Returns the pcIds created. Parameters: client, now, then per row: pcId,
 * thirdPartyId, and entries as `entriesParam`.
 */
export function insertSql(schema: string): string {
  return `INSERT INTO ${schema}.profiles (client, pc_id, third_party_id, attributes, modified_at)
    SELECT $1::text, i.pc_id, i.third_party_id, i.entries, $2::bigint
    FROM ROWS FROM (unnest($3::text[]), unnest($4::text[]), jsonb_array_elements($5::jsonb))
      AS i(pc_id, third_party_id, entries)
    ORDER BY i.pc_id
    ON CONFLICT DO NOTHING
    RETURNING pc_id`;
}

/**
 * The rows' entries (each already JSON) as one JSON array: one parameter, with none of the
 * escaping a text array of JSON needs.
 */
export function entriesParam(entries: readonly string[]): string {
  return `[${entries.join(',')}]`;
}

/** A written profile from the write statement's answer. */
export function outcomeProfile(o: Outcome): Profile {
  const attributes: Record<string, AttributeValue> = Object.create(null);
  for (const [name, value, modifiedAt] of o.attributes!) attributes[name] = { value, modifiedAt };
  const profile: Profile = { pcId: o.pc_id!, attributes, modifiedAt: Number(o.modified_at) };
  if (o.third_party_id !== null) profile.thirdPartyId = o.third_party_id;
  if (o.marketing_cloud_visitor_id !== null) profile.marketingCloudVisitorId = o.marketing_cloud_visitor_id;
  return profile;
}

/**
 * Writes one round's rows and says what became of each. A batch round in which no row names a
 * locked profile (new profiles only, the usual case of a first import) takes a plain INSERT;
 * any other round the statement that merges, updates and inserts.
 */
export async function writeOutcomes(
  db: ClientBase,
  schema: string,
  client: string,
  rows: Pending[],
  locked: Set<string>,
  options: { createMissing: boolean; now: number; withProfiles: boolean },
): Promise<Outcome[]> {
  const entries = entriesParam(rows.map((r) => r.entriesJson));
  if (!options.withProfiles && options.createMissing && locked.size === 0) {
    const { rows: created } = await db.query<{ pc_id: string }>(insertSql(schema), [
      client,
      options.now,
      rows.map((r) => r.pcId),
      rows.map((r) => r.thirdPartyId),
      entries,
    ]);
    const createdPcIds = new Set(created.map((r) => r.pc_id));
    return rows.map((r, i) => ({
      n: i + 1,
      outcome: createdPcIds.has(r.pcId) ? 'created' : 'absent',
      bytes: null,
      pc_id: r.pcId,
      third_party_id: r.thirdPartyId,
      marketing_cloud_visitor_id: null,
      attributes: null,
      modified_at: null,
    }));
  }
  const { rows: outcomes } = await db.query<Outcome>(writeSql(schema, options.withProfiles), [
    client,
    options.now,
    PROFILE_LIMITS.maxProfileBytes,
    options.createMissing,
    rows.map((r) => r.by === 'pc' && locked.has(r.pcId)),
    rows.map((r) => r.pcId),
    rows.map((r) => r.thirdPartyId),
    entries,
    rows.map((r) => r.removals),
  ]);
  return outcomes;
}

/**
 * One statement for a batch round of thirdPartyId rows: looks each thirdPartyId up (by key) and
 * creates the profiles of those that have none (in pcId order; one another transaction created,
 * or whose random pcId was taken, is left alone). Returns, per row, the pcId of its stored
 * profile, or null when it was not created. Parameters: client, now, then per row: pcId,
 * thirdPartyId, and entries as `entriesParam`.
 */
export function insertOrLinkSql(schema: string): string {
  return `WITH input AS (
      SELECT * FROM ROWS FROM (unnest($3::text[]), unnest($4::text[]), jsonb_array_elements($5::jsonb))
        WITH ORDINALITY AS i(pc_id, third_party_id, entries, n)
    ),
    found AS (
      SELECT i.n, p.pc_id FROM input i CROSS JOIN LATERAL (SELECT pc_id FROM ${schema}.profiles
        WHERE client = $1 AND third_party_id = i.third_party_id LIMIT 1) p
    ),
    created AS (
      INSERT INTO ${schema}.profiles (client, pc_id, third_party_id, attributes, modified_at)
      SELECT $1::text, i.pc_id, i.third_party_id, i.entries, $2::bigint FROM input i
      WHERE NOT EXISTS (SELECT FROM found f WHERE f.n = i.n)
      ORDER BY i.pc_id
      ON CONFLICT DO NOTHING
      RETURNING pc_id
    )
    SELECT n, pc_id FROM found
    UNION ALL SELECT NULL, pc_id FROM created`;
}

/**
 * Writes a round of thirdPartyId rows with insertOrLinkSql: the rows it created are done; returns
 * the others, those of a stored profile as `pc` rows (to merge), and those not created as `tp`
 * rows (the caller looks them up again: someone else may have created their profile).
 */
export async function insertOrLink(
  db: ClientBase,
  schema: string,
  client: string,
  round: Pending[],
  options: { now: number },
  results: RowResult[],
  chunkPcIds: Set<string>,
  drawn: DrawnPcIds,
): Promise<Pending[]> {
  for (const row of round) {
    row.pcId = freePcId(options.now, (pcId) => chunkPcIds.has(pcId) || drawn.has(pcId));
    chunkPcIds.add(row.pcId);
    drawn.add(row.pcId);
  }
  const { rows: answer } = await db.query<{ n: string | null; pc_id: string }>(insertOrLinkSql(schema), [
    client,
    options.now,
    round.map((r) => r.pcId),
    round.map((r) => r.thirdPartyId),
    entriesParam(round.map((r) => r.entriesJson)),
  ]);
  const stored = new Map<number, string>();
  const created = new Set<string>();
  for (const a of answer) {
    if (a.n === null) created.add(a.pc_id);
    else stored.set(Number(a.n), a.pc_id);
  }
  const rest: Pending[] = [];
  round.forEach((row, i) => {
    const pcId = stored.get(i + 1);
    if (pcId !== undefined) {
      chunkPcIds.add(pcId);
      rest.push({ ...row, by: 'pc', pcId });
    } else if (created.has(row.pcId)) {
      results[row.index] = { status: 'write', created: true, profile: null };
    } else {
      rest.push(row);
    }
  });
  return rest;
}
