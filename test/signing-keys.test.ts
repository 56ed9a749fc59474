/**
 * Demo servers on one PostgreSQL schema agree on their signing keys or refuse to start (issue 14,
 * point 7): an instance with other keys exits naming its key file; the same keys, from the file
 * or from PROFILEGATE_SIGNING_KEYS, start; a key added to the key files of running instances is
 * used and accepted without a restart, and a key retired in one file stops verifying everywhere.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import {
  ADMIN_KEY,
  ROOT,
  Admin,
  json,
  send,
  sleep,
  startDemo,
  tail,
  tokenPath,
  type DemoChild,
} from './reliability/support/demo';
import { PG_URL, postgresProblem } from './support/postgres';

const SCHEMA = `profilegate_keys_${process.pid}_${randomBytes(4).toString('hex')}`;
const STORE = `${PG_URL}?schema=${SCHEMA}`;
const MAIN = join(ROOT, 'packages', 'middleware', 'dist', 'src', 'demo', 'main.js');
const CLIENT = 'demo';
/** A second client whose tokens only probe which key signs, so CLIENT's grace periods stay as the test set them. */
const PROBE = 'probe';
const KEY_FILE = 'signing-keys.json';
/** How long a running instance may take to notice a changed key file or database (generous: not a speed test). */
const NOTICE_MS = 15_000;

interface FileKey {
  kid: string;
  secret?: string;
  createdAt: number;
  pending?: boolean;
  retiredAt?: number;
}

const newKey = (createdAt: number): FileKey => ({
  kid: randomBytes(9).toString('base64url'),
  secret: randomBytes(32).toString('base64url'),
  createdAt,
});

const keyFileText = (keys: FileKey[]) => `${JSON.stringify({ keys }, null, 2)}\n`;

/** Writes a key file the way an operator's copy does: a new file renamed over the old one. */
async function writeKeyFile(dir: string, keys: FileKey[]): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${KEY_FILE}.${randomBytes(4).toString('hex')}`);
  await fs.writeFile(temp, keyFileText(keys), { mode: 0o600 });
  await fs.rename(temp, join(dir, KEY_FILE));
}

/** Runs the demo server that is expected to refuse to start; resolves with its exit code and output. */
function runRefused(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const clean: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('PROFILEGATE_')) clean[name] = value;
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      ...clean,
      PORT: '0',
      HOST: '127.0.0.1',
      PROFILEGATE_DATA: dataDir,
      PROFILEGATE_CLIENTS: CLIENT,
      PROFILEGATE_ADMIN_KEYS: `${ADMIN_KEY}:admin:ops`,
      PROFILEGATE_STORE: STORE,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout!.on('data', (data: Buffer) => {
    chunks.push(data.toString('utf8'));
    // It started after all: no need to wait for the deadline to fail.
    if (/listening on http/.test(chunks.join(''))) child.kill('SIGTERM');
  });
  child.stderr!.on('data', (data: Buffer) => chunks.push(data.toString('utf8')));
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, output: chunks.join('') });
    });
  });
}

async function eventually(what: string, check: () => Promise<boolean>, ms = NOTICE_MS): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`still not ${what} after ${ms} ms`);
    await sleep(100);
  }
}

/** The `kid` in a JWT's header. */
const kidOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;

/** Status of a profile fetch with `token`: 401 when the token is refused, 404 (no such profile) when accepted. */
async function fetchStatus(server: DemoChild, token: string): Promise<number> {
  const res = await send(`${server.url}/rest/v1/profiles/thirdPartyId/nobody?client=${CLIENT}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return res.status;
}

