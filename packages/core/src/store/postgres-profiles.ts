import type { ClientBase } from 'pg';
import { mergeAttributes, profileTooLargeMessage } from '../profiles/merge';
import { PROFILE_LIMITS } from '../profiles/rules';
import type { BatchKey, Profile, ProfileUpdate } from '../profiles/types';
import { freePcId } from './apply-row';
import { toProfile as storedProfile } from './postgres-rows';
import type { PgProfileRow } from './postgres-rows';
import { insertOrLink, linkSql, lockSql, outcomeProfile, storedSql, writeOutcomes } from './postgres-write';
import type { Pending } from './postgres-write';
import { DrawnPcIds, encodeRow } from './postgres-encode';
import type { EncodedRow } from './postgres-encode';

/** What one row of an update or batch came to; `profile` only when asked for. */
export type RowResult =
  | { status: 'write'; created: boolean; profile: Profile | null }
  | { status: 'notFound' }
  | { status: 'rejected'; message: string };

/** How one call writes rows. */
export interface ApplyRowsOptions {
  /** v2: create missing profiles. */
  createMissing: boolean;
  now: number;
  /** Return each written profile (a single update answers with it; a batch only counts). */
  withProfiles: boolean;
  /** The pcIds drawn so far by this batch, kept across its chunks; each call draws anew without. */
  drawn?: DrawnPcIds;
}

/** How often rows that met a concurrent creation are written again. */
const MAX_ROUND_ATTEMPTS = 5;

/**
 * Applies rows inside the caller's transaction, merging in SQL. Per group of rows: one statement
 * locks the stored profiles they name (`FOR UPDATE`, in pcId order, so instances take shared
 * locks in one order), and one statement merges (`profilegate_merge`, reading each locked
 * profile's latest committed attributes), updates and inserts. Two instances updating one
 * profile at once therefore lose nothing. A batch chunk keyed by thirdPartyIds only first
 * creates each round's new profiles in one statement that also finds the stored ones (insertOrLink).
 *
 * Semantics are those of `nextProfileState`: rows for one profile apply in order (the n-th row
 * of a profile goes in the n-th group), a row that would take a profile over 64 KiB is refused
 * and leaves it unchanged, and without `createMissing` a missing profile is `notFound`.
 */
export async function applyProfileRows(
  db: ClientBase,
  schema: string,
  client: string,
  rows: readonly ProfileUpdate<BatchKey>[],
  options: ApplyRowsOptions,
  encoded?: readonly EncodedRow[],
): Promise<RowResult[]> {
  const results: RowResult[] = new Array(rows.length);
  const encodings = encoded ?? rows.map((row) => encodeRow(row, options.now));
  // A batch chunk keyed by thirdPartyIds only, none over the limit: each round looks its
  // thirdPartyIds up and creates the missing profiles in one statement (insertOrLink).
  const insertFirst =
    options.createMissing &&
    !options.withProfiles &&
    rows.every((row) => row.key.kind === 'thirdPartyId') &&
    encodings.every((e) => e.bytes <= PROFILE_LIMITS.maxProfileBytes);
  const pending = await resolveRows(db, schema, client, rows, encodings, !insertFirst);
  const seen = new Map<string, number>();
  const rounds: Pending[][] = [];
  for (const row of pending) {
    const identity = row.by === 'pc' ? `p:${row.pcId}` : `t:${row.thirdPartyId}`;
    const round = seen.get(identity) ?? 0;
    seen.set(identity, round + 1);
    (rounds[round] ??= []).push(row);
  }
  // pcIds this chunk names, so a new profile's random one is none of them.
  const chunkPcIds = new Set(pending.filter((p) => p.by === 'pc').map((p) => p.pcId));
  const drawn = options.drawn ?? new DrawnPcIds(options.now);
  for (const [n, round] of rounds.entries()) {
    // insertOrLink creates the round's new profiles and hands back the rows of stored ones (and
    // those someone else created first, looked up again). Otherwise a later row of a thirdPartyId
    // that an earlier round created is written by its new pcId.
    let todo = insertFirst
      ? await insertOrLink(db, schema, client, round, options, results, chunkPcIds, drawn)
      : n > 0 && options.createMissing
        ? await reresolve(db, schema, client, round)
        : round;
    if (insertFirst) todo = await reresolve(db, schema, client, todo);
    for (let attempt = 1; todo.length > 0; attempt++) {
      if (attempt > MAX_ROUND_ATTEMPTS) {
        throw new Error(`${todo.length} profiles kept being created by others while this write created them`);
      }
      todo = await writeRound(db, schema, client, todo, options, results, chunkPcIds, drawn);
    }
  }
  return results;
}

/** The encoded rows, with the profiles of their thirdPartyIds when `lookUp` (else all `tp`). */
async function resolveRows(
  db: ClientBase,
  schema: string,
  client: string,
  rows: readonly ProfileUpdate<BatchKey>[],
  encoded: readonly EncodedRow[],
  lookUp: boolean,
): Promise<Pending[]> {
  const linked = lookUp
    ? await linkedPcIds(
        db,
        schema,
        client,
        rows.filter((r) => r.key.kind === 'thirdPartyId').map((r) => r.key.id),
      )
    : new Map<string, string>();
  return rows.map((row, index): Pending => {
    const { entries, entriesJson, bytes, removals } = encoded[index]!;
    let by: Pending['by'] = 'pc';
    let pcId = row.key.id;
    let thirdPartyId: string | null = null;
    if (row.key.kind === 'thirdPartyId') {
      thirdPartyId = row.key.id;
      const stored = linked.get(thirdPartyId);
      by = stored === undefined ? 'tp' : 'pc';
      pcId = stored ?? '';
    }
    return { index, by, pcId, thirdPartyId, entries, entriesJson, bytes, removals };
  });
}

