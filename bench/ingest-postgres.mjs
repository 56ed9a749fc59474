// Figure 12 (issue 18): bulk ingest on the PostgreSQL store, against its independent floor. The
// demo server runs on a PostgreSQL schema of its own (127.0.0.1:5432, database `test`); the
// 500,000-row batch of figure 2 is POSTed to the v2 batchUpdate route and batchStatus polled until
// `complete`: rows/s end to end. The floor is the plainest fast set-based way to keep the same
// profiles with the same all-or-nothing guarantee, built without the product's code: read the body
// line by line, decode each cell, and upsert 10,000 rows a statement
// (`INSERT … SELECT FROM unnest(…) ON CONFLICT (client, third_party_id) DO UPDATE SET attributes =
// profiles.attributes || EXCLUDED.attributes`) into a table of its own, in one transaction. The
// floor runs before and after the server; the faster counts. Target: at least 0.5 of the floor.
//   node bench/ingest-postgres.mjs [--json] [--rows N]
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BENCH_CLIENT,
  argValue,
  batchRowId,
  decodedBatchLines,
  emitJson,
  makeBatch,
  postBatch,
  progress,
  rssOf,
  setRequireAuthentication,
  startDemo,
  waitComplete,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const { Client } = require('pg');
const ROWS = Number(argValue('--rows', 500_000));
const DATABASE = 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `bench_ingest_${process.pid}`;
const STATEMENT_ROWS = 10_000;

/** The floor: line by line, 10,000 rows a statement, one transaction. Seconds, parsing included. */
async function floor(db, body) {
  const table = `${SCHEMA}.floor_profiles`;
  await db.query(`DROP TABLE IF EXISTS ${table}`);
  await db.query(
    `CREATE TABLE ${table} (client text NOT NULL, third_party_id text NOT NULL, attributes jsonb NOT NULL,
       PRIMARY KEY (client, third_party_id))`,
  );
  const t0 = performance.now();
  await db.query('BEGIN');
  let ids = [];
  let attributes = [];
  const flush = async () => {
    await db.query(
      `INSERT INTO ${table} (client, third_party_id, attributes)
       SELECT $1, id, attrs::jsonb FROM unnest($2::text[], $3::text[]) AS u(id, attrs)
       ON CONFLICT (client, third_party_id) DO UPDATE SET attributes = ${table}.attributes || EXCLUDED.attributes`,
      [BENCH_CLIENT, ids, attributes],
    );
    ids = [];
    attributes = [];
  };
  for (const [id, attrs] of decodedBatchLines(body)) {
    ids.push(id);
    attributes.push(attrs);
    if (ids.length >= STATEMENT_ROWS) await flush();
  }
  if (ids.length > 0) await flush();
  await db.query('COMMIT');
  const seconds = (performance.now() - t0) / 1000;
  await db.query(`DROP TABLE ${table}`);
  return seconds;
}

const db = new Client({ connectionString: DATABASE });
await db.connect();
const data = mkdtempSync(join(tmpdir(), 'profilegate-ingest-pg-'));
let server;
try {
  await db.query(`CREATE SCHEMA ${SCHEMA}`);
  progress(`generating the ${ROWS}-row batch`);
  const body = makeBatch(ROWS);
  progress('floor: set-based upserts, 10,000 rows a statement (1/2)');
  const floorRuns = [await floor(db, body)];
  server = await startDemo({
    data,
    store: `${DATABASE}?schema=${SCHEMA}`,
    env: { PROFILEGATE_BULK_RATE_LIMIT: 'off' },
  });
  await setRequireAuthentication(server.url, false);
  progress(`POSTing the batch to the server on PostgreSQL`);
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(server.child.pid)?.rss ?? 0)), 50);
  const started = performance.now();
  const posted = await postBatch(server.url, body);
  const acceptedSeconds = (performance.now() - started) / 1000;
  const status = await waitComplete(posted.batchStatus, 200);
  const totalSeconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  if (status !== 'complete') throw new Error(`the batch ended ${status}`);
  const last = await fetch(
    `${server.url}/rest/v1/profiles/thirdPartyId/${batchRowId(ROWS - 1)}?client=${BENCH_CLIENT}`,
  );
  if (last.status !== 200) throw new Error(`the batch's last row was not stored (${last.status})`);
  await server.stop();
  server = undefined;
  progress('floor: set-based upserts, 10,000 rows a statement (2/2)');
  floorRuns.push(await floor(db, body));
  const floorSeconds = Math.min(...floorRuns);
  const result = {
    bench: 'ingest-postgres',
    rows: ROWS,
    acceptedSeconds,
    totalSeconds,
    rowsPerSecond: ROWS / totalSeconds,
    peakRssMB: peakRss / 2 ** 20,
    floorSeconds,
    floorRunsSeconds: floorRuns,
    floorRowsPerSecond: ROWS / floorSeconds,
  };
  result.ratioToFloor = result.rowsPerSecond / result.floorRowsPerSecond;
  console.log(
    `PostgreSQL store: ${ROWS} rows accepted in ${acceptedSeconds.toFixed(1)} s, complete after ${totalSeconds.toFixed(1)} s = ` +
      `${Math.round(result.rowsPerSecond)} rows/s end to end; floor (set-based upsert, parsing included) ` +
      `${floorSeconds.toFixed(1)} s = ${Math.round(result.floorRowsPerSecond)} rows/s: ${result.ratioToFloor.toFixed(2)} (target >= 0.5)`,
  );
  emitJson(result);
} finally {
  await server?.stop();
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await db.end();
  rmSync(data, { recursive: true, force: true });
}
