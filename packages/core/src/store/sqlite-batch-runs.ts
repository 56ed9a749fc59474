import { Mutex } from './mutex';
import type { SqliteBatchEngines } from './sqlite-batch';
import { RowFeed } from './sqlite-prestage';
import type { TouchedProfile } from './sqlite-stage';
import type { ApplyBatchOptions, BatchRecord, BatchRows, PrestagedBatch } from './types';

/** What SqliteBatchRuns needs of its store. */
export interface SqliteBatchRunsHost {
  /** Throws once the store is closed. */
  checkOpen(): void;
  /** Runs `task` under the store's write lock. */
  write<T>(task: () => Promise<T>): Promise<T>;
  /** The batch was applied: from now on its record is an ordinary one. */
  finished(batchId: string): void;
}

/** What the caller of a batch staged while its body was parsed chose: apply it (recorded) or not. */
interface EarlyChoice {
  batchId: string;
  rows: BatchRows;
  options: ApplyBatchOptions;
}

type Engine = ReturnType<SqliteBatchEngines['get']>;

/** A batch staged while its body arrived whose stage stopped: it is applied as any other. */
const FELL_BACK = Symbol('fell back');

/**
 * Most profiles written while one batch is staged that its merge checks one by one (a stage lasts
 * as long as its body's upload, which a slow client can make hours). Past it, the list is dropped
 * and the batch is applied again directly under the lock, as when it read a touched profile:
 * always right, only slower. 100,000 entries are about 15 MB.
 */
export const MAX_TOUCHED_PROFILES = 100_000;
/** The touched list was dropped: the batch is applied directly. */
const TOO_MANY = Symbol('too many touched profiles');

/**
 * How SqliteStore runs its batches, one at a time (docs/sqlite-batches.md): staged on the batch
 * engine's connection without the write lock, then merged under it; when a profile the batch read
 * was written meanwhile (`touch`), applied again directly under the lock instead. A batch may be
 * staged while its body is still parsed (`prestage`); nothing of it reaches `profiles` before it is
 * recorded, accepted and merged.
 */
export class SqliteBatchRuns {
  /** One batch at a time; its stage runs outside the store's write lock, its merge inside. */
  private readonly runs = new Mutex();
  /** Profiles written while a batch is staged, for its merge to check (null when none is). */
  private touched: TouchedProfile[] | typeof TOO_MANY | null = null;
  /** Batches applied or waiting to be: a body is not staged while another batch waits. */
  private queued = 0;
  /** The batch being staged while its body is parsed, if any. */
  private early: { handle: PrestagedBatch; feed: RowFeed; finish(chosen: EarlyChoice): Promise<BatchRecord> } | null =
    null;

  constructor(
    private readonly engines: SqliteBatchEngines,
    private readonly host: SqliteBatchRunsHost,
    private readonly limits: { maxTouched: number } = { maxTouched: MAX_TOUCHED_PROFILES },
  ) {}

  /** A profile was written (or deleted) by something else than the batch being staged. */
  touch(...profiles: TouchedProfile[]): void {
    if (this.touched === null || this.touched === TOO_MANY) return;
    this.touched.push(...profiles);
    if (this.touched.length > this.limits.maxTouched) this.touched = TOO_MANY;
  }

  /** Stages and merges a batch; `prestaged`, when it is the batch staged while its body was parsed, is merged. */
  async apply(
    client: string,
    batchId: string,
    rows: BatchRows,
    options: ApplyBatchOptions,
    prestaged?: PrestagedBatch,
  ): Promise<BatchRecord> {
    const early = this.early;
    if (early && prestaged === early.handle) return early.finish({ batchId, rows, options });
    // A body still arriving must not hold this batch up: its stage stops, and that batch is
    // applied from its spool once accepted, after this one.
    early?.feed.fail(new Error('Another batch is waiting'));
    this.queued++;
    try {
      return await this.runs.run(async () => {
        this.host.checkOpen();
        return await this.stageAndMerge(this.engines.get(), client, batchId, rows, options);
      });
    } finally {
      this.queued--;
    }
  }

