/**
 * Two demo-server processes on one PostgreSQL schema (issue 6): what one instance writes, the
 * other reads; a token regenerated on one stops working on the other within one second; and a
 * dropped LISTEN connection recovers.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { PG_URL, postgresProblem } from './support/postgres';

/** Not `pg_…`: PostgreSQL reserves that prefix. */
const SCHEMA = `profilegate_e2e_${process.pid}_${randomBytes(4).toString('hex')}`;
const LISTEN_APPLICATION_NAME = 'profilegate-listen';
const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'packages', 'middleware', 'dist', 'src', 'demo', 'main.js');
const ADMIN_KEY = randomBytes(24).toString('base64url'); // 32 characters
const CLIENT = 'demo';
const TOKEN_PATH = `/${CLIENT}/target/authentication/token?authorizationScope=profile_api`;
const SETTINGS_PATH = `/${CLIENT}/target/authentication/settings`;
const THIRD_PARTY_ID = `e2e-${randomBytes(4).toString('hex')}`;
const FETCH_PATH = `/rest/v1/profiles/thirdPartyId/${THIRD_PARTY_ID}?client=${CLIENT}`;
/** The cross-instance bound of the contract (issue 6). */
const CONTRACT_MS = 1000;

interface Instance {
  name: string;
  child: ChildProcess;
  url: string;
  output: string[];
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function pgQuery<R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []) {
  const client = new Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Starts one demo server and resolves once it printed the URL it listens on. */
function startInstance(name: string, dataDir: string): Promise<Instance> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      PROFILEGATE_DATA: dataDir,
      PROFILEGATE_ADMIN_KEYS: `${ADMIN_KEY}:admin:ops`,
      PROFILEGATE_STORE: `${PG_URL}?schema=${SCHEMA}`,
      PROFILEGATE_CLIENTS: CLIENT,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not print its URL within 20 s:\n${output.join('')}`));
    }, 20_000);
    child.stderr!.on('data', (data: Buffer) => output.push(data.toString()));
    child.stdout!.on('data', (data: Buffer) => {
      output.push(data.toString());
      stdout += data.toString();
      const match = /Profilegate demo server listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolvePromise({ name, child, url: match[1]!, output });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${output.join('')}`));
    });
  });
}

