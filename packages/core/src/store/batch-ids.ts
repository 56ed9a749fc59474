import { newBatchFailures } from './failure-log';
import type { BatchRecord, NewBatch } from './types';

/** A batch id in the contract's shape: `<client>-<epochMillis>-<n>`. */
export function formatBatchId(client: string, now: number, n: number): string {
  return `${client}-${now}-${n}`;
}

/** The first record of a new batch, the `n`th of its store: incomplete, with its parse failures. */
export function newBatchRecord(batch: NewBatch, n: number): BatchRecord {
  return {
    batchId: formatBatchId(batch.client, batch.now, n),
    client: batch.client,
    version: batch.version,
    status: 'incomplete',
    batchSize: batch.batchSize,
    consumedCount: batch.parseFailedCount,
    successfulUpdates: 0,
    profilesNotFound: 0,
    failedUpdates: batch.parseFailedCount,
    ...newBatchFailures(batch),
    createdAt: batch.now,
  };
}