  /**
   * Starts staging a batch while its body is parsed: its rows are worked out as they arrive, and
   * nothing reaches `profiles` before `apply` merges them. Null when another batch is being
   * applied or waits (the body would otherwise wait for it).
   */
  prestage(client: string, options: ApplyBatchOptions): PrestagedBatch | null {
    if (this.early || this.queued > 0) return null;
    const feed = new RowFeed();
    let decide: (chosen: EarlyChoice | null) => void = () => undefined;
    const decided = new Promise<EarlyChoice | null>((resolve) => (decide = resolve));
    this.queued++;
    const result = this.runs.run(async (): Promise<BatchRecord | null | typeof FELL_BACK> => {
      try {
        this.host.checkOpen();
        const engine = this.engines.get();
        this.touched = [];
        let staged = true;
        try {
          await engine.stage(client, null, feed.rows(), options);
        } catch {
          staged = false; // the body was refused, another batch waits, or the worker failed
        } finally {
          feed.close();
        }
        // Without a stage the batch holds nothing: if it is accepted, it is applied from its
        // spool as any other, in its turn.
        if (!staged) return FELL_BACK;
        const chosen = await decided;
        if (chosen === null) {
          await engine.discard();
          return null;
        }
        const { batchId, rows } = chosen;
        return await this.merge(engine, client, batchId, rows, chosen.options, { batchId, now: chosen.options.now });
      } finally {
        this.touched = null;
        this.early = null;
        this.queued--;
        feed.close();
      }
    });
    result.catch(() => undefined); // awaited by `finish`; a discarded batch's failure matters to no one
    const handle: PrestagedBatch = {
      add: (chunk) => feed.push(chunk),
      discard: async () => {
        feed.fail(new Error('The batch was not accepted'));
        decide(null);
        await result.catch(() => undefined);
      },
    };
    this.early = {
      handle,
      feed,
      finish: async (chosen) => {
        feed.end();
        decide(chosen);
        const done = await result;
        if (done === FELL_BACK) return this.apply(client, chosen.batchId, chosen.rows, chosen.options);
        if (!done) throw new Error(`Batch ${chosen.batchId} was discarded`);
        return done;
      },
    };
    return handle;
  }

  /** Rows of the batch being staged while its body is parsed that its stage has taken so far. */
  stagedRows(): number {
    return this.early?.feed.taken ?? 0;
  }

  /** Runs `task` once the batch being applied (if any) is done. */
  afterBatches(task: () => Promise<void>): Promise<void> {
    return this.runs.run(task);
  }

  /** Stops the batch engines. */
  closeEngines(): Promise<void> {
    return this.engines.close();
  }

  private async stageAndMerge(
    engine: Engine,
    client: string,
    batchId: string,
    rows: BatchRows,
    options: ApplyBatchOptions,
  ): Promise<BatchRecord> {
    this.touched = [];
    try {
      await engine.stage(client, batchId, rows, options);
      return await this.merge(engine, client, batchId, rows, options);
    } finally {
      this.touched = null;
    }
  }

  /** Merges the staged batch under the write lock, or applies it there directly when a profile it read was written meanwhile. */
  private async merge(
    engine: Engine,
    client: string,
    batchId: string,
    rows: BatchRows,
    options: ApplyBatchOptions,
    record?: { batchId: string; now: number },
  ): Promise<BatchRecord> {
    const done = await this.host.write(async () => {
      const touched = this.touched ?? [];
      this.touched = null;
      if (touched === TOO_MANY) {
        await engine.discard();
        return await engine.apply(client, batchId, rows, options);
      }
      return (await engine.merge(touched, record)) ?? (await engine.apply(client, batchId, rows, options));
    });
    this.host.finished(batchId);
    return done;
  }
}
