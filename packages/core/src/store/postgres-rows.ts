import type { AttributeValue, Profile } from '../profiles/types';
import { decodeFailureLog, decodeLegacyFailures, encodeFailureLog, failedRowBytesOf } from './failure-log';
import type { AuditEvent, BatchRecord, TokenRecord, TokenState } from './types';

/** A `profiles` row as `pg` returns it (bigint arrives as a string). */
export interface PgProfileRow {
  pc_id: string;
  third_party_id: string | null;
  attributes: Array<[string, string, number]>;
  modified_at: string;
  /** Absent where a statement does not read it (batches never read or write the link). */
  marketing_cloud_visitor_id?: string | null;
}

/** A `batches` row as `pg` returns it. */
export interface PgBatchRow {
  batch_id: string;
  client: string;
  version: 'v1' | 'v2';
  status: BatchRecord['status'];
  batch_size: number;
  consumed_count: number;
  successful_updates: number;
  profiles_not_found: number;
  failed_updates: number;
  /** The failures of a batch written before schema version 4 (`[{id, message}]`); `[]` since. */
  failures: Array<{ id: string; message: string }>;
  /** The failure log (failure-log.ts); null for a batch written before schema version 4. */
  failure_log: Buffer | null;
  message: string | null;
  created_at: string;
  completed_at: string | null;
}

/** An `audit` row as `pg` returns it. */
export interface PgAuditRow {
  at: string;
  actor: string;
  action: AuditEvent['action'];
  details: Record<string, unknown>;
}

/** A `token_state` row as `pg` returns it. */
export interface PgTokenStateRow {
  current: TokenRecord | null;
  graced: TokenState['graced'];
}

/**
 * Attributes are stored as a jsonb array of `[name, value, modifiedAt]`: a jsonb object would
 * reorder the names, and every store must return them in the order they were first set.
 */
export function encodeAttributes(attributes: Record<string, AttributeValue>): string {
  const out: Array<[string, string, number]> = [];
  for (const name of Object.keys(attributes)) {
    const a = attributes[name]!;
    out.push([name, a.value, a.modifiedAt]);
  }
  return JSON.stringify(out);
}

/** A profile from its row. */
export function toProfile(row: PgProfileRow): Profile {
  const attributes: Record<string, AttributeValue> = Object.create(null);
  for (const [name, value, modifiedAt] of row.attributes) attributes[name] = { value, modifiedAt };
  const profile: Profile = { pcId: row.pc_id, attributes, modifiedAt: Number(row.modified_at) };
  if (row.third_party_id !== null) profile.thirdPartyId = row.third_party_id;
  if (typeof row.marketing_cloud_visitor_id === 'string')
    profile.marketingCloudVisitorId = row.marketing_cloud_visitor_id;
  return profile;
}

/** A batch record from its row. */
export function toBatch(row: PgBatchRow): BatchRecord {
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
    createdAt: Number(row.created_at),
  };
  if (row.message !== null) batch.message = row.message;
  if (row.completed_at !== null) batch.completedAt = Number(row.completed_at);
  return batch;
}

/** The parameters of a batch row, in the column order of `BATCH_COLUMNS`. */
export function batchParams(batch: BatchRecord): unknown[] {
  return [
    batch.batchId,
    batch.client,
    batch.version,
    batch.status,
    batch.batchSize,
    batch.consumedCount,
    batch.successfulUpdates,
    batch.profilesNotFound,
    batch.failedUpdates,
    '[]',
    failureLogOf(batch),
    batch.message ?? null,
    batch.createdAt,
    batch.completedAt ?? null,
  ];
}

/** The columns `batchParams` fills, in order. */
export const BATCH_COLUMNS =
  'batch_id, client, version, status, batch_size, consumed_count, successful_updates, profiles_not_found, failed_updates, failures, failure_log, message, created_at, completed_at';

/** The failure log of a batch record, for the `failure_log` column. */
export function failureLogOf(batch: BatchRecord): Buffer {
  return encodeFailureLog(
    batch.failures,
    batch.failedRowBytes ?? failedRowBytesOf(batch.failures, batch.failedUpdates),
  );
}

/** A token state from its row (or its absence). */
export function toTokenState(row: PgTokenStateRow | undefined): TokenState {
  if (!row) return { current: null, graced: [] };
  return { current: row.current, graced: row.graced };
}
