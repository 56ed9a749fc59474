import type { Pool } from 'pg';
import { DB_NOW_MS } from './postgres-schema';
import { ABANDONED_BATCH_MESSAGE } from './types';

/** Options of {@link BatchLeases}. */
export interface BatchLeasesOptions {
  pool: Pool;
  /** The quoted schema. */
  schema: string;
  /** How long a batch stays reserved for its instance without a renewal. */
  leaseMs: number;
}

/**
 * Batch leases of one PostgreSQL instance. A batch records the instance that accepted it and a
 * lease (`lease_until`, database clock). While the batch is this instance's to apply (from
 * `createBatch` until it is complete or stuck), the instance renews the lease several times per
 * lease period. Every instance marks `stuck` the incomplete batches whose lease ran out — their
 * instance died — at start-up and then periodically, so no live instance's batch is ever taken,
 * and a dead one's is reported within about one lease period.
 */
export class BatchLeases {
  /** Batches this instance holds. */
  private readonly held = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly q: string;

  constructor(private readonly options: BatchLeasesOptions) {
    this.q = options.schema;
  }

  /** How often leases are renewed and expired ones recovered: six times per lease. */
  get intervalMs(): number {
    return Math.max(20, Math.floor(this.options.leaseMs / 6));
  }

  /** Starts renewing and recovering in the background. */
  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.tick().finally(() => (this.running = null));
    }, this.intervalMs);
    // Leases must not keep a finished process alive.
    this.timer.unref();
  }

  /** From now on this instance renews the batch's lease. */
  hold(batchId: string): void {
    this.held.add(batchId);
  }

  /** The batch is complete or stuck (or given up): stop renewing it. */
  release(batchId: string): void {
    this.held.delete(batchId);
  }

  /** Marks incomplete batches whose lease ran out as stuck; returns how many. */
  async recover(): Promise<number> {
    // SKIP LOCKED: a batch row locked by a running transaction (an older Profilegate applying
    // it) is left alone; the lease is checked again on the locked, current row.
    const result = await this.options.pool.query(
      `UPDATE ${this.q}.batches SET status = 'stuck', message = $1
       WHERE status = 'incomplete' AND lease_until < ${DB_NOW_MS} AND batch_id IN (
         SELECT batch_id FROM ${this.q}.batches WHERE status = 'incomplete' AND lease_until < ${DB_NOW_MS}
         FOR UPDATE SKIP LOCKED)`,
      [ABANDONED_BATCH_MESSAGE],
    );
    return result.rowCount ?? 0;
  }

  /**
   * Stops renewing. Batches still held (the app closed the store without waiting for them) get
   * their lease ended, so any instance marks them stuck at once rather than after a lease.
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    if (this.held.size === 0) return;
    const held = [...this.held];
    this.held.clear();
    await this.options.pool
      .query(
        `UPDATE ${this.q}.batches SET lease_until = 0 WHERE batch_id = ANY($1::text[]) AND status = 'incomplete'`,
        [held],
      )
      .catch(() => undefined);
  }

  private async tick(): Promise<void> {
    try {
      if (this.held.size > 0) {
        await this.options.pool.query(
          `UPDATE ${this.q}.batches SET lease_until = ${DB_NOW_MS} + $2
           WHERE batch_id = ANY($1::text[]) AND status = 'incomplete'`,
          [[...this.held], this.options.leaseMs],
        );
      }
      await this.recover();
    } catch {
      // The database is unreachable: the next tick tries again. Requests report the outage.
    }
  }
}
