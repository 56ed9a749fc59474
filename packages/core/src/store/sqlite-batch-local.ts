import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { checkpointAfterBatch, configureSqliteBatchConnection } from './sqlite-schema';
import { SqliteProfileWriter, type BatchApplication } from './sqlite-rows';
import { SqliteBatchStage, type TouchedProfile } from './sqlite-stage';
import type { ApplyBatchOptions, BatchRecord, BatchRow, BatchRows } from './types';

/** Rows applied between two looks at the clock. */
const CLOCK_EVERY_ROWS = 32;

/**
 * SqliteBatchWorker's work done on this thread, on a connection of its own, yielding to the event
 * loop every `sliceMs` (or `chunkRows` rows) so that other requests are answered meanwhile. Used
 * when the worker is turned off or its script is missing (running from TypeScript sources).
 */
export class SqliteLocalBatches {
  private readonly db: Database.Database;
  private readonly stager: SqliteBatchStage;
  private readonly writer: SqliteProfileWriter;

  constructor(
    path: string,
    private readonly chunkRows: number,
    private readonly sliceMs: number,
  ) {
    this.db = new Database(path);
    configureSqliteBatchConnection(this.db);
    this.stager = new SqliteBatchStage(this.db);
    this.writer = new SqliteProfileWriter(this.db);
  }

  /** Stages a batch (see SqliteBatchStage); on failure the stage is dropped before this rejects. */
  async stage(client: string, batchId: string | null, rows: BatchRows, options: ApplyBatchOptions) {
    try {
      this.stager.begin(client, batchId, options);
      await this.each(rows(), (row) => this.stager.apply(row));
    } catch (error) {
      this.stager.discard();
      throw error;
    }
  }

  /** Merges the staged batch: its record, or null when it must be applied directly. */
  async merge(touched: TouchedProfile[], record?: { batchId: string; now: number }): Promise<BatchRecord | null> {
    try {
      return this.stager.merge(touched, record);
    } catch (error) {
      this.stager.discard();
      throw error;
    }
  }

  /** Drops the staged batch (it was not accepted), storing nothing. */
  async discard(): Promise<void> {
    this.stager.discard();
  }

  /** Applies a batch directly, in one IMMEDIATE transaction that yields between slices. */
  async apply(client: string, batchId: string, rows: BatchRows, options: ApplyBatchOptions): Promise<BatchRecord> {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const batch: BatchApplication = this.writer.startBatch(client, batchId, options);
      await this.each(rows(), (row) => batch.apply(row));
      const done = batch.finish();
      this.db.exec('COMMIT');
      checkpointAfterBatch(this.db);
      return done;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  async close(): Promise<void> {
    this.stager.discard();
    this.db.close();
  }

  private async each(rows: AsyncIterable<BatchRow[]>, apply: (row: BatchRow) => void): Promise<void> {
    let sinceYield = 0;
    let sliceStart = performance.now();
    for await (const chunk of rows) {
      for (const row of chunk) {
        apply(row);
        ++sinceYield;
        if (
          sinceYield >= this.chunkRows ||
          (sinceYield % CLOCK_EVERY_ROWS === 0 && performance.now() - sliceStart >= this.sliceMs)
        ) {
          await yieldToEventLoop();
          sinceYield = 0;
          sliceStart = performance.now();
        }
      }
    }
  }
}
