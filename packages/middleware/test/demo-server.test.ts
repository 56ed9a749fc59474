import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDemoConfig, type DemoConfig } from '../src/demo/config';
import { startDemoServer } from '../src/demo/server';

const MAIN = join(__dirname, '..', 'src', 'demo', 'main.js');

function config(dataDir: string, env: NodeJS.ProcessEnv = {}): DemoConfig {
  return loadDemoConfig({ PORT: '0', PROFILEGATE_DATA: dataDir, ...env }, tmpdir());
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('startDemoServer', () => {
  const root = mkdtempSync(join(tmpdir(), 'profilegate-demo-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);

  it('creates a private data folder, generates the admin key once, and serves the API', async () => {
    const data = join(root, 'first', 'data');
    const first = await startDemoServer(config(data), { log });
    let firstKey: string;
    try {
      assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(first.url, 'http://127.0.0.1:0');
      assert.ok(first.adminKeyGenerated, 'the first start generates a key');
      firstKey = first.adminKeyGenerated;
      assert.match(firstKey, /^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
      assert.equal(first.adminKeyFile, join(data, 'admin-key'));
      assert.equal(readFileSync(join(data, 'admin-key'), 'utf8').trim(), firstKey);

      const settings = await fetch(`${first.url}/demo/target/authentication/settings`, {
        headers: { authorization: `Bearer ${firstKey}` },
      });
      assert.equal(settings.status, 200);
      assert.deepEqual(await settings.json(), { requireAuthentication: true, token: null, replacedTokens: [] });
      const refused = await fetch(`${first.url}/demo/target/authentication/settings`, {
        headers: { authorization: 'Bearer not-the-admin-key-000' },
      });
      assert.equal(refused.status, 401);
      const openapi = await fetch(`${first.url}/openapi.json`);
      assert.equal(openapi.status, 200);
      const page = await fetch(`${first.url}/demo/target/admin`);
      assert.equal(page.status, 200, 'the demo server serves the admin page');
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
    } finally {
      await first.close();
    }

    assert.equal(mode(data), 0o700);
    const files = readdirSync(data);
    for (const name of ['admin-key', 'signing-keys.json', 'profiles.db'])
      assert.ok(files.includes(name), `${name} exists`);
    for (const name of files) assert.equal(mode(join(data, name)), 0o600, `${name} is mode 0600`);

    const second = await startDemoServer(config(data), { log });
    try {
      assert.equal(second.adminKeyGenerated, undefined, 'the second start generates no key');
      assert.equal(second.adminKeyFile, join(data, 'admin-key'));
      const settings = await fetch(`${second.url}/demo/target/authentication/settings`, {
        headers: { authorization: `Bearer ${firstKey}` },
      });
      assert.equal(settings.status, 200, 'the saved key still works');
    } finally {
      await second.close();
    }
    assert.deepEqual(logs, []);
  });

  it('keeps tokens working across a restart (signing keys and token state persist)', async () => {
    const data = join(root, 'restart');
    const first = await startDemoServer(config(data), { log });
    const adminKey = first.adminKeyGenerated!;
    let token: string;
    try {
      const res = await fetch(`${first.url}/demo/target/authentication/token?authorizationScope=profile_api`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}` },
      });
      assert.equal(res.status, 201);
      token = ((await res.json()) as { accessToken: string }).accessToken;
    } finally {
      await first.close();
    }
    const second = await startDemoServer(config(data), { log });
    try {
      const ok = await fetch(`${second.url}/rest/v1/profiles/thirdPartyId/nobody?client=demo`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(ok.status, 404, 'past the gate: the profile simply does not exist');
    } finally {
      await second.close();
    }
  });

  it('uses PROFILEGATE_ADMIN_KEYS instead of a generated key, with sysadmin keys', async () => {
    const data = join(root, 'keys');
    const server = await startDemoServer(
      config(data, {
        PROFILEGATE_ADMIN_KEYS: 'observer-key-0123456789:observer:watcher,root-key-0123456789:sysadmin:root',
        PROFILEGATE_CLIENTS: 'acme,demo',
      }),
      { log },
    );
    try {
      assert.equal(server.adminKeyGenerated, undefined);
      assert.equal(server.adminKeyFile, undefined);
      assert.equal(existsSync(join(data, 'admin-key')), false);
      const put = (key: string) =>
        fetch(`${server.url}/acme/target/authentication/settings`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ requireAuthentication: false }),
        });
      assert.equal((await put('observer-key-0123456789')).status, 403);
      assert.equal((await put('root-key-0123456789')).status, 200);
      const audit = await fetch(`${server.url}/acme/target/authentication/audit`, {
        headers: { authorization: 'Bearer observer-key-0123456789' },
      });
      const events = ((await audit.json()) as { events: Array<{ actor: string; action: string }> }).events;
      assert.equal(events[0]?.actor, 'root');
      assert.equal(events[0]?.action, 'settings.changed');
    } finally {
      await server.close();
    }
  });

  it('lets an in-flight request finish on close, and closes idle keep-alive connections', async () => {
    const server = await startDemoServer(config(join(root, 'close')), { log });
    // A keep-alive connection left idle by fetch must not hold close() up.
    await (await fetch(`${server.url}/openapi.json`)).arrayBuffer();
    const started = Date.now();
    const inFlight = fetch(`${server.url}/m2/demo/v2/profile/batchUpdate`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'thirdPartyId,tier\nu1,gold\n',
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await server.close();
    assert.ok(Date.now() - started < 5000, 'close did not wait for the grace period');
    const res = await inFlight.catch(() => null);
    // The request either finished before the close (401: Require Authentication is on) or had not reached us.
    if (res) assert.equal(res.status, 401);
    await assert.rejects(fetch(`${server.url}/openapi.json`), 'no longer accepting');
  });

  it('says clearly when the port is taken, and leaves nothing open', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(
        startDemoServer(config(join(root, 'busy'), { PORT: String(port) }), { log }),
        new RegExp(`Port ${port} on 127.0.0.1 is already in use; set PORT`),
      );
    } finally {
      blocker.close();
    }
  });
});

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs main.js; once `ready` matches stdout, sends SIGTERM (if given) and waits for the exit. */
function runMain(env: NodeJS.ProcessEnv, ready?: RegExp): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`main.js did not finish; stdout: ${stdout}; stderr: ${stderr}`));
    }, 15000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (ready && !signalled && ready.test(stdout)) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('demo main.js', () => {
  const root = mkdtempSync(join(tmpdir(), 'profilegate-main-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('prints the URL and the generated key once, then stops cleanly on SIGTERM', async () => {
    const env = { PORT: '0', PROFILEGATE_DATA: join(root, 'data'), PROFILEGATE_CLIENTS: 'acme' };
    const first = await runMain(env, /Admin key[^\n]*\n[\s\S]*API description/);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /^Profilegate demo server listening on http:\/\/127\.0\.0\.1:\d+ \(clients: acme; store: sqlite:.*profiles\.db\)$/m,
    );
    const key = readFileSync(join(root, 'data', 'admin-key'), 'utf8').trim();
    assert.equal(first.stdout.split(key).length - 1, 1, 'the key is printed exactly once');
    const page = /^Admin page: (http:\/\/127\.0\.0\.1:\d+\/acme\/target\/admin)$/m.exec(first.stdout);
    assert.ok(page, `prints the admin page's URL: ${first.stdout}`);
    assert.ok(first.stdout.includes(join(root, 'data', 'admin-key')), 'names the file it was saved in');
    assert.equal(first.stderr, '');

    const second = await runMain(env, /API description/);
    assert.equal(second.code, 0, second.stderr);
    assert.ok(!second.stdout.includes(key), 'a later start never prints the key');
    assert.match(second.stdout, /Admin key: see .*admin-key/);
  });

  it('exits 2 with the message, and no stack trace, on a wrong variable', async () => {
    const result = await runMain({ PORT: 'eighty', PROFILEGATE_DATA: join(root, 'never') });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /PORT: "eighty" is not a port; use a whole number from 0 to 65535/);
    assert.ok(!/\n\s+at /.test(result.stderr), 'no stack trace');
    assert.equal(existsSync(join(root, 'never')), false, 'nothing was created');

    const pg = await runMain({
      PROFILEGATE_STORE: 'postgres://u:secret@db/x?schema=pg_bad',
      PROFILEGATE_DATA: join(root, 'never'),
    });
    assert.equal(pg.code, 2);
    assert.match(pg.stderr, /schema= must be/);
    assert.ok(!pg.stderr.includes('secret'));
  });
});
