import type { ClientBase } from 'pg';

/** The database's clock in epoch milliseconds: leases use it, so instances' clocks need not agree. */
export const DB_NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

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
  // 2: attribute merges in SQL, and batch leases (instances recover only batches nobody holds).
  // profilegate_merge applies mergeAttributes' rules to the stored `[[name, value, modifiedAt], …]`
  // array: new values replace different ones in place, new names go last in their order, equal
  // values keep their time. It returns the merged array; NULL when nothing changes; or, when
  // the result would be over max_bytes (UTF-8 bytes of names and values), that size as a number.
  // PL/pgSQL with only simple expressions: several times cheaper per row than a SQL function.
  `CREATE FUNCTION {schema}.profilegate_merge(stored jsonb, changes jsonb, max_bytes bigint) RETURNS jsonb
   LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
   DECLARE
     n integer := jsonb_array_length(stored);
     names text[];
     vals text[];
     merged jsonb[];
     bytes bigint := 0;
     changed boolean := false;
     e jsonb;
     attr text;
     val text;
     at integer;
   BEGIN
     FOR i IN 1 .. n LOOP
       e := stored -> (i - 1);
       attr := e ->> 0;
       val := e ->> 1;
       names[i] := attr;
       vals[i] := val;
       merged[i] := e;
       bytes := bytes + octet_length(attr) + octet_length(val);
     END LOOP;
     FOR j IN 0 .. jsonb_array_length(changes) - 1 LOOP
       e := changes -> j;
       attr := e ->> 0;
       val := e ->> 1;
       at := array_position(names, attr);
       IF at IS NULL THEN
         n := n + 1;
         merged[n] := e;
         bytes := bytes + octet_length(attr) + octet_length(val);
         changed := true;
       ELSIF vals[at] <> val THEN
         merged[at] := e;
         bytes := bytes + octet_length(val) - octet_length(vals[at]);
         changed := true;
       END IF;
     END LOOP;
     IF NOT changed THEN
       RETURN NULL;
     ELSIF bytes > max_bytes THEN
       RETURN to_jsonb(bytes);
     END IF;
     RETURN to_jsonb(merged);
   END
   $$;
   ALTER TABLE {schema}.batches ADD COLUMN owner text, ADD COLUMN lease_until bigint NOT NULL DEFAULT 0;
   -- Batches an older Profilegate inserts during a rolling upgrade name no lease: ten minutes.
   ALTER TABLE {schema}.batches
     ALTER COLUMN lease_until SET DEFAULT (${DB_NOW_MS} + 600000);
   DROP INDEX {schema}.batches_incomplete;
   CREATE INDEX batches_incomplete ON {schema}.batches (lease_until) WHERE status = 'incomplete';`,
  // 3: fingerprints of the signing keys (never the keys): instances whose keys differ refuse to start.
  `CREATE TABLE {schema}.signing_keys (
     kid text PRIMARY KEY,
     fingerprint text NOT NULL,
     registered_by text NOT NULL,
     registered_at bigint NOT NULL,
     retired_at bigint
   );`,
  // 4: failed rows kept as a failure log (failure-log.ts), at most as large as the failing rows;
  // \`failures\` keeps the JSON of batches written before, and '[]' for new ones.
  `ALTER TABLE {schema}.batches ADD COLUMN failure_log bytea;`,
  // 5: a profile may carry one Experience Cloud ID, which names at most one profile of its client.
  `ALTER TABLE {schema}.profiles ADD COLUMN marketing_cloud_visitor_id text;
   CREATE UNIQUE INDEX profiles_marketing_cloud_visitor_id ON {schema}.profiles (client, marketing_cloud_visitor_id)
     WHERE marketing_cloud_visitor_id IS NOT NULL;`,
  // 6: attribute removal (API.md 5). profilegate_merge with a `removals` array of names: those
  // attributes leave the stored array first (an absent name is no change), then profilegate_merge
  // merges the new values into what is left. NULL when nothing changes; as profilegate_merge
  // otherwise. The three-argument function stays for instances not yet upgraded.
  `CREATE FUNCTION {schema}.profilegate_merge(stored jsonb, changes jsonb, removals jsonb, max_bytes bigint)
   RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
   DECLARE
     kept jsonb;
     merged jsonb;
   BEGIN
     SELECT COALESCE(jsonb_agg(e ORDER BY o), '[]'::jsonb) INTO kept
       FROM jsonb_array_elements(stored) WITH ORDINALITY AS s(e, o)
       WHERE NOT (removals ? (e ->> 0));
     merged := {schema}.profilegate_merge(kept, changes, max_bytes);
     IF merged IS NOT NULL OR jsonb_array_length(kept) = jsonb_array_length(stored) THEN
       RETURN merged;
     END IF;
     RETURN kept;
   END
   $$;`,
  // 7: per-client retention in days (API.md 5), NULL keeping profiles forever, and the index the
  // retention sweep finds a client's profiles by last modification with.
  `ALTER TABLE {schema}.settings ADD COLUMN profile_retention_days integer;
   CREATE INDEX profiles_modified ON {schema}.profiles (client, modified_at);`,
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
