import type Database from 'better-sqlite3';
import { PROFILE_LIMITS } from '../profiles/rules';
import type { AttributeValue, BatchKey, Profile, ProfileUpdate } from '../profiles/types';
import { MAX_PCID_DRAWS, nextProfileState, startTally, tallyRow } from './apply-row';
import {
  decodeFailureLog,
  decodeLegacyFailures,
  encodeFailureLog,
  failedRowBytesOf,
  keptFailures,
} from './failure-log';
import type { ApplyBatchOptions, BatchRecord, BatchRow } from './types';

/**
 * How profiles and batch records are read and written on an SQLite writer connection: shared by
 * the store's own connection and the batch worker's (sqlite-batch-worker.ts), so both apply a row
 * the same way.
 */

export interface ProfileRow {
  pc_id: string;
  third_party_id: string | null;
  attributes: string;
  modified_at: number;
  /** Read only with LINKED_PROFILE_COLUMNS: batches never read or write the ECID link. */
  marketing_cloud_visitor_id?: string | null;
}

export interface BatchRowRecord {
  batch_id: string;
  client: string;
  version: 'v1' | 'v2';
  status: BatchRecord['status'];
  batch_size: number;
  consumed_count: number;
  successful_updates: number;
  profiles_not_found: number;
  failed_updates: number;
  /** JSON of the failures of a batch written before schema version 3; '[]' since. */
  failures: string;
  /** The failure log (failure-log.ts); null for a batch written before schema version 3. */
  failure_log: Buffer | null;
  message: string | null;
  created_at: number;
  completed_at: number | null;
}

/** The columns batches read and write (the staging tables of sqlite-stage.ts have no others). */
export const PROFILE_COLUMNS = 'pc_id, third_party_id, attributes, modified_at';
/** Every column of a profile, for reads that return it. */
export const LINKED_PROFILE_COLUMNS = `${PROFILE_COLUMNS}, marketing_cloud_visitor_id`;

/** Applies profile updates and batches on one writer connection (inside the caller's transaction). */
export class SqliteProfileWriter {
  private readonly byPcId: Database.Statement;
  private readonly byThirdPartyId: Database.Statement;
  private readonly byMarketingCloudVisitorId: Database.Statement;
  private readonly upsert: Database.Statement;
  private readonly insertNew: Database.Statement;
  private readonly readBatch: Database.Statement;
  private readonly updateBatch: Database.Statement;

  constructor(db: Database.Database) {
    const columns = LINKED_PROFILE_COLUMNS;
    this.byPcId = db.prepare(`SELECT ${columns} FROM profiles WHERE client = ? AND pc_id = ?`);
    this.byThirdPartyId = db.prepare(`SELECT ${columns} FROM profiles WHERE client = ? AND third_party_id = ?`);
    this.byMarketingCloudVisitorId = db.prepare(
      `SELECT ${columns} FROM profiles WHERE client = ? AND marketing_cloud_visitor_id = ?`,
    );
    this.upsert = db.prepare(
      `INSERT INTO profiles (client, pc_id, third_party_id, attributes, modified_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (client, pc_id) DO UPDATE SET attributes = excluded.attributes, modified_at = excluded.modified_at`,
    );
    this.insertNew = db.prepare(
      `INSERT INTO profiles (client, pc_id, third_party_id, attributes, modified_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (client, pc_id) DO NOTHING`,
    );
    this.readBatch = db.prepare('SELECT * FROM batches WHERE batch_id = ?');
    this.updateBatch = db.prepare(
      `UPDATE batches SET status = @status, consumed_count = @consumed_count, successful_updates = @successful_updates,
         profiles_not_found = @profiles_not_found, failed_updates = @failed_updates, failures = @failures,
         failure_log = @failure_log, message = @message, completed_at = @completed_at
       WHERE batch_id = @batch_id`,
    );
  }

  /**
   * Applies one update. A new profile keyed by thirdPartyId claims its random pcId by inserting
   * it, as on PostgreSQL: when the pcId is taken (a draw repeated within the millisecond), nothing
   * is inserted and the pcId is drawn again. No lookup per new profile, which a large batch of new
   * visitors would pay 500,000 times.
   */
  applyRow(client: string, update: ProfileUpdate, createMissing: boolean, now: number) {
    if (update.key.kind !== 'marketingCloudVisitorId') {
      const row = { ...update, key: update.key };
      return this.applyTo(this.lookup(client, row), client, row, createMissing, now);
    }
    // A profile is never created by ECID: the update goes to the profile the ECID is linked to.
    const linked = this.byMarketingCloudVisitorId.get(client, update.key.id) as ProfileRow | undefined;
    if (linked === undefined) return { status: 'notFound' as const };
    const row = { ...update, key: { kind: 'pcId' as const, id: linked.pc_id } };
    return this.applyTo(linked, client, row, false, now);
  }

  /** The stored row of the update's profile, if any. */
  private lookup(client: string, update: ProfileUpdate<BatchKey>): ProfileRow | undefined {
    return (update.key.kind === 'pcId' ? this.byPcId : this.byThirdPartyId).get(client, update.key.id) as
      ProfileRow | undefined;
  }