describe('demo servers on one PostgreSQL schema agree on their signing keys', function () {
  this.timeout(60_000);
  let root: string;
  let started = false;
  const servers: DemoChild[] = [];
  const start = async (dataDir: string, env: Record<string, string> = {}) => {
    const server = await startDemo({ dataDir, clients: [CLIENT, PROBE], env: { PROFILEGATE_STORE: STORE, ...env } });
    servers.push(server);
    return server;
  };
  const dir = (name: string) => join(root, name);
  const T0 = Date.UTC(2026, 0, 1);
  const k1 = newKey(T0);
  const k2 = newKey(T0 + 1000);
  let a: DemoChild;
  let c: DemoChild;
  let oldToken: string;

  before(async function () {
    const problem = await postgresProblem();
    if (problem !== null) {
      const message = `PostgreSQL unreachable at ${PG_URL} (${problem})`;
      if (process.env['CI']) {
        throw new Error(
          `${message}: CI is set, so this test must run; start PostgreSQL or set PROFILEGATE_TEST_POSTGRES_URL`,
        );
      }
      console.log(`${message}: skipping`);
      this.skip();
    }
    started = true;
    root = await fs.mkdtemp(join(tmpdir(), 'profilegate-keys-e2e-'));
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.all(servers.map((s) => s.stop()));
    if (started) {
      const admin = new Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`).finally(() => admin.end());
    }
    if (root !== undefined) await fs.rm(root, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      for (const server of servers) console.log(`--- ${server.url} output:\n${tail(server.output())}`);
    }
  });

  it('refuses to start an instance whose own data folder has other keys, naming its key file', async () => {
    await writeKeyFile(dir('a'), [k1]);
    a = await start(dir('a'));

    // A fresh data folder: before, it generated a key of its own and started.
    const fresh = await runRefused(dir('b'));
    assert.notEqual(fresh.code, 0, `B started:\n${tail(fresh.output)}`);
    assert.ok(fresh.output.includes(resolve(dir('b'), KEY_FILE)), `names B's key file:\n${fresh.output}`);
    assert.match(fresh.output, /copy/i);
    assert.ok(fresh.output.includes(k1.kid), 'names the key it lacks');
    assert.ok(!/\n\s+at /.test(fresh.output), 'no stack trace');

    // The same key id with another secret.
    const forged = { ...newKey(T0), kid: k1.kid };
    await writeKeyFile(dir('b'), [forged]);
    const other = await runRefused(dir('b'));
    assert.notEqual(other.code, 0, `B started with another secret for ${k1.kid}:\n${tail(other.output)}`);
    assert.ok(other.output.includes(resolve(dir('b'), KEY_FILE)), other.output);
    for (const secret of [k1.secret!, forged.secret!]) assert.ok(!other.output.includes(secret), 'no secret printed');

    // Through the environment: the message names the variable, never its value.
    const env = await runRefused(dir('b-env'), { PROFILEGATE_SIGNING_KEYS: keyFileText([forged]) });
    assert.notEqual(env.code, 0);
    assert.match(env.output, /PROFILEGATE_SIGNING_KEYS/);
    assert.ok(!env.output.includes(forged.secret!), 'no secret printed');
  });

  it('starts instances with the same keys, from the key file or PROFILEGATE_SIGNING_KEYS; tokens work across them', async () => {
    await writeKeyFile(dir('c'), [k1]);
    c = await start(dir('c'));
    const d = await start(dir('d'), { PROFILEGATE_SIGNING_KEYS: keyFileText([k1]) });
    oldToken = await new Admin(a.url).generate(CLIENT);
    assert.equal(kidOf(oldToken), k1.kid);
    for (const server of [a, c, d]) assert.equal(await fetchStatus(server, oldToken), 404, server.url);
    const noFile = await fs.readdir(dir('d')).catch((): string[] => []);
    assert.ok(!noFile.includes(KEY_FILE), 'with PROFILEGATE_SIGNING_KEYS no key file is written');
    await d.stop();
  });

  it('uses and accepts, without a restart, a key added to the key files of running instances', async () => {
    // 1. Distribute: the new key verifies everywhere but signs nowhere yet.
    await writeKeyFile(dir('a'), [k1, { ...k2, pending: true }]);
    await writeKeyFile(dir('c'), [k1, { ...k2, pending: true }]);
    await eventually('reloaded with the new key', async () => [a, c].every((s) => s.output().includes(k2.kid)));
    // 2. Activate it on A only: A signs with it, and C already accepts it.
    await writeKeyFile(dir('a'), [k1, k2]);
    const admin = new Admin(a.url);
    await eventually('signing with the new key', async () => kidOf(await admin.generate(PROBE)) === k2.kid);
    const fresh = await admin.generate(CLIENT, { previousTokenGraceSeconds: 3600 });
    assert.equal(kidOf(fresh), k2.kid);
    for (const server of [a, c]) {
      assert.equal(await fetchStatus(server, fresh), 404, `${server.url} accepts the new key's token`);
      assert.equal(await fetchStatus(server, oldToken), 404, `${server.url} accepts the graced old token`);
    }
  });

  it('stops verifying on every running instance the tokens of a key retired in one key file', async () => {
    await writeKeyFile(dir('a'), [{ kid: k1.kid, createdAt: k1.createdAt, retiredAt: T0 + 5000 }, k2]);
    // C's file still has k1: the retirement reaches it through the database.
    for (const server of [a, c]) {
      await eventually(
        `refusing the retired key's token on ${server.url}`,
        async () => (await fetchStatus(server, oldToken)) === 401,
      );
    }
    const current = json<{ accessToken: string }>(await new Admin(c.url).call('GET', tokenPath(CLIENT))).accessToken;
    assert.equal(kidOf(current), k2.kid);
    for (const server of [a, c]) assert.equal(await fetchStatus(server, current), 404);
    assert.ok(a.alive() && c.alive());
  });

  it('refuses to start an instance that still has only the old key', async () => {
    await writeKeyFile(dir('e'), [k1]);
    const stale = await runRefused(dir('e'));
    assert.notEqual(stale.code, 0, `E started:\n${tail(stale.output)}`);
    assert.ok(stale.output.includes(resolve(dir('e'), KEY_FILE)), stale.output);
    assert.ok(stale.output.includes(k2.kid), 'names the key it lacks');
  });
});
