/** What the PostgreSQL store tests share: the test database, per-run schemas, small helpers. */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { BatchRow, BatchRows, TokenRecord } from '../src/store/types';

export const URL = process.env['PROFILEGATE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
/** Every schema of this run starts with this, so runs (and their cleanup) never meet. */
/** (Not `pg_…`: PostgreSQL reserves that prefix.) */
const RUN = `profilegate_test_${process.pid}_${randomBytes(4).toString('hex')}`;
const schemas: string[] = [];
let schemaCount = 0;

/** A new schema name of this run; `dropSchemas` removes it. */
export function newSchema(): string {
  const schema = `${RUN}_${++schemaCount}`;
  schemas.push(schema);
  return schema;
}

/** Drops every schema `newSchema` handed out so far. */
export async function dropSchemas(): Promise<void> {
  if (schemas.length === 0) return;
  const admin = new Client({ connectionString: URL });
  await admin.connect();
  try {
    for (const schema of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.end();
  }
}

/** Runs `sql` on a short-lived connection of its own. */
export async function adminQuery<R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []) {
  const admin = new Client({ connectionString: URL });
  await admin.connect();
  try {
    return (await admin.query<R>(sql, params)).rows;
  } finally {
    await admin.end();
  }
}

async function reachable(): Promise<string | null> {
  const probe = new Client({ connectionString: URL, connectionTimeoutMillis: 3000 });
  try {
    await probe.connect();
    await probe.query('SELECT 1');
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await probe.end().catch(() => undefined);
  }
}

/**
 * A `before` hook: skips the suite (saying why) when PostgreSQL is unreachable, or fails it
 * when CI is set, since CI must run these tests.
 */
export async function requirePostgres(this: Mocha.Context): Promise<void> {
  const problem = await reachable();
  if (problem === null) return;
  const message = `PostgreSQL unreachable at ${URL} (${problem})`;
  if (process.env['CI']) {
    throw new Error(
      `${message}: CI is set, so the PostgreSQL store tests must run; start PostgreSQL or set PROFILEGATE_TEST_POSTGRES_URL`,
    );
  }
  console.log(`${message}: skipping`);
  this.skip();
}

/** Polls `condition` every 10 ms; returns the ms it took, or throws after `ms`. */
export async function until(what: string, condition: () => boolean | Promise<boolean>, ms: number): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > ms) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

export function tokenRecord(jti: string): TokenRecord {
  return { jti, kid: 'k1', createdAt: NOW, expiresAt: NOW + 90 * 86_400_000, createdBy: 'ops' };
}

export function row(kind: 'pcId' | 'thirdPartyId', id: string, attributes: Record<string, string>): BatchRow {
  return { key: { kind, id }, attributes };
}

/** The rows in chunks of `size`, readable again from the start (as a store may). */
export function chunks(rows: BatchRow[], size: number): BatchRows {
  return async function* () {
    for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
  };
}