  /** Applies one update to its profile's stored row (undefined: there is none). */
  private applyTo(
    row: ProfileRow | undefined,
    client: string,
    update: ProfileUpdate<BatchKey>,
    createMissing: boolean,
    now: number,
  ) {
    const existing = row ? toProfile(row) : null;
    const taken = new Set<string>();
    for (;;) {
      const result = nextProfileState(existing, update, createMissing, now, (pcId) => taken.has(pcId));
      if (result.status !== 'write' || !result.changed) return result;
      const p = result.profile;
      const values = [
        client,
        p.pcId,
        p.thirdPartyId ?? null,
        encodeAttributes(p.attributes, p.modifiedAt),
        p.modifiedAt,
      ];
      if (!result.created || update.key.kind === 'pcId') {
        this.upsert.run(values);
        return result;
      }
      if (this.insertNew.run(values).changes === 1) return result;
      taken.add(p.pcId);
      if (taken.size >= MAX_PCID_DRAWS) throw new Error(`No free pcId found after ${taken.size} random draws`);
    }
  }

  /**
   * Applies one row of a batch. `fresh`, when given, is the row's new profile worked out ahead
   * (freshRowOf, on another thread): it is written as it is when the row's profile does not exist,
   * which is most rows of a batch of new visitors.
   */
  applyBatchRow(client: string, row: BatchRow, options: ApplyBatchOptions, fresh: FreshRow | null): RowStatus {
    const stored = this.lookup(client, row);
    if (stored === undefined && fresh !== null && options.createMissing) {
      if ('rejected' in fresh) return { status: 'rejected', message: fresh.rejected };
      const values = [client, fresh.pcId, fresh.thirdPartyId, fresh.attributes, fresh.modifiedAt];
      if (row.key.kind === 'pcId') {
        this.upsert.run(values);
        return { status: 'write' };
      }
      if (this.insertNew.run(values).changes === 1) return { status: 'write' };
      // Its pcId is taken (a repeated draw): applied as any row, with a new draw.
    }
    return this.applyTo(stored, client, row, options.createMissing, options.now);
  }

  /**
   * Starts applying a stored `incomplete` batch: returns what each row goes through and, at the
   * end, writes the batch `complete` and returns its record. Throws for an unknown batch or one
   * already applied.
   */
  startBatch(client: string, batchId: string, options: ApplyBatchOptions): BatchApplication {
    const stored = this.readBatch.get(batchId) as BatchRowRecord | undefined;
    if (!stored || stored.client !== client) throw new Error(`Unknown batch ${batchId}`);
    if (stored.status !== 'incomplete') throw new Error(`Batch ${batchId} is already ${stored.status}`);
    const batch = toBatch(stored);
    const tally = startTally(batch);
    return {
      apply: (row: BatchRow, fresh: FreshRow | null = null) =>
        tallyRow(tally, row, this.applyBatchRow(client, row, options, fresh)),
      finish: () => {
        const kept = keptFailures(tally.failures, tally.failedRowBytes);
        const done: BatchRecord = { ...batch, ...tally, ...kept, status: 'complete', completedAt: options.now };
        this.updateBatch.run(fromBatch(done));
        return done;
      },
    };
  }
}

/** How a row went, as a batch counts it. */
type RowStatus = { status: 'write' } | { status: 'notFound' } | { status: 'rejected'; message: string };

/** A batch row's new profile, ready to insert: its columns, or why it is refused. */
export type FreshRow =
  { pcId: string; thirdPartyId: string | null; attributes: string; modifiedAt: number } | { rejected: string };

/**
 * The profile a row of a batch that creates missing profiles makes when its profile does not
 * exist: the same nextProfileState as every other write, worked out ahead of the lookup (it needs
 * none), so that the thread holding the writer does only the lookup and the insert.
 */
export function freshRowOf(row: BatchRow, now: number): FreshRow {
  const result = nextProfileState(null, row, true, now, () => false);
  if (result.status === 'rejected') return { rejected: result.message };
  if (result.status !== 'write') throw new Error('A missing profile is always created here');
  const p = result.profile;
  return {
    pcId: p.pcId,
    thirdPartyId: p.thirdPartyId ?? null,
    attributes: encodeAttributes(p.attributes, p.modifiedAt),
    modifiedAt: p.modifiedAt,
  };
}

/** A batch being applied on a writer connection. */
export interface BatchApplication {
  /** Applies a row; `fresh` is its freshRowOf, when worked out ahead. */
  apply(row: BatchRow, fresh?: FreshRow | null): void;
  /** Records the batch `complete` (in the same transaction) and returns its record. */
  finish(): BatchRecord;
}

/** Attribute names as JSON strings; a client has few names, and each batch row repeats them all. */
const quotedNames = new Map<string, string>();

function quotedName(name: string): string {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    quoted = JSON.stringify(name);
    if (quotedNames.size < 10_000) quotedNames.set(name, quoted);
  }
  return quoted;
}

