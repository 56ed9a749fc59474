/**
 * The worker thread that applies SQLite batches (see SqliteBatchWorker): its own writer
 * connection, one batch at a time, in one transaction. The main thread only reads rows and posts
 * them here, so its event loop stays free for requests, and commits and checkpoints of a large
 * batch do not stall it. Messages in: begin, rows, end, abort, close; out: ack, done, error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { configureSqliteWriter } from './sqlite-schema';
import { SqliteProfileWriter, type BatchApplication, type FreshRow } from './sqlite-rows';
import type { ApplyBatchOptions, BatchRecord, BatchRow } from './types';

/** To the worker; `seq` numbers the batches, so nothing of one batch is taken for the next. */
export type BatchWorkerRequest =
  | { type: 'begin'; seq: number; client: string; batchId: string; options: ApplyBatchOptions }
  | { type: 'rows'; seq: number; rows: BatchRow[]; fresh: Array<FreshRow | null> | null }
  | { type: 'end'; seq: number }
  | { type: 'abort'; seq: number }
  | { type: 'close' };

/** From the worker: each rows message acknowledged, then done, error (rolled back) or aborted. */
export type BatchWorkerReply =
  | { type: 'ack'; seq: number }
  | { type: 'done'; seq: number; record: BatchRecord }
  | { type: 'error'; seq: number; message: string }
  | { type: 'aborted'; seq: number };

if (parentPort) {
  const port = parentPort;
  const db = new Database((workerData as { path: string }).path);
  configureSqliteWriter(db);
  const writer = new SqliteProfileWriter(db);
  /** The batch being applied and its number; null when none, or after it failed. */
  let current: BatchApplication | null = null;
  let currentSeq = -1;
  const reply = (message: BatchWorkerReply): void => port.postMessage(message);

  port.on('message', (message: BatchWorkerRequest) => {
    if (message.type === 'close') {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.close();
      port.close();
      return;
    }
    const { seq } = message;
    try {
      switch (message.type) {
        case 'begin':
          currentSeq = seq;
          db.exec('BEGIN IMMEDIATE');
          current = writer.startBatch(message.client, message.batchId, message.options);
          break;
        case 'rows':
          if (current && seq === currentSeq) {
            const { rows, fresh } = message;
            for (let i = 0; i < rows.length; i++) current.apply(rows[i]!, fresh?.[i] ?? null);
          }
          reply({ type: 'ack', seq });
          break;
        case 'end':
          if (current && seq === currentSeq) {
            const record = current.finish();
            db.exec('COMMIT');
            current = null;
            reply({ type: 'done', seq, record });
          }
          break;
        case 'abort':
          if (seq === currentSeq) {
            current = null;
            if (db.inTransaction) db.exec('ROLLBACK');
          }
          reply({ type: 'aborted', seq });
          break;
      }
    } catch (error) {
      // Nothing of a failed batch stays: roll back, and drop its rows still on their way.
      current = null;
      if (db.inTransaction) db.exec('ROLLBACK');
      reply({ type: 'error', seq, message: error instanceof Error ? error.message : String(error) });
    }
  });
}
