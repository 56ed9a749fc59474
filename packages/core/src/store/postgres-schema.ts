import type { ClientBase } from 'pg';

/**
 * Versioned schema migrations of the PostgreSQL store. `{schema}` stands for the quoted schema
 * name. Append only: never edit a migration that has shipped.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `CREATE TABLE {schema}.profiles (
     client text NOT NULL,
     pc_id text NOT NULL,
     third_party_id text,
     attributes jsonb NOT NULL,
     modified_at bigint NOT NULL,
     PRIMARY KEY (client, pc_id)
   );
   CREATE UNIQUE INDEX profiles_third_party ON {schema}.profiles (client, third_party_id)
     WHERE third_party_id IS NOT NULL;
   CREATE TABLE {schema}.batches (
     batch_id text PRIMARY KEY,
     client text NOT NULL,
     version text NOT NULL,
     status text NOT NULL,
     batch_size integer NOT NULL,
     consumed_count integer NOT NULL,
     successful_updates integer NOT NULL,
     profiles_not_found integer NOT NULL,
     failed_updates integer NOT NULL,
     failures jsonb NOT NULL,
     message text,
     created_at bigint NOT NULL,
     completed_at bigint
   );
   CREATE INDEX batches_client_created ON {schema}.batches (client, created_at);
   CREATE INDEX batches_incomplete ON {schema}.batches (created_at) WHERE status = 'incomplete';
   CREATE SEQUENCE {schema}.batch_seq;
   CREATE TABLE {schema}.settings (client text PRIMARY KEY, require_authentication boolean NOT NULL);
   CREATE TABLE {schema}.token_state (client text PRIMARY KEY, current jsonb, graced jsonb NOT NULL);
   CREATE TABLE {schema}.audit (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     client text NOT NULL,
     at bigint NOT NULL,
     actor text NOT NULL,
     action text NOT NULL,
     details jsonb NOT NULL
   );
   CREATE INDEX audit_client ON {schema}.audit (client, id);`,
];

/** First key of the migration advisory lock (the second is the schema's hash): "PGate" in ASCII. */
export const MIGRATION_LOCK_KEY = 0x50476174;

/** A schema name Profilegate accepts: a plain SQL identifier, so it never needs escaping rules. */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Checks a schema name and returns it quoted for SQL. */
export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(
      `PostgreSQL schema name ${JSON.stringify(schema)} is not allowed; use letters, digits and "_" (at most 63, not starting with a digit)`,
    );
  }
  if (schema.toLowerCase().startsWith('pg_')) {
    throw new Error(
      `PostgreSQL schema name ${schema} is not allowed: names starting with "pg_" are reserved by PostgreSQL`,
    );
  }
  return `"${schema}"`;
}

/**
 * Creates the schema if needed and runs the migrations it has not seen, in one transaction
 * under an advisory lock, so several instances starting at once run each migration once.
 * Returns how many migrations ran.
 */
export async function migratePostgres(client: ClientBase, schema: string): Promise<number> {
  const q = quoteSchema(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK_KEY, schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${q}.profilegate_migrations (
         version integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${q}.profilegate_migrations`,
    );
    const current = rows[0]?.version ?? 0;
    if (current > POSTGRES_MIGRATIONS.length) {
      throw new Error(
        `The database schema ${schema} is version ${current}, newer than this Profilegate (${POSTGRES_MIGRATIONS.length}); upgrade Profilegate`,
      );
    }
    for (let version = current; version < POSTGRES_MIGRATIONS.length; version++) {
      await client.query(POSTGRES_MIGRATIONS[version]!.replaceAll('{schema}', q));
      await client.query(`INSERT INTO ${q}.profilegate_migrations (version) VALUES ($1)`, [version + 1]);
    }
    await client.query('COMMIT');
    return POSTGRES_MIGRATIONS.length - current;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