/** SIGTERM, then waits for the exit (SIGKILL after 10 s). */
async function stopInstance(instance: Instance | undefined): Promise<void> {
  if (!instance) return;
  const { child } = instance;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function alive(instance: Instance): boolean {
  return instance.child.exitCode === null && instance.child.signalCode === null;
}

function admin(instance: Instance, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${ADMIN_KEY}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(`${instance.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function regenerate(instance: Instance): Promise<string> {
  const res = await admin(instance, 'POST', TOKEN_PATH);
  assert.equal(res.status, 201, `POST token on ${instance.name}: ${await res.clone().text()}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

async function currentToken(instance: Instance): Promise<string> {
  const res = await admin(instance, 'GET', TOKEN_PATH);
  assert.equal(res.status, 200, `GET token on ${instance.name}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

function fetchProfile(instance: Instance, token?: string): Promise<Response> {
  return fetch(`${instance.url}${FETCH_PATH}`, {
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  });
}

/** Polls `instance` every 50 ms until `token` is refused as revoked; returns the ms since `since`. */
async function untilRevoked(instance: Instance, token: string, since: number): Promise<number> {
  for (;;) {
    const res = await fetchProfile(instance, token);
    await res.arrayBuffer();
    const elapsed = Date.now() - since;
    if (res.status === 401) {
      assert.match(res.headers.get('www-authenticate') ?? '', /error_description="The token has been revoked"/);
      return elapsed;
    }
    if (elapsed > 5 * CONTRACT_MS) {
      throw new Error(`${instance.name} still accepts the old token ${elapsed} ms after the regeneration`);
    }
    await sleep(50);
  }
}

/** Local TCP ports of a process's sockets (Linux /proc); null where /proc is not available. */
function localPorts(pid: number): Set<number> | null {
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' });
      const match = /^socket:\[(\d+)\]$/.exec(link);
      if (match) inodes.add(match[1]!);
    }
    const ports = new Set<number>();
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols.length > 9 && inodes.has(cols[9]!)) ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
      }
    }
    return ports;
  } catch {
    return null;
  }
}

/**
 * The LISTEN backends of the given demo processes (matched by client port), or every
 * profilegate LISTEN backend when the ports cannot be read.
 */
async function listenerBackends(instances: Instance[]): Promise<number[]> {
  const rows = await pgQuery<{ pid: number; client_port: number | null }>(
    'SELECT pid, client_port FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
    [LISTEN_APPLICATION_NAME],
  );
  const ports = new Set<number>();
  for (const instance of instances) {
    const own = localPorts(instance.child.pid!);
    if (own === null) return rows.map((r) => r.pid);
    for (const port of own) ports.add(port);
  }
  return rows.filter((r) => r.client_port !== null && ports.has(r.client_port)).map((r) => r.pid);
}

describe('two demo servers on one PostgreSQL schema', function () {
  this.timeout(30_000);
  let dataDir: string | undefined;
  let a: Instance | undefined;
  let b: Instance | undefined;
  let started = false;

  const A = (): Instance => a!;
  const B = (): Instance => b!;

  before(async function () {
    this.timeout(60_000);
    const problem = await postgresProblem();
    if (problem !== null) {
      const message = `PostgreSQL unreachable at ${PG_URL} (${problem})`;
      if (process.env['CI']) {
        throw new Error(
          `${message}: CI is set, so the multi-instance test must run; start PostgreSQL or set PROFILEGATE_TEST_POSTGRES_URL`,
        );
      }
      console.log(`${message}: skipping`);
      this.skip();
    }
    started = true;
    dataDir = await fs.mkdtemp(join(tmpdir(), 'profilegate-e2e-'));
    // A first: it creates signing-keys.json, which B then reads.
    a = await startInstance('A', dataDir);
    b = await startInstance('B', dataDir);
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.all([stopInstance(a), stopInstance(b)]);
    if (started) await pgQuery(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`).catch(() => undefined);
    if (dataDir !== undefined) await fs.rm(dataDir, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      for (const instance of [a, b])
        if (instance) console.log(`--- ${instance.name} output:\n${instance.output.join('')}`);
    }
  });

  it('reads on B a batch posted to A, once its status on B is complete', async () => {
    const token = await regenerate(A());
    const body = `batch=thirdPartyId,tier,city\n${THIRD_PARTY_ID},gold,S%C3%A3o+Paulo\n`;
    const posted = await fetch(`${A().url}/m2/${CLIENT}/v2/profile/batchUpdate`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      },
      body,
    });
    assert.equal(posted.status, 200, await posted.clone().text());
    const { batchId } = (await posted.json()) as { batchId: string };

    const started = Date.now();
    for (;;) {
      const res = await fetch(`${B().url}/m2/${CLIENT}/v2/profile/batchStatus?batchId=${encodeURIComponent(batchId)}`, {
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      });
      assert.equal(res.status, 200, `batch status on B: ${await res.clone().text()}`);
      const status = ((await res.json()) as { status: string }).status;
      assert.notEqual(status, 'stuck');
      if (status === 'complete') break;
      if (Date.now() - started > 20_000) throw new Error(`batch ${batchId} still ${status} on B after 20 s`);
      await sleep(50);
    }

    const res = await fetchProfile(B(), token);
    assert.equal(res.status, 200);
    const profile = (await res.json()) as {
      thirdPartyId: string;
      profileAttributes: Record<string, { value: string }>;
    };
    assert.equal(profile.thirdPartyId, THIRD_PARTY_ID);
    assert.equal(profile.profileAttributes['tier']?.value, 'gold');
    assert.equal(profile.profileAttributes['city']?.value, 'São Paulo');
  });

  it('refuses on B, within one second, a token regenerated on A; the new token works on B', async () => {
    const old = await regenerate(A());
    // B has seen (and cached) the old token.
    assert.equal((await fetchProfile(B(), old)).status, 200);

    const next = await regenerate(A());
    const since = Date.now();
    const elapsed = await untilRevoked(B(), old, since);
    assert.ok(elapsed < CONTRACT_MS, `B refused the old token only after ${elapsed} ms`);

    assert.equal((await fetchProfile(B(), next)).status, 200);
    assert.equal((await fetchProfile(A(), next)).status, 200);
  });

  it('leaves exactly one working token after 20 concurrent regenerations over A and B', async () => {
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => regenerate(i % 2 === 0 ? A() : B())));
    assert.equal(new Set(tokens).size, 20);
    await sleep(1200);

    const working: string[] = [];
    for (const token of tokens) {
      const statuses = await Promise.all(
        [A(), B()].map(async (instance) => {
          const res = await fetchProfile(instance, token);
          await res.arrayBuffer();
          return res.status;
        }),
      );
      if (statuses.every((s) => s !== 401)) {
        working.push(token);
      } else {
        assert.deepEqual(statuses, [401, 401], 'a token is refused on one instance and accepted on the other');
      }
    }
    assert.equal(working.length, 1, `${working.length} tokens work`);
    assert.equal(await currentToken(A()), working[0]);
    assert.equal(await currentToken(B()), working[0]);
  });

  it('recovers from a dropped LISTEN connection', async () => {
    const before = await listenerBackends([A(), B()]);
    assert.ok(before.length >= 2, `expected both LISTEN connections, found ${before.length}`);
    await pgQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1::int[])', [before]);

    const started = Date.now();
    await sleep(500);
    for (;;) {
      const now = await listenerBackends([A(), B()]);
      if (now.filter((pid) => !before.includes(pid)).length >= 2) break;
      if (Date.now() - started > 5000) {
        throw new Error(`LISTEN connections not back after 5 s (before: ${before.join(',')}; now: ${now.join(',')})`);
      }
      await sleep(100);
    }
    assert.ok(alive(A()) && alive(B()), 'a demo server died when its LISTEN connection was dropped');

    const old = await regenerate(A());
    assert.equal((await fetchProfile(B(), old)).status, 200);
    await regenerate(A());
    const elapsed = await untilRevoked(B(), old, Date.now());
    assert.ok(elapsed < CONTRACT_MS, `B refused the old token only after ${elapsed} ms`);
    assert.ok(alive(A()) && alive(B()));
  });

  it('sees on B, within one second, requireAuthentication turned off on A', async () => {
    const before = await fetchProfile(B());
    assert.equal(before.status, 401);

    const res = await admin(A(), 'PUT', SETTINGS_PATH, { requireAuthentication: false });
    assert.equal(res.status, 200);
    const since = Date.now();
    for (;;) {
      const probe = await fetchProfile(B());
      await probe.arrayBuffer();
      const elapsed = Date.now() - since;
      if (probe.status !== 401) {
        assert.equal(probe.status, 200);
        assert.ok(elapsed < CONTRACT_MS, `B still required a token ${elapsed} ms after the change`);
        break;
      }
      if (elapsed > 5 * CONTRACT_MS) throw new Error(`B still requires a token after ${elapsed} ms`);
      await sleep(50);
    }
  });
});
