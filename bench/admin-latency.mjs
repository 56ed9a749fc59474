// Figure 7 of the benchmarks: latency of admin writes (POST token, PUT settings, DELETE token)
// sent to the demo server (a child process, SQLite store) while the 500,000-row batch of
// ingest.mjs is being applied. Target: p99 under 100 ms (issue 14).
//   node bench/admin-latency.mjs [--json] [--rows N]
// The writes go one after another with a short pause, from the moment the batch is accepted until
// its status leaves `incomplete`; only writes sent while the batch was known to be `incomplete`
// count (see docs/performance.md). The same writes with no batch running are printed for context.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BENCH_CLIENT,
  SETTINGS_PATH,
  TOKEN_PATH,
  adminRequest,
  argValue,
  batchRowId,
  emitJson,
  makeBatch,
  postBatch,
  progress,
  setRequireAuthentication,
  sleep,
  startDemo,
  summarize,
} from './lib.mjs';

const ROWS = Number(argValue('--rows', 500_000));
/** Pause after each admin write: steady light admin traffic, not a load test. */
const WRITE_PAUSE_MS = 10;
/** How often batchStatus is polled to know when the batch window closes. */
const POLL_MS = 25;
/** Cycles of the same writes with no batch running (4 writes each). */
const IDLE_CYCLES = 25;
/** Bounds of the loop during the batch: it ends at whichever comes first. */
const MAX_WINDOW_MS = 300_000;
const MAX_SAMPLES = 20_000;

/**
 * One cycle of admin writes, in an order that never leaves Require Authentication on without a
 * working token, so the status poller (which sends the current token) is never refused.
 */
const CYCLE = [
  { kind: 'postToken', method: 'POST', path: TOKEN_PATH, expect: 201 },
  { kind: 'putSettings', method: 'PUT', path: SETTINGS_PATH, body: { requireAuthentication: true }, expect: 200 },
  { kind: 'putSettings', method: 'PUT', path: SETTINGS_PATH, body: { requireAuthentication: false }, expect: 200 },
  { kind: 'deleteToken', method: 'DELETE', path: TOKEN_PATH, expect: 204 },
];
const KINDS = { postToken: 'POST token', deleteToken: 'DELETE token', putSettings: 'PUT settings' };

/** Sends admin writes in CYCLE order; `token` is the working token, or null when there is none. */
class AdminWriter {
  samples = [];
  token = null;
  step = 0;

  constructor(url) {
    this.url = url;
  }

  /** Sends the next write of the cycle and records { kind, sentAt, ms, status, ok }. */
  async next() {
    const write = CYCLE[this.step];
    this.step = (this.step + 1) % CYCLE.length;
    // Forgotten before the DELETE is sent: the poller must not send a token that may be revoked.
    if (write.kind === 'deleteToken') this.token = null;
    const sentAt = performance.now();
    const res = await adminRequest(this.url, write.method, write.path, write.body);
    const ms = performance.now() - sentAt;
    if (write.kind === 'postToken' && res.status === 201) this.token = res.body.accessToken;
    const sample = { kind: write.kind, sentAt, ms, status: res.status, ok: res.status === write.expect };
    this.samples.push(sample);
    await sleep(WRITE_PAUSE_MS);
    return sample;
  }

  /** Sends the rest of the current cycle, so Require Authentication is off and no token exists. */
  async finishCycle() {
    while (this.step !== 0) await this.next();
  }
}

/** The profile the single updates change: not in the batch, so they never send it to the slow path. */
const SINGLE_ID = 'bench-single-update';

/**
 * Single updates of one profile the batch does not touch, one after another with the same pause,
 * until `open()` turns false; they send the writer's current token (auth may be on). Records
 * { sentAt, ms, status, ok }: they wait at most for the batch's merge (docs/sqlite-batches.md).
 */
async function singleUpdates(url, writer, open) {
  const samples = [];
  for (let i = 0; open() && samples.length < MAX_SAMPLES; i++) {
    const headers = writer.token === null ? {} : { Authorization: `Bearer ${writer.token}` };
    const sentAt = performance.now();
    const res = await fetch(`${url}/m2/${BENCH_CLIENT}/profile/update?mbox3rdPartyId=${SINGLE_ID}&profile.n=${i}`, {
      headers,
    });
    await res.arrayBuffer();
    samples.push({ sentAt, ms: performance.now() - sentAt, status: res.status, ok: res.status === 200 });
    await sleep(WRITE_PAUSE_MS);
  }
  return samples;
}

/** Polls batchStatus every POLL_MS until it leaves `incomplete` (or the bound); records every poll. */
async function pollStatus(statusUrl, writer, deadline) {
  const polls = [];
  for (;;) {
    const sentAt = performance.now();
    const headers = { Accept: 'application/json' };
    if (writer.token !== null) headers.Authorization = `Bearer ${writer.token}`;
    let status;
    try {
      const res = await fetch(statusUrl, { headers });
      const body = await res.json();
      status = res.ok ? body.status : `http-${res.status}`;
    } catch (error) {
      status = `error: ${error.message}`;
    }
    polls.push({ sentAt, answeredAt: performance.now(), status });
    if (status === 'complete' || status === 'stuck' || status === 'failed') return polls;
    if (performance.now() > deadline) return polls;
    await sleep(POLL_MS);
  }
}