/** The pcIds of the stored profiles of these thirdPartyIds. */
async function linkedPcIds(
  db: ClientBase,
  schema: string,
  client: string,
  thirdPartyIds: string[],
): Promise<Map<string, string>> {
  const linked = new Map<string, string>();
  if (thirdPartyIds.length === 0) return linked;
  const found = await db.query<{ third_party_id: string; pc_id: string }>(linkSql(schema), [
    client,
    [...new Set(thirdPartyIds)],
  ]);
  for (const r of found.rows) linked.set(r.third_party_id, r.pc_id);
  return linked;
}

/**
 * Writes one round (at most one row per profile) and fills `results`; returns the rows to write
 * again because another transaction created their profile (or drew their random pcId) first.
 */
async function writeRound(
  db: ClientBase,
  schema: string,
  client: string,
  round: Pending[],
  options: ApplyRowsOptions,
  results: RowResult[],
  chunkPcIds: Set<string>,
  drawn: DrawnPcIds,
): Promise<Pending[]> {
  const rows: Pending[] = [];
  const oversize: Pending[] = [];
  for (const row of round) {
    if (row.by === 'tp' && !options.createMissing) {
      // Without createMissing, a thirdPartyId without a profile when the chunk began is not found.
      results[row.index] = { status: 'notFound' };
    } else if (row.bytes > PROFILE_LIMITS.maxProfileBytes) {
      oversize.push(row);
    } else {
      rows.push(row);
    }
  }
  if (oversize.length > 0) await refuseOversize(db, schema, client, oversize, options, results);
  if (rows.length === 0) return [];
  // Only locked profiles are merged: one created after this lock is met by the INSERT instead
  // (and written again next attempt), never updated from a read that was not locked.
  const locked = new Set<string>();
  const keyed = rows.filter((r) => r.by === 'pc').map((r) => r.pcId);
  if (keyed.length > 0) {
    const found = await db.query<{ pc_id: string }>(lockSql(schema), [client, keyed]);
    for (const r of found.rows) locked.add(r.pc_id);
  }
  for (const row of rows) {
    // A thirdPartyId's profile deleted since it was resolved (API.md 5): a new profile with a
    // new pcId, never one that brings the deleted pcId back.
    if (row.by === 'pc' && row.thirdPartyId !== null && !locked.has(row.pcId) && options.createMissing) {
      row.by = 'tp';
    }
    if (row.by === 'tp') {
      row.pcId = freePcId(options.now, (pcId) => chunkPcIds.has(pcId) || drawn.has(pcId));
      chunkPcIds.add(row.pcId);
      drawn.add(row.pcId);
    }
  }
  const outcomes = await writeOutcomes(db, schema, client, rows, locked, options);
  const again: Pending[] = [];
  for (const o of outcomes) {
    const row = rows[o.n - 1]!;
    const profile = () => (options.withProfiles ? outcomeProfile(o) : null);
    switch (o.outcome) {
      case 'written':
      case 'unchanged':
        results[row.index] = { status: 'write', created: false, profile: profile() };
        break;
      case 'created':
        results[row.index] = { status: 'write', created: true, profile: profile() };
        break;
      case 'over':
        results[row.index] = { status: 'rejected', message: profileTooLargeMessage(Number(o.bytes)) };
        break;
      default:
        if (options.createMissing) again.push(row);
        else results[row.index] = { status: 'notFound' };
    }
  }
  return again.length === 0 ? [] : reresolve(db, schema, client, again);
}

/**
 * Refuses rows whose new values alone are over the limit, whatever is stored (the merge can only
 * be bigger), without sending those values to the database; the message gives the size the
 * stored profile would have reached.
 */
async function refuseOversize(
  db: ClientBase,
  schema: string,
  client: string,
  rows: Pending[],
  options: ApplyRowsOptions,
  results: RowResult[],
): Promise<void> {
  const stored = new Map<string, Profile>();
  const keyed = rows.filter((r) => r.by === 'pc').map((r) => r.pcId);
  if (keyed.length > 0) {
    const found = await db.query<PgProfileRow>(storedSql(schema), [client, [...new Set(keyed)]]);
    for (const r of found.rows) stored.set(r.pc_id, storedProfile(r));
  }
  for (const row of rows) {
    const existing = row.by === 'pc' ? stored.get(row.pcId) : undefined;
    if (!existing && !options.createMissing) {
      results[row.index] = { status: 'notFound' };
      continue;
    }
    const updates = Object.fromEntries(row.entries.map(([name, value]) => [name, value]));
    const removals = row.removals === null ? [] : (JSON.parse(row.removals) as string[]);
    const merged = mergeAttributes(existing?.attributes ?? Object.create(null), updates, options.now, removals);
    results[row.index] = {
      status: 'rejected',
      message: merged.ok ? profileTooLargeMessage(row.bytes) : merged.message,
    };
  }
}

/**
 * Rows whose profile someone else created first: a thirdPartyId now linked to a profile is
 * written by that pcId; one still without a profile met a random pcId already taken, and draws again.
 */
async function reresolve(db: ClientBase, schema: string, client: string, rows: Pending[]): Promise<Pending[]> {
  if (!rows.some((r) => r.by === 'tp')) return rows;
  const linked = await linkedPcIds(
    db,
    schema,
    client,
    rows.filter((r) => r.by === 'tp').map((r) => r.thirdPartyId!),
  );
  return rows.map((row) => {
    const pcId = row.by === 'tp' ? linked.get(row.thirdPartyId!) : undefined;
    return pcId === undefined ? row : { ...row, by: 'pc', pcId };
  });
}
