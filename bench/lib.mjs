// Helpers shared by the benchmarks: the demo server as a child process, its memory, medians,
// machine facts, the one-line JSON result every benchmark prints last with --json, the
// 500,000-row batch and the admin and batch requests sent to the demo server.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

export const DEMO_MAIN = new URL('../packages/middleware/dist/src/demo/main.js', import.meta.url).pathname;

/** Starts a Node script as a child process and resolves with it and the URL it prints. */
export function startServer(script, { env = {}, args = [], nodeArgs = serverNodeArgs() } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        child.stdout.off('data', onData);
        child.stdout.resume(); // keep draining so the child never blocks on a full pipe
        child.off('exit', onExit);
        resolve({ child, url: match[1], stop: () => stopChild(child) });
      }
    };
    const onExit = (code) => reject(new Error(`${script} exited with ${code} before listening`));
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Extra node flags for servers under test, e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
function serverNodeArgs() {
  return (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

/** SIGTERM, then wait for the exit (SIGKILL after 15 s). */
export async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Current and peak resident set size of a process, in bytes (Linux /proc; null elsewhere). */
export function rssOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc; null elsewhere). */
export function cpuMsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** Linux reports process times in clock ticks of 1/100 s on every common platform. */
const CLOCK_TICKS = 100;

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The value at percentile `p` (nearest rank) of unsorted `values`. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** What the figures were measured on. */
export function machine() {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage1m: Number(loadavg()[0].toFixed(2)),
    date: new Date().toISOString(),
  };
}

/** Progress to stderr (stdout carries the figures and, last, the JSON line). */
export function progress(message) {
  process.stderr.write(`  … ${message}\n`);
}

/** Prints the result as the last stdout line when --json was given. */
export function emitJson(result) {
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
}

export function argValue(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Latency summary of unsorted samples in ms: count, p50, p99 (nearest rank) and max; null values when empty. */
export function summarize(values) {
  if (values.length === 0) return { count: 0, p50ms: null, p99ms: null, maxms: null };
  return {
    count: values.length,
    p50ms: percentile(values, 50),
    p99ms: percentile(values, 99),
    maxms: Math.max(...values),
  };
}

/** The client every benchmark's demo server serves. */
export const BENCH_CLIENT = 'demo';

/** The benchmark's admin key (PROFILEGATE_ADMIN_KEYS): servers under test listen on loopback only. */
export const BENCH_ADMIN_KEY = 'bench-admin-key-0123456789abcdef';

/**
 * Starts the demo server (`npm start`'s code) on 127.0.0.1 and a free port, with the bench's admin
 * key, the data folder `data` and, when given, `store` (PROFILEGATE_STORE; default SQLite in `data`).
 */
export function startDemo({ data, store, env = {} }) {
  return startServer(DEMO_MAIN, {
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      PROFILEGATE_DATA: data,
      PROFILEGATE_CLIENTS: BENCH_CLIENT,
      PROFILEGATE_ADMIN_KEYS: `${BENCH_ADMIN_KEY}:admin:bench`,
      ...(store === undefined ? {} : { PROFILEGATE_STORE: store }),
      ...env,
    },
  });
}

/** The admin routes of API.md section 3 for the bench's client. */
export const TOKEN_PATH = `/${BENCH_CLIENT}/target/authentication/token?authorizationScope=profile_api`;
export const SETTINGS_PATH = `/${BENCH_CLIENT}/target/authentication/settings`;