/**
 * Attributes are stored as `{"name":"value"}` for a value changed with its profile (at its
 * `modified_at`), and as `{"name":["value",modifiedAt]}` for one changed before: most values
 * change with their profile (every value of a profile a batch creates), and a time for each made
 * a third of what a large batch wrote (issue 18). A profile created from a batch row is then
 * stored as the JSON of the row's attributes, without decoding it (sqlite-stage.ts). Rows written
 * before keep a time for every value and read the same (toProfile). Written by hand (what
 * JSON.stringify would write, without building the object first): half the cost.
 */
export function encodeAttributes(attributes: Record<string, AttributeValue>, modifiedAt: number): string {
  let json = '';
  for (const name of Object.keys(attributes)) {
    const a = attributes[name]!;
    const value = JSON.stringify(a.value);
    json += `${json === '' ? '{' : ','}${quotedName(name)}:${a.modifiedAt === modifiedAt ? value : `[${value},${a.modifiedAt}]`}`;
  }
  return json === '' ? '{}' : `${json}}`;
}

/**
 * The stored attributes of a profile that a batch row creates at `now`: what `encodeAttributes`
 * of `mergeAttributes({}, updates, now)` gives with the profile modified `now` (empty values
 * skipped, every value modified with the profile, so none has a time of its own),
 * written straight from the row, since most rows of a large batch create a profile. Null when the
 * result might be over the profile size limit: the caller then takes the general path, which
 * measures it and refuses it when it is.
 */
export function encodeNewAttributes(updates: Record<string, string>): string | null {
  let json = '';
  let units = 0;
  for (const name of Object.keys(updates)) {
    const value = updates[name]!;
    if (value === '') continue;
    units += name.length + value.length;
    json += `${json === '' ? '{' : ','}${quotedName(name)}:${JSON.stringify(value)}`;
  }
  // A UTF-16 code unit is at most 3 UTF-8 bytes (as mergeAttributes counts).
  if (units * 3 > PROFILE_LIMITS.maxProfileBytes) return null;
  return json === '' ? '{}' : `${json}}`;
}

/**
 * The stored attributes of a profile that a batch row creates, from the JSON text of the row's
 * attributes (scanBatchRow), without decoding it: the text itself when it is what
 * encodeNewAttributes would write (no empty value, so no `""` in it; short enough that the
 * profile cannot be over the size limit), else null (decode the row and take the general path).
 */
export function newAttributesFromText(text: string): string | null {
  return text.length * 3 <= PROFILE_LIMITS.maxProfileBytes && !text.includes('""') ? text : null;
}

export function toProfile(row: ProfileRow): Profile {
  // A value without its own time changed with the profile (see encodeAttributes).
  const stored = JSON.parse(row.attributes) as Record<string, string | [string, number?]>;
  const attributes: Record<string, AttributeValue> = Object.create(null);
  for (const name of Object.keys(stored)) {
    const entry = stored[name]!;
    attributes[name] =
      typeof entry === 'string'
        ? { value: entry, modifiedAt: row.modified_at }
        : { value: entry[0], modifiedAt: entry[1] ?? row.modified_at };
  }
  const profile: Profile = { pcId: row.pc_id, attributes, modifiedAt: row.modified_at };
  if (row.third_party_id !== null) profile.thirdPartyId = row.third_party_id;
  if (typeof row.marketing_cloud_visitor_id === 'string')
    profile.marketingCloudVisitorId = row.marketing_cloud_visitor_id;
  return profile;
}

export function toBatch(row: BatchRowRecord): BatchRecord {
  const batch: BatchRecord = {
    batchId: row.batch_id,
    client: row.client,
    version: row.version,
    status: row.status,
    batchSize: row.batch_size,
    consumedCount: row.consumed_count,
    successfulUpdates: row.successful_updates,
    profilesNotFound: row.profiles_not_found,
    failedUpdates: row.failed_updates,
    ...(row.failure_log ? decodeFailureLog(row.failure_log) : decodeLegacyFailures(row.failures, row.failed_updates)),
    createdAt: row.created_at,
  };
  if (row.message !== null) batch.message = row.message;
  if (row.completed_at !== null) batch.completedAt = row.completed_at;
  return batch;
}

export function fromBatch(batch: BatchRecord): BatchRowRecord {
  return {
    batch_id: batch.batchId,
    client: batch.client,
    version: batch.version,
    status: batch.status,
    batch_size: batch.batchSize,
    consumed_count: batch.consumedCount,
    successful_updates: batch.successfulUpdates,
    profiles_not_found: batch.profilesNotFound,
    failed_updates: batch.failedUpdates,
    failures: '[]',
    failure_log: encodeFailureLog(
      batch.failures,
      batch.failedRowBytes ?? failedRowBytesOf(batch.failures, batch.failedUpdates),
    ),
    message: batch.message ?? null,
    created_at: batch.createdAt,
    completed_at: batch.completedAt ?? null,
  };
}
