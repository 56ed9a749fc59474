// Figures 8 and 9 of the benchmarks: the time from a token revocation (`DELETE …/token` answered)
// to the first 401 seen by a client that keeps using the revoked token (issue 14).
//   8. one demo server (SQLite): the DELETE and the probes go to the same instance; target < 100 ms;
//   9. two demo servers on one PostgreSQL schema (a fresh schema per run, the same signing-key file
//      and admin key): the DELETE goes to A, the probes to B; target < 1 s.
//   node bench/revocation.mjs [--json] [--trials N]
// PostgreSQL: PROFILEGATE_BENCH_POSTGRES_URL, else PROFILEGATE_TEST_POSTGRES_URL, else
// postgres://postgres@127.0.0.1:5432/test. When it cannot be reached, figure 9 is reported as not
// measured, with the reason.
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BENCH_CLIENT,
  TOKEN_PATH,
  adminRequest,
  argValue,
  emitJson,
  generateToken,
  median,
  postBatch,
  progress,
  setRequireAuthentication,
  sleep,
  startDemo,
  waitComplete,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const TRIALS = Number(argValue('--trials', 20));
const PG_URL =
  process.env.PROFILEGATE_BENCH_POSTGRES_URL ??
  process.env.PROFILEGATE_TEST_POSTGRES_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const THIRD_PARTY_ID = 'revocation-probe';
const PROBE_PATH = `/rest/v1/profiles/thirdPartyId/${THIRD_PARTY_ID}?client=${BENCH_CLIENT}`;
/** Targets (issue 14), and how long a trial waits for the 401 after the DELETE was answered. */
const SINGLE_TARGET_MS = 100;
const CROSS_TARGET_MS = 1000;
const SINGLE_BOUND_MS = 5_000;
const CROSS_BOUND_MS = 10_000;
/** Most probes one trial sends (a probe takes about a millisecond over loopback). */
const MAX_PROBES = 50_000;
/** Probes answered 200 before the DELETE is sent: the probe loop is running steadily by then. */
const PROBES_BEFORE = 3;