/** One admin request with the bench's admin key; resolves with the status and the parsed body (or null). */
export async function adminRequest(url, method, path, body) {
  const headers = { Authorization: `Bearer ${BENCH_ADMIN_KEY}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: the caller looks at the status
  }
  return { status: res.status, body: json };
}

/** Turns Require Authentication on or off; throws unless the server answered 200. */
export async function setRequireAuthentication(url, on) {
  const res = await adminRequest(url, 'PUT', SETTINGS_PATH, { requireAuthentication: on });
  if (res.status !== 200) throw new Error(`PUT settings answered ${res.status}: ${JSON.stringify(res.body)}`);
}

/** Generates a new profile token; resolves with it, throws unless the server answered 201. */
export async function generateToken(url) {
  const res = await adminRequest(url, 'POST', TOKEN_PATH);
  if (res.status !== 201) throw new Error(`POST token answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.accessToken;
}

/** The attributes of every row of the bench batch. */
export const BATCH_ATTRIBUTES = [
  'email',
  'firstName',
  'city',
  'country',
  'loyaltyTier',
  'lastPurchase',
  'lifetimeValue',
  'favoriteCategory',
  'device',
  'newsletter',
];

/** The thirdPartyId of row `i` of makeBatch's batch. */
export const batchRowId = (i) => `c${String(i).padStart(7, '0')}`;

/** A batch body in Adobe's form (`batch=` then URL-encoded CSV) of `rows` rows, deterministic. */
export function makeBatch(rows) {
  let seed = 42;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const names = ['anna', 'ben', 'carla', 'david', 'eva', 'felix', 'gina', 'hugo', 'ines', 'jonas', 'karin', 'lukas'];
  const cities = ['Berlin', 'San+Francisco', 'New+York', 'S%C3%A3o+Paulo', 'M%C3%BCnchen', 'Z%C3%BCrich', 'Tokyo'];
  const countries = ['DE', 'US', 'BR', 'FR', 'CH', 'JP', 'GB'];
  const tiers = ['bronze', 'silver', 'gold', 'platinum'];
  const categories = ['outdoor%2Fcamping', 'home%2Fkitchen', 'fashion%2Fshoes', 'electronics%2Faudio', 'books'];
  const devices = ['ios', 'android', 'mac', 'windows', 'tablet'];
  const lines = [`batch=thirdPartyId,${BATCH_ATTRIBUTES.join(',')}`];
  for (let i = 0; i < rows; i++) {
    const name = pick(names);
    const month = String(1 + Math.floor(rand() * 12)).padStart(2, '0');
    const day = String(1 + Math.floor(rand() * 28)).padStart(2, '0');
    lines.push(
      [
        batchRowId(i),
        `${name}.${i}%40example.com`,
        name[0].toUpperCase() + name.slice(1),
        pick(cities),
        pick(countries),
        pick(tiers),
        `2024-${month}-${day}`,
        (rand() * 1000).toFixed(2),
        pick(categories),
        pick(devices),
        rand() < 0.5 ? 'y' : 'n',
      ].join(','),
    );
  }
  return lines.join('\n') + '\n';
}

/** POSTs a batch body to the v2 batchUpdate route; resolves with its answer ({ batchId, batchStatus, … }). */
export async function postBatch(url, body, headers = {}) {
  const res = await fetch(`${url}/m2/${BENCH_CLIENT}/v2/profile/batchUpdate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', ...headers },
    body,
  });
  const answer = await res.json();
  if (!res.ok) throw new Error(`batchUpdate answered ${res.status}: ${JSON.stringify(answer)}`);
  return answer;
}

/** A batch's status (`incomplete`, `complete`, …) from its batchStatus URL. */
export async function batchStatus(statusUrl, headers = {}) {
  const res = await fetch(statusUrl, { headers: { Accept: 'application/json', ...headers } });
  const answer = await res.json();
  if (!res.ok) throw new Error(`batchStatus answered ${res.status}: ${JSON.stringify(answer)}`);
  return answer.status;
}

/** Polls a batch's status every `everyMs` until it is no longer `incomplete`; resolves with that status. */
export async function waitComplete(statusUrl, everyMs) {
  for (;;) {
    const status = await batchStatus(statusUrl);
    if (status !== 'incomplete') return status;
    await sleep(everyMs);
  }
}

/**
 * The data lines of a makeBatch body as the benchmarks' floors read them, one at a time: the
 * thirdPartyId and the attributes as JSON text, each cell URL-decoded ("+" is a space).
 */
export function* decodedBatchLines(body) {
  let start = body.indexOf('\n') + 1; // after the header line
  while (start < body.length) {
    let end = body.indexOf('\n', start);
    if (end === -1) end = body.length;
    const line = body.slice(start, end);
    start = end + 1;
    if (line === '') continue;
    const cells = line.split(',');
    const attributes = {};
    for (let n = 0; n < BATCH_ATTRIBUTES.length; n++) {
      attributes[BATCH_ATTRIBUTES[n]] = decodeURIComponent(cells[n + 1].replaceAll('+', ' '));
    }
    yield [decodeURIComponent(cells[0]), JSON.stringify(attributes)];
  }
}
