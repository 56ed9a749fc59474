// Opt-in (issue 18): does the PostgreSQL store stay fast as a client grows to 10 million profiles?
// The demo server runs on a PostgreSQL schema of its own (127.0.0.1:5432, database `test`); the
// profiles are built in SQL on the database server (generate_series, in batches of 1,000,000 rows,
// not through the API), first 10,000, then up to 10,000,000. At each size, the same sequential
// requests run against profiles spread over the whole table: fetches by thirdPartyId, then single
// updates; figures are their p50 and p99, and the ratio of the 10M p99 to the 10k p99 (target at
// most 1.5×). The schema is dropped at the end. About 5–10 minutes and 4 GB of disk.
//   node bench/scale.mjs [--json] [--profiles N] [--requests N]
//   npm run bench -- --scale
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_CLIENT, argValue, emitJson, percentile, progress, setRequireAuthentication, startDemo } from './lib.mjs';

const require = createRequire(import.meta.url);
const { Client } = require('pg');
const BIG = Number(argValue('--profiles', 10_000_000));
const SMALL = 10_000;
const REQUESTS = Number(argValue('--requests', 2_000));
const CHUNK = 1_000_000;
const DATABASE = 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `bench_scale_${process.pid}`;

/** Profiles `from` to `to - 1` of the bench client, written by the database server itself. */
async function buildProfiles(db, from, to) {
  for (let start = from; start < to; start += CHUNK) {
    const end = Math.min(to, start + CHUNK);
    await db.query(
      `INSERT INTO ${SCHEMA}.profiles (client, pc_id, third_party_id, attributes, modified_at)
       SELECT $1, 'pc-' || n, 's' || lpad(n::text, 8, '0'),
              jsonb_build_array(jsonb_build_array('tier', 'gold', $4::bigint),
                                jsonb_build_array('city', 'Berlin', $4::bigint),
                                jsonb_build_array('visits', n::text, $4::bigint)),
              $4::bigint
       FROM generate_series($2::bigint, $3::bigint - 1) AS n`,
      [BENCH_CLIENT, start, end, Date.UTC(2026, 0, 1)],
    );
    progress(`${end.toLocaleString('en-US')} profiles`);
  }
  await db.query(`ANALYZE ${SCHEMA}.profiles`);
}

/** Sequential fetches and single updates of profiles spread over the first `size` ones. */
async function measure(url, size) {
  const id = (i) => `s${String(Math.floor(((i * 7_919) % size) + 0)).padStart(8, '0')}`;
  const timed = async (path) => {
    const t0 = performance.now();
    const res = await fetch(`${url}${path}`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    return performance.now() - t0;
  };
  for (let i = 0; i < 100; i++) await timed(`/rest/v1/profiles/thirdPartyId/${id(i)}?client=${BENCH_CLIENT}`);
  const fetches = [];
  for (let i = 0; i < REQUESTS; i++)
    fetches.push(await timed(`/rest/v1/profiles/thirdPartyId/${id(i + 100)}?client=${BENCH_CLIENT}`));
  const updates = [];
  for (let i = 0; i < REQUESTS; i++) {
    updates.push(await timed(`/m2/${BENCH_CLIENT}/profile/update?mbox3rdPartyId=${id(i + 7)}&profile.lastSeen=${i}`));
  }
  return {
    fetchP50: percentile(fetches, 50),
    fetchP99: percentile(fetches, 99),
    updateP50: percentile(updates, 50),
    updateP99: percentile(updates, 99),
  };
}

const db = new Client({ connectionString: DATABASE });
await db.connect();
const data = mkdtempSync(join(tmpdir(), 'profilegate-scale-'));
const store = `${DATABASE}?schema=${SCHEMA}`;
let server;
try {
  await db.query(`CREATE SCHEMA ${SCHEMA}`);
  // The server's first start creates the tables (its migrations); the profiles go in after.
  server = await startDemo({ data, store, env: { PROFILEGATE_BULK_RATE_LIMIT: 'off' } });
  await setRequireAuthentication(server.url, false); // the gate has its own benchmark
  await buildProfiles(db, 0, SMALL);
  progress(`measuring at ${SMALL.toLocaleString('en-US')} profiles (${REQUESTS} fetches, ${REQUESTS} updates)`);
  const small = await measure(server.url, SMALL);
  await buildProfiles(db, SMALL, BIG);
  progress(`measuring at ${BIG.toLocaleString('en-US')} profiles`);
  const big = await measure(server.url, BIG);
  const result = {
    bench: 'scale',
    small: SMALL,
    big: BIG,
    requests: REQUESTS,
    at10k: small,
    atBig: big,
    fetchP99Ratio: big.fetchP99 / small.fetchP99,
    updateP99Ratio: big.updateP99 / small.updateP99,
  };
  console.log(
    `fetch p50/p99: ${small.fetchP50.toFixed(1)}/${small.fetchP99.toFixed(1)} ms at ${SMALL}, ` +
      `${big.fetchP50.toFixed(1)}/${big.fetchP99.toFixed(1)} ms at ${BIG}: p99 ${result.fetchP99Ratio.toFixed(2)}× (target <= 1.5×)`,
  );
  console.log(
    `single update p50/p99: ${small.updateP50.toFixed(1)}/${small.updateP99.toFixed(1)} ms at ${SMALL}, ` +
      `${big.updateP50.toFixed(1)}/${big.updateP99.toFixed(1)} ms at ${BIG}: p99 ${result.updateP99Ratio.toFixed(2)}× (target <= 1.5×)`,
  );
  emitJson(result);
} finally {
  await server?.stop();
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await db.end();
  rmSync(data, { recursive: true, force: true });
}
