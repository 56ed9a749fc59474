import type { AuditLog } from './audit';
import { systemClock, type Clock } from './clock';
import type { Store } from './store/types';

/** Timers the sweeper schedules its sweeps with; tests pass their own. */
export interface SweepTimers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of a RetentionSweeper. */
export interface RetentionSweeperOptions {
  store: Store;
  /** The clients to sweep (the server's clients): a client not named here is never touched. */
  clients: Iterable<string>;
  /** Writes the `profiles.expired` event of each client that lost profiles. */
  audit: AuditLog;
  clock?: Clock;
  /**
   * Time between the end of one sweep and the start of the next (default 30 minutes, so that a
   * profile is deleted within an hour after it expires, however long a sweep takes up to 30 minutes).
   */
  intervalMs?: number;
  /** Most profiles deleted per transaction (default 500). */
  batchSize?: number;
  /** Awaited between two transactions, so other requests get the store and the event loop (default: setImmediate). */
  yieldBetweenBatches?: () => Promise<void>;
  timers?: SweepTimers;
  /** Told about a sweep of a client that failed; the next sweep tries again. */
  onError?: (error: unknown) => void;
}

/** The default of {@link RetentionSweeperOptions.intervalMs}: 30 minutes. */
export const DEFAULT_SWEEP_INTERVAL_MS = 30 * 60_000;
/** The default of {@link RetentionSweeperOptions.batchSize}. */
export const DEFAULT_SWEEP_BATCH_SIZE = 500;
/** The actor of `profiles.expired` audit events. */
export const RETENTION_ACTOR = 'retention';

const DAY_MS = 86_400_000;

const realTimers: SweepTimers = {
  setTimeout(run, ms) {
    const timer = setTimeout(run, ms);
    timer.unref(); // a pending sweep never keeps the process alive
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Deletes the profiles each client's `profileRetentionDays` lets expire (API.md 5): once at
 * `start()`, then every `intervalMs`. Each client's expired profiles go in transactions of at most
 * `batchSize`, yielding between them, so no write lock is held long enough to delay a request.
 * Several instances sharing one PostgreSQL database may all sweep: the store skips rows another
 * holds, so each profile is deleted once. Writes one `profiles.expired` event (a count, no ids)
 * per client and sweep that deleted something.
 */
export class RetentionSweeper {
  private readonly store: Store;
  private readonly clients: string[];
  private readonly audit: AuditLog;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly yieldBetweenBatches: () => Promise<void>;
  private readonly timers: SweepTimers;
  private readonly onError: (error: unknown) => void;
  private timer: unknown = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(options: RetentionSweeperOptions) {
    this.store = options.store;
    this.clients = [...options.clients];
    this.audit = options.audit;
    this.clock = options.clock ?? systemClock;
    this.intervalMs = options.intervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    this.batchSize = options.batchSize ?? DEFAULT_SWEEP_BATCH_SIZE;
    this.yieldBetweenBatches = options.yieldBetweenBatches ?? nextTurn;
    this.timers = options.timers ?? realTimers;
    this.onError = options.onError ?? (() => undefined);
    for (const [name, value] of [
      ['intervalMs', this.intervalMs],
      ['batchSize', this.batchSize],
    ] as const) {
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new Error(`RetentionSweeper: ${name} must be a positive whole number (got ${value})`);
      }
    }
  }

  /** Sweeps now, then every `intervalMs` until `stop()`. Does nothing once stopped. */
  start(): void {
    if (this.stopped || this.running !== null || this.timer !== null) return;
    this.run();
  }

  /** Resolves once no sweep is under way (tests wait for the one a timer started). */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /** Stops sweeping: no new sweep starts, and one under way ends after its current transaction. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    await this.idle();
  }

  /**
   * One sweep of every client, now: returns how many profiles each client that lost some lost.
   * A client whose sweep fails is reported to `onError` and the others are still swept.
   */
  async sweep(): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    for (const client of this.clients) {
      if (this.stopped) break;
      try {
        const count = await this.sweepClient(client);
        if (count > 0) deleted[client] = count;
      } catch (error) {
        this.onError(new Error(`Retention sweep of client ${client} failed: ${describe(error)}`, { cause: error }));
      }
    }
    return deleted;
  }

  private run(): void {
    this.timer = null;
    this.running = this.sweep()
      .then(() => undefined)
      .finally(() => {
        this.running = null;
        if (!this.stopped) this.timer = this.timers.setTimeout(() => this.run(), this.intervalMs);
      });
  }

  private async sweepClient(client: string): Promise<number> {
    // From the store, not a cache: a change made on another instance counts at once.
    let days = (await this.store.getSettings(client)).profileRetentionDays;
    if (days === null) return 0;
    let olderThan = this.clock() - days * DAY_MS;
    let total = 0;
    try {
      for (;;) {
        const count = await this.store.deleteExpiredProfiles(client, olderThan, this.batchSize);
        total += count;
        if (count < this.batchSize || this.stopped) break;
        await this.yieldBetweenBatches();
        if (this.stopped) break;
        // Read again before each transaction: an admin who turns retention off or lengthens it
        // (a mistaken value) stops the deletion at once, not after this sweep of maybe millions.
        // A shorter retention waits for the next sweep, as documented.
        const now = (await this.store.getSettings(client)).profileRetentionDays;
        if (now === null) break;
        if (now > days) {
          days = now;
          olderThan = this.clock() - now * DAY_MS;
        }
      }
    } finally {
      if (total > 0) {
        await this.audit.record(client, RETENTION_ACTOR, 'profiles.expired', {
          count: total,
          profileRetentionDays: days,
          modifiedBefore: new Date(olderThan).toISOString(),
        });
      }
    }
    return total;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
