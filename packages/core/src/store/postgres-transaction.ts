import type { Pool, PoolClient, QueryResult } from 'pg';

/** How many times a transaction runs before a deadlock or serialization failure is reported. */
export const MAX_TRANSACTION_ATTEMPTS = 5;

/**
 * SQLSTATEs after which running the whole transaction again is right: it lost a deadlock
 * (40P01) or met a serialization failure (40001, only under an isolation level above the
 * READ COMMITTED that Profilegate asks for).
 */
const RETRYABLE = new Set(['40P01', '40001']);

/** Whether a `pg` error means "run the transaction again". */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE.has(code);
}

/**
 * Runs `work` in one READ COMMITTED transaction on one pooled connection (whatever the server's
 * default isolation: the merges rely on it) and rolls back on any error. A transaction that lost
 * a deadlock or a race is run again from the start, a few times, after a short random pause:
 * `work` must be safe to run again (everything it did was rolled back).
 */
export async function runTransaction<T>(
  pool: Pool,
  work: (db: PoolClient) => Promise<T>,
  attempts = MAX_TRANSACTION_ATTEMPTS,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runOnce(pool, work);
    } catch (error) {
      if (!isRetryable(error) || attempt >= attempts) {
        if (attempt > 1) {
          throw new Error(`${(error as Error).message} (after ${attempt} attempts)`, { cause: error });
        }
        throw error;
      }
      // Random, growing pauses: two transactions that deadlocked do not meet again in step.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 50 * attempt));
    }
  }
}

/** How the store's modules reach the database; both refuse once the store is closed. */
export interface PostgresAccess {
  /** One statement on any pooled connection. */
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /** `work` in one transaction, run again after a deadlock (runTransaction). */
  transaction<T>(work: (db: PoolClient) => Promise<T>): Promise<T>;
}

/** The PostgresAccess of a store over `pool`, closed once `isClosed()` says so. */
export function poolAccess(pool: Pool, isClosed: () => boolean): PostgresAccess {
  const checkOpen = () => {
    if (isClosed()) throw new Error('The PostgreSQL store is closed');
  };
  return {
    async query<R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []) {
      checkOpen();
      return pool.query<R>(sql, params);
    },
    async transaction<T>(work: (db: PoolClient) => Promise<T>): Promise<T> {
      checkOpen();
      return runTransaction(pool, work);
    },
  };
}

async function runOnce<T>(pool: Pool, work: (db: PoolClient) => Promise<T>): Promise<T> {
  const db = await pool.connect();
  let broken: Error | undefined;
  try {
    await db.query('BEGIN ISOLATION LEVEL READ COMMITTED');
    const result = await work(db);
    await db.query('COMMIT');
    return result;
  } catch (error) {
    await db.query('ROLLBACK').catch((rollbackError: Error) => {
      // A connection that cannot roll back must not go back to the pool.
      broken = rollbackError;
    });
    throw error;
  } finally {
    db.release(broken);
  }
}
