import type { ClientBase } from 'pg';
import { startTally, tallyRow } from './apply-row';
import type { BatchTally } from './apply-row';
import { DrawnPcIds, encodeRow } from './postgres-encode';
import type { EncodedRow } from './postgres-encode';
import { applyProfileRows } from './postgres-profiles';
import type { RowResult } from './postgres-profiles';
import { keptFailures } from './failure-log';
import { newBatchRecord } from './batch-ids';
import { BATCH_COLUMNS, batchParams, failureLogOf, toBatch } from './postgres-rows';
import type { PgBatchRow } from './postgres-rows';
import { DB_NOW_MS } from './postgres-schema';
import type { PostgresAccess } from './postgres-transaction';
import type { ApplyBatchOptions, BatchRecord, BatchRow, NewBatch } from './types';

/** One batch application: which batch, its rows (one reading of them) and its options. */
export interface BatchApplication {
  client: string;
  batchId: string;
  rows: AsyncIterable<BatchRow[]>;
  options: ApplyBatchOptions;
}

/**
 * Applies a batch inside the caller's transaction, `chunkRows` rows per SQL round trip, and marks
 * it complete in that same transaction. Fails (so the caller rolls everything back) when the
 * batch is not `incomplete`, including when it was marked stuck while it was applied.
 */
export async function applyBatchOnce(
  db: ClientBase,
  schema: string,
  chunkRows: number,
  { client, batchId, rows, options }: BatchApplication,
): Promise<BatchRecord> {
  const found = await db.query<PgBatchRow>(`SELECT * FROM ${schema}.batches WHERE batch_id = $1`, [batchId]);
  const stored = found.rows[0];
  if (!stored || stored.client !== client) throw new Error(`Unknown batch ${batchId}`);
  if (stored.status !== 'incomplete') throw new Error(`Batch ${batchId} is already ${stored.status}`);
  const batch = toBatch(stored);
  const tally = startTally(batch);
  const apply = {
    createMissing: options.createMissing,
    now: options.now,
    withProfiles: false,
    drawn: new DrawnPcIds(options.now),
  };
  let pending: BatchRow[] = [];
  let pendingEncoded: EncodedRow[] = [];
  const flush = async () => {
    const chunk = pending;
    const encoded = pendingEncoded;
    pending = [];
    pendingEncoded = [];
    tallyRows(tally, chunk, await applyProfileRows(db, schema, client, chunk, apply, encoded));
  };
  // Each next chunk is read and encoded while the one before is written.
  for await (const [chunk, encoded] of readAhead(encodedChunks(rows, options.now))) {
    for (let i = 0; i < chunk.length; i++) {
      pending.push(chunk[i]!);
      pendingEncoded.push(encoded[i]!);
      if (pending.length >= chunkRows) await flush();
    }
  }
  if (pending.length > 0) await flush();
  const kept = keptFailures(tally.failures, tally.failedRowBytes);
  const done: BatchRecord = { ...batch, ...tally, ...kept, status: 'complete', completedAt: options.now };
  // Only an incomplete batch completes: if its lease ran out meanwhile and an instance marked
  // it stuck, everything above rolls back, as its status says.
  const completed = await db.query(
    `UPDATE ${schema}.batches SET status = 'complete', consumed_count = $2, successful_updates = $3,
       profiles_not_found = $4, failed_updates = $5, failures = '[]', failure_log = $6, completed_at = $7
     WHERE batch_id = $1 AND status = 'incomplete'`,
    [
      batchId,
      done.consumedCount,
      done.successfulUpdates,
      done.profilesNotFound,
      done.failedUpdates,
      failureLogOf(done),
      options.now,
    ],
  );
  if (completed.rowCount !== 1) {
    throw new Error(`Batch ${batchId} was marked stuck while it was applied (its lease ran out); nothing was stored`);
  }
  return done;
}

/** The chunks of `rows`, each with its rows encoded for the database. */
async function* encodedChunks(
  rows: AsyncIterable<BatchRow[]>,
  now: number,
): AsyncGenerator<[BatchRow[], EncodedRow[]]> {
  for await (const chunk of rows) yield [chunk, chunk.map((row) => encodeRow(row, now))];
}

/**
 * The chunks of `rows`, each next one read (from the spool: I/O and JSON parsing) while the
 * caller applies the one before, so that reading overlaps with the database's work. Closes the
 * reading when the caller stops early.
 */
export async function* readAhead<T>(rows: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = rows[Symbol.asyncIterator]();
  let next = iterator.next();
  // A read that fails while nobody awaits it is reported by the await below, not as unhandled.
  next.catch(() => undefined);
  let done = false;
  try {
    for (;;) {
      const result = await next;
      if (result.done) {
        done = true;
        return;
      }
      next = iterator.next();
      next.catch(() => undefined);
      yield result.value;
    }
  } finally {
    if (!done) await iterator.return?.().catch(() => undefined);
  }
}

/** Adds one applied chunk's results to the tally. */
export function tallyRows(tally: BatchTally, rows: readonly BatchRow[], results: readonly RowResult[]): void {
  for (let i = 0; i < rows.length; i++) tallyRow(tally, rows[i]!, results[i]!);
}

/** Records a new batch, leased to `owner` for `leaseMs` from the database's clock. */
export async function insertBatch(
  db: Pick<PostgresAccess, 'query'>,
  schema: string,
  batch: NewBatch,
  owner: string,
  leaseMs: number,
): Promise<BatchRecord> {
  const { rows } = await db.query<{ n: string }>(`SELECT nextval('${schema}.batch_seq') AS n`);
  const record = newBatchRecord(batch, Number(rows[0]!.n));
  await db.query(
    `INSERT INTO ${schema}.batches (${BATCH_COLUMNS}, owner, lease_until)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, ${DB_NOW_MS} + $16)`,
    [...batchParams(record), owner, leaseMs],
  );
  return record;
}

/** Marks a batch stuck with `message`, unless it is no longer incomplete. */
export async function markBatchStuckIn(
  db: Pick<PostgresAccess, 'query'>,
  schema: string,
  client: string,
  batchId: string,
  message: string,
): Promise<void> {
  await db.query(
    `UPDATE ${schema}.batches SET status = 'stuck', message = $1
     WHERE batch_id = $2 AND client = $3 AND status = 'incomplete'`,
    [message, batchId, client],
  );
}

/** A client's batch, or null. */
export async function readBatch(
  db: Pick<PostgresAccess, 'query'>,
  schema: string,
  client: string,
  batchId: string,
): Promise<BatchRecord | null> {
  const { rows } = await db.query<PgBatchRow>(`SELECT * FROM ${schema}.batches WHERE batch_id = $1 AND client = $2`, [
    batchId,
    client,
  ]);
  return rows[0] ? toBatch(rows[0]) : null;
}

/** Deletes a client's batches created before `olderThan`, except its `keepLast` newest. */
export async function pruneBatchesIn(
  db: Pick<PostgresAccess, 'query'>,
  schema: string,
  client: string,
  keepLast: number,
  olderThan: number,
): Promise<void> {
  await db.query(
    `DELETE FROM ${schema}.batches WHERE client = $1 AND created_at < $2 AND batch_id NOT IN
       (SELECT batch_id FROM ${schema}.batches WHERE client = $1 ORDER BY created_at DESC LIMIT $3)`,
    [client, olderThan, keepLast],
  );
}