/** One profile fetch with `token`; its status, the reason of a 401 and when it was sent and answered. */
async function probe(url, token) {
  const sentAt = performance.now();
  try {
    const res = await fetch(`${url}${PROBE_PATH}`, { headers: { Authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    const reason = /error_description="([^"]*)"/.exec(res.headers.get('www-authenticate') ?? '')?.[1];
    return { sentAt, answeredAt: performance.now(), status: res.status, reason };
  } catch (error) {
    return { sentAt, answeredAt: performance.now(), status: 0, reason: error.message };
  }
}

/**
 * One trial: a new token, seen working on `probeUrl` (so its caches hold it); a probe loop on
 * `probeUrl` with it, one fetch after another with no pause; the DELETE sent to `adminUrl`; the
 * loop stops at the first 401 or `boundMs` after the DELETE was answered.
 */
async function trial(adminUrl, probeUrl, boundMs) {
  const token = await generateToken(adminUrl);
  for (let i = 0; ; i++) {
    const warm = await probe(probeUrl, token);
    if (warm.status === 200) break;
    if (i >= 200) throw new Error(`A new token was not accepted on ${probeUrl} (last status ${warm.status})`);
    await sleep(10);
  }

  const probes = [];
  let stop = false;
  let looping = true;
  const loop = (async () => {
    try {
      while (!stop && probes.length < MAX_PROBES) {
        const p = await probe(probeUrl, token);
        probes.push(p);
        if (p.status === 401) return;
      }
    } finally {
      looping = false;
    }
  })();
  while (looping && probes.filter((p) => p.status === 200).length < PROBES_BEFORE) await sleep(1);
  if (!looping) throw new Error(`The probe loop ended before the revocation (last status ${probes.at(-1)?.status})`);

  const sentAt = performance.now();
  const res = await adminRequest(adminUrl, 'DELETE', TOKEN_PATH);
  const answeredAt = performance.now();
  if (res.status !== 204) throw new Error(`DELETE token answered ${res.status}: ${JSON.stringify(res.body)}`);
  const timer = setTimeout(() => (stop = true), boundMs);
  await loop;
  clearTimeout(timer);

  const refused = probes.find((p) => p.status === 401);
  // (A probe sent just before the DELETE may be answered after it, and refused: that is fine.)
  if (refused !== undefined && refused.answeredAt < sentAt)
    throw new Error('The token was refused before it was revoked');
  return {
    refused: refused !== undefined,
    // A 401 answered before the DELETE's own answer arrived means no lag at all.
    fromAnsweredMs: refused === undefined ? null : Math.max(0, refused.answeredAt - answeredAt),
    fromSentMs: refused === undefined ? null : refused.answeredAt - sentAt,
    deleteMs: answeredAt - sentAt,
    probes: probes.length,
    acceptedAfterAnswer: probes.filter((p) => p.sentAt >= answeredAt && p.status !== 401).length,
    otherStatuses: probes.filter((p) => p.status !== 200 && p.status !== 401).length,
    reason: refused?.reason,
  };
}

/** Runs TRIALS trials and sums them up; `targetMs` applies to every trial, from the DELETE's answer. */
async function trials(label, adminUrl, probeUrl, boundMs, targetMs) {
  const runs = [];
  for (let i = 0; i < TRIALS; i++) {
    runs.push(await trial(adminUrl, probeUrl, boundMs));
    await sleep(50);
  }
  progress(`${label}: ${TRIALS} trials done`);
  const refused = runs.filter((r) => r.refused);
  const from = (key) => refused.map((r) => r[key]);
  const summary = {
    measured: true,
    trials: runs.length,
    refusedTrials: refused.length,
    boundMs,
    targetMs,
    p50FromAnsweredMs: refused.length ? median(from('fromAnsweredMs')) : null,
    maxFromAnsweredMs: refused.length ? Math.max(...from('fromAnsweredMs')) : null,
    p50FromSentMs: refused.length ? median(from('fromSentMs')) : null,
    maxFromSentMs: refused.length ? Math.max(...from('fromSentMs')) : null,
    p50DeleteMs: median(runs.map((r) => r.deleteMs)),
    probes: runs.reduce((n, r) => n + r.probes, 0),
    acceptedAfterAnswer: runs.reduce((n, r) => n + r.acceptedAfterAnswer, 0),
    otherStatuses: runs.reduce((n, r) => n + r.otherStatuses, 0),
    reasons: [...new Set(refused.map((r) => r.reason))],
    runs,
  };
  summary.met = summary.refusedTrials === summary.trials && summary.maxFromAnsweredMs < targetMs;
  return summary;
}

/** Creates the probe's profile with Require Authentication off, then turns it on. */
async function seed(url) {
  await setRequireAuthentication(url, false);
  const posted = await postBatch(url, `batch=thirdPartyId,tier\n${THIRD_PARTY_ID},gold\n`);
  const status = await waitComplete(posted.batchStatus, 20);
  if (status !== 'complete') throw new Error(`The probe's profile could not be created (batch ${status})`);
  await setRequireAuthentication(url, true);
}

async function singleInstance() {
  const data = mkdtempSync(join(tmpdir(), 'profilegate-bench-revoke-'));
  const server = await startDemo({ data });
  try {
    await seed(server.url);
    return await trials('one instance (SQLite)', server.url, server.url, SINGLE_BOUND_MS, SINGLE_TARGET_MS);
  } finally {
    await server.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

/** null when PostgreSQL answers, else why not. */
async function postgresProblem(pg) {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error.message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function dropSchema(pg, schema) {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function acrossInstances() {
  const where = new URL(PG_URL);
  const place = `PostgreSQL at ${where.host}${where.pathname}`; // never the password
  const pg = require('pg');
  const problem = await postgresProblem(pg);
  if (problem !== null) return { measured: false, reason: `${place} could not be reached (${problem})` };
  // Not `pg_…`: PostgreSQL reserves that prefix.
  const schema = `profilegate_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const storeUrl = new URL(PG_URL);
  storeUrl.searchParams.set('schema', schema);
  const dataA = mkdtempSync(join(tmpdir(), 'profilegate-bench-a-'));
  const dataB = mkdtempSync(join(tmpdir(), 'profilegate-bench-b-'));
  let a;
  let b;
  try {
    a = await startDemo({ data: dataA, store: storeUrl.href });
    // A created the signing keys; B gets the same file (each instance keeps its own data folder).
    copyFileSync(join(dataA, 'signing-keys.json'), join(dataB, 'signing-keys.json'));
    b = await startDemo({ data: dataB, store: storeUrl.href });
    await seed(a.url);
    const summary = await trials(`two instances (${place})`, a.url, b.url, CROSS_BOUND_MS, CROSS_TARGET_MS);
    return { ...summary, postgres: place };
  } finally {
    await Promise.all([a?.stop(), b?.stop()]);
    await dropSchema(pg, schema).catch((error) => progress(`could not drop schema ${schema}: ${error.message}`));
    rmSync(dataA, { recursive: true, force: true });
    rmSync(dataB, { recursive: true, force: true });
  }
}

const ms = (v) => (v === null ? 'n/a' : `${v.toFixed(1)} ms`);
function report(label, r) {
  if (!r.measured) {
    console.log(`${label}: not measured: ${r.reason}`);
    return;
  }
  console.log(
    `${label}: first 401 after the DELETE was answered: p50 ${ms(r.p50FromAnsweredMs)}, max ${ms(r.maxFromAnsweredMs)} ` +
      `(target < ${r.targetMs} ms: ${r.met ? 'met' : 'MISSED'}); after it was sent: p50 ${ms(r.p50FromSentMs)}, ` +
      `max ${ms(r.maxFromSentMs)}; DELETE answered in p50 ${ms(r.p50DeleteMs)}`,
  );
  console.log(
    `  ${r.refusedTrials} of ${r.trials} trials refused the token within ${r.boundMs / 1000} s; ${r.probes} probes; ` +
      `${r.acceptedAfterAnswer} accepted though sent after the DELETE was answered; ${r.otherStatuses} neither 200 nor 401; ` +
      `401 reason: ${r.reasons.join(' / ') || 'n/a'}`,
  );
}

progress(`one instance (SQLite): ${TRIALS} trials`);
const single = await singleInstance();
progress(`two instances on PostgreSQL: ${TRIALS} trials`);
const cross = await acrossInstances();
report('Revocation, one instance (SQLite)', single);
report('Revocation, across two instances (PostgreSQL)', cross);
emitJson({ bench: 'revocation', trials: TRIALS, single, cross });
