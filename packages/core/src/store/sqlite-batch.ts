import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BatchMode, BatchWorkerReply, BatchWorkerRequest } from './sqlite-batch-worker';
import { SqliteLocalBatches } from './sqlite-batch-local';
import { freshRowOf } from './sqlite-rows';
import type { TouchedProfile } from './sqlite-stage';
import type { ApplyBatchOptions, BatchRecord, BatchRows } from './types';

/** Row chunks posted and not yet applied: enough to keep the worker busy, few enough for memory. */
const MAX_IN_FLIGHT = 4;

/** Where the batch being applied stands, as the worker's replies tell. */
interface Progress {
  seq: number;
  sent: number;
  acked: number;
  staged: boolean;
  done: BatchRecord | null;
  conflict: boolean;
  error: Error | null;
  aborted: boolean;
}

/**
 * The main-thread side of sqlite-batch-worker.ts: a worker thread with its own connection that
 * stages batches and merges them (SqliteBatchStage), or applies them directly. The caller
 * (SqliteStore) holds its write lock around `merge` and `apply`, so two writer connections never
 * write profiles at the same time; `stage` needs no lock.
 */
export class SqliteBatchWorker {
  private seq = 0;
  private progress: Progress | null = null;
  private wake: (() => void) | null = null;
  private stopped: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: BatchWorkerReply) => this.receive(reply));
    worker.on('error', (error) => this.stop(error));
    worker.on('exit', (code) => this.stop(new Error(`The SQLite batch worker exited (code ${code})`)));
    worker.unref(); // an idle worker does not keep the process alive
  }

  /** Starts a worker on the database file, or returns null when its script is not there (run from sources). */
  static start(path: string): SqliteBatchWorker | null {
    const script = join(__dirname, 'sqlite-batch-worker.js');
    if (!existsSync(script)) return null;
    // A small young generation: the worker's garbage is row chunks, short-lived and uniform, and
    // the default lets the thread hold tens of MB more while a large batch is applied.
    const resourceLimits = { maxYoungGenerationSizeMb: 8 };
    return new SqliteBatchWorker(new Worker(script, { workerData: { path }, resourceLimits }));
  }

  /** False once the worker has stopped (it crashed or was closed); start another then. */
  get alive(): boolean {
    return this.stopped === null;
  }

  /**
   * Stages a batch in the worker without the write lock; resolves once every row is staged. If
   * `rows` throws, or the worker fails, the stage is dropped before this rejects.
   */
  async stage(client: string, batchId: string | null, rows: BatchRows, options: ApplyBatchOptions) {
    await this.run('stage', client, batchId, rows, options, (p) => p.staged);
  }

  /** Merges the staged batch (see SqliteBatchStage.merge): its record, or null when it must be applied directly. */
  async merge(touched: TouchedProfile[], record?: { batchId: string; now: number }): Promise<BatchRecord | null> {
    const progress = this.progress;
    if (!progress?.staged) throw new Error('No staged batch to merge');
    try {
      this.worker.ref();
      this.post({ type: 'merge', seq: progress.seq, touched, ...(record ? { record } : {}) });
      await this.until(() => progress.done !== null || progress.conflict || progress.error !== null);
      if (progress.error) throw progress.error;
      return progress.done;
    } finally {
      this.progress = null;
      this.worker.unref();
    }
  }

  /** Drops the staged batch (it was not accepted), storing nothing. */
  async discard(): Promise<void> {
    const progress = this.progress;
    if (!progress || this.stopped) return;
    try {
      this.worker.ref();
      this.post({ type: 'abort', seq: progress.seq });
      await this.until(() => progress.aborted || progress.error !== null);
    } finally {
      this.progress = null;
      this.worker.unref();
    }
  }

  /**
   * Applies a batch in the worker directly: one IMMEDIATE transaction, committed only after the
   * last row. If `rows` throws, or the worker fails, it is rolled back before this rejects.
   */
  async apply(client: string, batchId: string, rows: BatchRows, options: ApplyBatchOptions): Promise<BatchRecord> {
    try {
      const progress = await this.run('direct', client, batchId, rows, options, (p) => p.done !== null);
      return progress.done!;
    } finally {
      this.progress = null;
    }
  }

  private async run(
    mode: BatchMode,
    client: string,
    batchId: string | null,
    rows: BatchRows,
    options: ApplyBatchOptions,
    finished: (progress: Progress) => boolean,
  ): Promise<Progress> {
    if (this.stopped) throw this.stopped;
    const progress: Progress = {
      seq: ++this.seq,
      sent: 0,
      acked: 0,
      staged: false,
      done: null,
      conflict: false,
      error: null,
      aborted: false,
    };
    this.progress = progress;
    this.worker.ref(); // the process must not exit with a batch half applied
    try {
      this.post({ type: 'begin', seq: progress.seq, mode, client, batchId, options });
      const sent = async () => {
        progress.sent++;
        await this.until(() => progress.error !== null || progress.sent - progress.acked <= MAX_IN_FLIGHT);
      };
      try {
        if (rows.encoded) {
          // Rows still as text go as they are (one flat string a chunk): the worker decodes them.
          for await (const chunk of rows.encoded()) {
            if (progress.error) break;
            this.post({ type: 'lines', seq: progress.seq, lines: chunk.lines });
            await sent();
          }
        } else {
          for await (const chunk of rows()) {
            if (progress.error) break;
            // New profiles are worked out here, while the worker writes: it only looks up and inserts.
            const fresh = options.createMissing ? chunk.map((row) => freshRowOf(row, options.now)) : null;
            this.post({ type: 'rows', seq: progress.seq, rows: chunk, fresh });
            await sent();
          }
        }
      } catch (error) {
        if (!progress.error) {
          this.post({ type: 'abort', seq: progress.seq });
          await this.until(() => progress.aborted || progress.error !== null);
        }
        throw error;
      }
      if (!progress.error) {
        this.post({ type: 'end', seq: progress.seq });
        await this.until(() => finished(progress) || progress.error !== null);
      }
      if (progress.error) throw progress.error;
      return progress;
    } catch (error) {
      this.progress = null;
      throw error;
    } finally {
      this.worker.unref();
    }
  }

  /** Closes the worker's connection and ends the thread. */
  async close(): Promise<void> {
    if (this.stopped) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    // An idle worker is unref'd; while it closes its connection, the process must wait for it,
    // or a script whose last handle this is ends before `close()` settles.
    this.worker.ref();
    this.post({ type: 'close' });
    await exited;
  }

  private post(message: BatchWorkerRequest): void {
    this.worker.postMessage(message);
  }

  private receive(reply: BatchWorkerReply): void {
    const progress = this.progress;
    if (!progress || reply.seq !== progress.seq) return;
    if (reply.type === 'ack') progress.acked++;
    else if (reply.type === 'staged') progress.staged = true;
    else if (reply.type === 'conflict') progress.conflict = true;
    else if (reply.type === 'done') progress.done = reply.record;
    else if (reply.type === 'aborted') progress.aborted = true;
    else progress.error = new Error(reply.message);
    this.notify();
  }

  private stop(error: Error): void {
    this.stopped ??= error;
    if (this.progress && !this.progress.done) this.progress.error ??= error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Resolves once `ready()` holds, checked again after each reply of the worker. */
  private async until(ready: () => boolean): Promise<void> {
    while (!ready()) await new Promise<void>((resolve) => (this.wake = resolve));
  }
}

/** How SqliteStore applies batches (its options `batchWorker`, `batchChunkRows`, `batchSliceMs`). */
export interface SqliteBatchEngineOptions {
  useWorker: boolean;
  chunkRows: number;
  sliceMs: number;
}

/** Where a SqliteStore stages and merges its batches: a worker thread, or this thread's own connection. */
export class SqliteBatchEngines {
  private worker: SqliteBatchWorker | null = null;
  private local: SqliteLocalBatches | null = null;

  constructor(
    private readonly path: string,
    private readonly options: SqliteBatchEngineOptions,
  ) {}

  /** The worker (started again if it died), or this thread's batch connection. */
  get(): SqliteBatchWorker | SqliteLocalBatches {
    if (this.options.useWorker) {
      if (!this.worker?.alive) this.worker = SqliteBatchWorker.start(this.path);
      if (this.worker) return this.worker;
    }
    this.local ??= new SqliteLocalBatches(this.path, this.options.chunkRows, this.options.sliceMs);
    return this.local;
  }

  /** Stops the worker and closes this thread's batch connection, if they were started. */
  async close(): Promise<void> {
    await this.worker?.close();
    this.worker = null;
    await this.local?.close();
    this.local = null;
  }
}
