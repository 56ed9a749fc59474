/**
 * The worker thread that applies SQLite batches (see SqliteBatchWorker): its own connection, one
 * batch at a time. A batch is staged without the profile database's write lock and then merged
 * (SqliteBatchStage), or, when the merge finds a profile written meanwhile, applied again directly
 * in one IMMEDIATE transaction. The main thread only reads rows and posts them here, so its event
 * loop stays free for requests. Messages in: begin, rows or lines, end, merge, abort, close; out: ack,
 * staged, done, conflict, error, aborted.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { decodeBatchRows } from './encoded-rows';
import { checkpointAfterBatch, configureSqliteBatchConnection } from './sqlite-schema';
import { SqliteProfileWriter, type BatchApplication, type FreshRow } from './sqlite-rows';
import { SqliteBatchStage, type TouchedProfile } from './sqlite-stage';
import type { ApplyBatchOptions, BatchRecord, BatchRow } from './types';

/** How a batch is applied: staged then merged, or directly under the write lock. */
export type BatchMode = 'stage' | 'direct';

/** To the worker; `seq` numbers the batches, so nothing of one batch is taken for the next. */
export type BatchWorkerRequest =
  /** `batchId` null: a stage begun while the body is parsed, before the batch is recorded. */
  | { type: 'begin'; seq: number; mode: BatchMode; client: string; batchId: string | null; options: ApplyBatchOptions }
  | { type: 'rows'; seq: number; rows: BatchRow[]; fresh: Array<FreshRow | null> | null }
  /**
   * Rows still encoded (encoded-rows.ts), one string a row: decoded here, so the main thread
   * neither decodes nor copies objects; a row that creates a profile is never decoded at all.
   */
  | { type: 'lines'; seq: number; lines: readonly string[] }
  | { type: 'end'; seq: number }
  | { type: 'merge'; seq: number; touched: TouchedProfile[]; record?: { batchId: string; now: number } }
  | { type: 'abort'; seq: number }
  | { type: 'close' };

/** From the worker: each rows message acknowledged, then staged/done/conflict, error (rolled back) or aborted. */
export type BatchWorkerReply =
  | { type: 'ack'; seq: number }
  | { type: 'staged'; seq: number }
  | { type: 'done'; seq: number; record: BatchRecord }
  | { type: 'conflict'; seq: number }
  | { type: 'error'; seq: number; message: string }
  | { type: 'aborted'; seq: number };

if (parentPort) {
  const port = parentPort;
  const db = new Database((workerData as { path: string }).path);
  configureSqliteBatchConnection(db);
  const writer = new SqliteProfileWriter(db);
  const stage = new SqliteBatchStage(db);
  /** The batch being applied directly, or null (staging, none, or after it failed). */
  let direct: BatchApplication | null = null;
  let staging = false;
  let currentSeq = -1;
  const reply = (message: BatchWorkerReply): void => port.postMessage(message);
  const reset = (): void => {
    direct = null;
    staging = false;
    stage.discard();
    if (db.inTransaction) db.exec('ROLLBACK');
  };

  port.on('message', (message: BatchWorkerRequest) => {
    if (message.type === 'close') {
      reset();
      db.close();
      port.close();
      return;
    }
    const { seq } = message;
    try {
      switch (message.type) {
        case 'begin':
          reset();
          currentSeq = seq;
          if (message.mode === 'stage') {
            stage.begin(message.client, message.batchId, message.options);
            staging = true;
          } else {
            if (message.batchId === null) throw new Error('A batch is applied directly only once recorded');
            db.exec('BEGIN IMMEDIATE');
            direct = writer.startBatch(message.client, message.batchId, message.options);
          }
          break;
        case 'rows':
          if (seq === currentSeq) {
            const { rows, fresh } = message;
            if (staging) stage.applyRows(rows, fresh);
            else if (direct) for (let i = 0; i < rows.length; i++) direct.apply(rows[i]!, fresh?.[i] ?? null);
          }
          reply({ type: 'ack', seq });
          break;
        case 'lines':
          if (seq === currentSeq) {
            if (staging) stage.applyEncoded(message.lines);
            else if (direct) for (const row of decodeBatchRows(message.lines)) direct.apply(row);
          }
          reply({ type: 'ack', seq });
          break;
        case 'end':
          if (seq !== currentSeq) break;
          if (staging) reply({ type: 'staged', seq });
          else if (direct) {
            const record = direct.finish();
            db.exec('COMMIT');
            checkpointAfterBatch(db);
            direct = null;
            reply({ type: 'done', seq, record });
          }
          break;
        case 'merge':
          if (seq !== currentSeq || !staging) break;
          staging = false;
          {
            const record = stage.merge(message.touched, message.record);
            reply(record ? { type: 'done', seq, record } : { type: 'conflict', seq });
          }
          break;
        case 'abort':
          if (seq === currentSeq) reset();
          reply({ type: 'aborted', seq });
          break;
      }
    } catch (error) {
      // Nothing of a failed batch stays: roll back, and drop its rows still on their way.
      reset();
      reply({ type: 'error', seq, message: error instanceof Error ? error.message : String(error) });
    }
  });
}