/** Per-kind and overall latency of samples, and how many answered another status than expected. */
function figures(samples) {
  const result = { overall: summarize(samples.map((s) => s.ms)), errors: samples.filter((s) => !s.ok).length };
  for (const kind of Object.keys(KINDS))
    result[kind] = summarize(samples.filter((s) => s.kind === kind).map((s) => s.ms));
  return result;
}

const ms = (v) => (v === null ? 'n/a' : `${v.toFixed(1)} ms`);
const line = (f) => `p50 ${ms(f.p50ms)}, p99 ${ms(f.p99ms)}, max ${ms(f.maxms)} (${f.count})`;

progress(`generating the ${ROWS}-row batch`);
const body = makeBatch(ROWS);
const bodyMB = Buffer.byteLength(body) / 1e6;
const data = mkdtempSync(join(tmpdir(), 'profilegate-bench-admin-'));
const server = await startDemo({ data });
const { url } = server;
let result;
try {
  await setRequireAuthentication(url, false);
  const seed = await postBatch(url, `batch=thirdPartyId,n\n${SINGLE_ID},0\n`);
  while ((await pollStatus(seed.batchStatus, { token: null }, performance.now())).at(-1).status === 'incomplete') {
    await sleep(POLL_MS);
  }

  // The same writes with no batch running: what "within milliseconds" looks like on this machine.
  const idleWriter = new AdminWriter(url);
  for (let i = 0; i < IDLE_CYCLES * CYCLE.length; i++) await idleWriter.next();
  const idle = figures(idleWriter.samples);

  progress(`posting ${ROWS} rows (${bodyMB.toFixed(1)} MB)`);
  const postedAt = performance.now();
  const posted = await postBatch(url, body);
  const acceptedAt = performance.now();
  progress(`accepted after ${((acceptedAt - postedAt) / 1000).toFixed(1)} s; admin writes until the batch is applied`);

  const writer = new AdminWriter(url);
  const deadline = acceptedAt + MAX_WINDOW_MS;
  const polling = pollStatus(posted.batchStatus, writer, deadline);
  let windowOpen = true;
  polling.then(() => (windowOpen = false));
  const updating = singleUpdates(url, writer, () => windowOpen && performance.now() < deadline);
  while (windowOpen && writer.samples.length < MAX_SAMPLES && performance.now() < deadline) await writer.next();
  const polls = await polling;
  const updates = await updating;
  await writer.finishCycle();

  const finalStatus = polls.at(-1).status;
  if (finalStatus !== 'complete') throw new Error(`The batch ended ${finalStatus}, not complete`);
  const incomplete = polls.filter((p) => p.status === 'incomplete');
  // The batch was certainly still incomplete when the last poll that saw it so was sent.
  const windowEnd = incomplete.at(-1)?.sentAt ?? acceptedAt;
  const inWindow = writer.samples.filter((s) => s.sentAt <= windowEnd);
  const during = figures(inWindow);
  const updatesInWindow = updates.filter((u) => u.sentAt <= windowEnd);
  const singleUpdatesDuring = {
    ...summarize(updatesInWindow.map((u) => u.ms)),
    errors: updatesInWindow.filter((u) => !u.ok).length,
  };
  const check = await fetch(`${url}/rest/v1/profiles/thirdPartyId/${batchRowId(ROWS - 1)}?client=${BENCH_CLIENT}`);
  await check.arrayBuffer();
  if (check.status !== 200) throw new Error(`The last row of the batch was not stored (${check.status})`);

  result = {
    bench: 'admin-latency',
    rows: ROWS,
    bodyMB,
    acceptedSeconds: (acceptedAt - postedAt) / 1000,
    batchWindowSeconds: (polls.at(-1).answeredAt - acceptedAt) / 1000,
    polls: polls.length,
    pollsNotAnswered: polls.filter((p) => p.status.startsWith('http-') || p.status.startsWith('error')).length,
    writesSent: writer.samples.length,
    samplesInWindow: inWindow.length,
    writePauseMs: WRITE_PAUSE_MS,
    ...during,
    idle,
    singleUpdatesDuring,
    met: inWindow.length > 0 && during.errors === 0 && during.overall.p99ms < 100,
  };
} finally {
  await server.stop();
  rmSync(data, { recursive: true, force: true });
}

console.log(
  `${ROWS} rows (${bodyMB.toFixed(1)} MB) accepted in ${result.acceptedSeconds.toFixed(1)} s, then applied for ` +
    `${result.batchWindowSeconds.toFixed(1)} s; admin writes sent in that window: ${result.samplesInWindow} ` +
    `(of ${result.writesSent} sent; ${result.errors} with an unexpected status; ${result.polls} status polls)`,
);
console.log(
  `admin writes during the batch, all: ${line(result.overall)} (target p99 < 100 ms: ${result.met ? 'met' : 'MISSED'})`,
);
for (const [kind, label] of Object.entries(KINDS)) console.log(`  ${label}: ${line(result[kind])}`);
console.log(`the same writes with no batch running: ${line(result.idle.overall)}`);
console.log(
  `single updates of a profile outside the batch, during it: ${line(result.singleUpdatesDuring)}` +
    ` (${result.singleUpdatesDuring.errors} with another status than 200; informational)`,
);
emitJson(result);
