/** The PostgreSQL the cross-package tests use, and whether it answers. */
import { Client } from 'pg';

/** `PROFILEGATE_TEST_POSTGRES_URL`, or the local server every machine of this project runs. */
export const PG_URL = process.env['PROFILEGATE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Null when PostgreSQL at PG_URL answers a query; otherwise why not. */
export async function postgresProblem(): Promise<string | null> {
  const probe = new Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
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
