import type Database from 'better-sqlite3';
import { newBatchRecord } from './batch-ids';
import { fromBatch, toBatch, type BatchRowRecord } from './sqlite-rows';
import type { BatchRecord, NewBatch } from './types';
import { ABANDONED_BATCH_MESSAGE } from './types';

/**
 * The SQLite store's batch records: created, read, marked stuck, recovered after a restart and
 * pruned. Synchronous, as better-sqlite3 is: the store runs each write in its write queue.
 */
export class SqliteBatchRecords {
  /** Batches this store created that are not finished yet: recovery leaves them alone. */
  private readonly created = new Set<string>();
  private readonly sql: ReturnType<typeof prepare>;

  constructor(
    private readonly writer: Database.Database,
    reader: Database.Database,
  ) {
    this.sql = prepare(writer, reader);
  }

  /** Records a new batch, numbered by the `counters` table, in one immediate transaction. */
  create(batch: NewBatch): BatchRecord {
    return this.writer
      .transaction((): BatchRecord => {
        const n = (this.sql.nextCounter.get('batch') as { value: number }).value;
        const record = newBatchRecord(batch, n);
        this.sql.insertBatch.run(fromBatch(record));
        this.created.add(record.batchId);
        return record;
      })
      .immediate();
  }

  /** A batch this store created was applied: from now on it is an ordinary record. */
  finished(batchId: string): void {
    this.created.delete(batchId);
  }

  markStuck(client: string, batchId: string, message: string): void {
    this.sql.markStuck.run(message, batchId, client);
    this.created.delete(batchId);
  }

  get(client: string, batchId: string): BatchRecord | null {
    const row = this.sql.readBatch.get(batchId, client) as BatchRowRecord | undefined;
    return row ? toBatch(row) : null;
  }

  /**
   * Marks stuck every incomplete batch this store did not create, and says how many. One process
   * owns the file: such a batch was left by an earlier run that stopped before applying it.
   */
  recoverAbandoned(): number {
    return this.sql.recoverStuck.run(ABANDONED_BATCH_MESSAGE, JSON.stringify([...this.created])).changes;
  }

  prune(client: string, keepLast: number, olderThan: number): void {
    this.sql.pruneBatches.run(client, olderThan, client, keepLast);
  }
}

function prepare(writer: Database.Database, reader: Database.Database) {
  return {
    nextCounter: writer.prepare(
      `INSERT INTO counters (name, value) VALUES (?, 1)
       ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`,
    ),
    insertBatch: writer.prepare(
      `INSERT INTO batches (batch_id, client, version, status, batch_size, consumed_count, successful_updates,
         profiles_not_found, failed_updates, failures, failure_log, message, created_at, completed_at)
       VALUES (@batch_id, @client, @version, @status, @batch_size, @consumed_count, @successful_updates,
         @profiles_not_found, @failed_updates, @failures, @failure_log, @message, @created_at, @completed_at)`,
    ),
    readBatch: reader.prepare('SELECT * FROM batches WHERE batch_id = ? AND client = ?'),
    markStuck: writer.prepare(
      `UPDATE batches SET status = 'stuck', message = ? WHERE batch_id = ? AND client = ? AND status = 'incomplete'`,
    ),
    recoverStuck: writer.prepare(
      `UPDATE batches SET status = 'stuck', message = ?
       WHERE status = 'incomplete' AND batch_id NOT IN (SELECT value FROM json_each(?))`,
    ),
    pruneBatches: writer.prepare(
      `DELETE FROM batches WHERE client = ? AND created_at < ? AND batch_id NOT IN
         (SELECT batch_id FROM batches WHERE client = ? ORDER BY created_at DESC LIMIT ?)`,
    ),
  };
}
