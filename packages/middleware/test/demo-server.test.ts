import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, retireSigningKey, rotateSigningKey, type SigningKey } from '@profilegate/core';
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
      assert.deepEqual(await settings.json(), {
        requireAuthentication: true,
        profileRetentionDays: null,
        token: null,
        replacedTokens: [],
      });
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

  it('limits bulk updates per client by default: the 11th batch within a minute gets 429 (issue 15.5)', async () => {
    const data = join(root, 'rate', 'data');
    const fixed = Date.UTC(2026, 10, 22, 10, 0, 0);
    const server = await startDemoServer(config(data), { log, clock: () => fixed });
    try {
      const admin = { authorization: `Bearer ${server.adminKeyGenerated!}` };
      const token = await fetch(`${server.url}/demo/target/authentication/token?authorizationScope=profile_api`, {
        method: 'POST',
        headers: admin,
      });
      assert.equal(token.status, 201);
      const { accessToken } = (await token.json()) as { accessToken: string };
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) {
        const res = await fetch(`${server.url}/m2/demo/v2/profile/batchUpdate`, {
          method: 'POST',
          headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'text/csv', accept: 'application/json' },
          body: `thirdPartyId,tier\nu${i},gold\n`,
        });
        statuses.push(res.status);
        if (res.status === 429) assert.ok(Number(res.headers.get('retry-after')) > 0);
        await res.arrayBuffer();
      }
      assert.deepEqual(statuses, [...Array<number>(10).fill(200), 429]);
    } finally {
      await server.close();
    }
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

  describe('signing keys', () => {
    const kidOf = (token: string) =>
      (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;
    const fileKey = (key: SigningKey) => ({
      kid: key.kid,
      secret: key.key.export().toString('base64url'),
      createdAt: key.createdAt,
    });
    const generate = async (url: string, adminKey: string) => {
      const res = await fetch(`${url}/demo/target/authentication/token?authorizationScope=profile_api`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}` },
      });
      assert.equal(res.status, 201);
      return ((await res.json()) as { accessToken: string }).accessToken;
    };
    const fetchWith = (url: string, token: string) =>
      fetch(`${url}/rest/v1/profiles/thirdPartyId/nobody?client=demo`, {
        headers: { authorization: `Bearer ${token}` },
      });

    it('takes them from PROFILEGATE_SIGNING_KEYS, and writes no key file', async () => {
      const data = join(root, 'env-keys');
      const key = generateSigningKey(Date.UTC(2026, 0, 1));
      const value = JSON.stringify({ keys: [fileKey(key)] });
      const server = await startDemoServer(config(data, { PROFILEGATE_SIGNING_KEYS: value }), { log });
      try {
        assert.equal(kidOf(await generate(server.url, server.adminKeyGenerated!)), key.kid);
        assert.equal(existsSync(join(data, 'signing-keys.json')), false);
      } finally {
        await server.close();
      }
    });

    it('refuses to start when the key file no longer holds the keys the database knows, naming the file', async () => {
      const data = join(root, 'replaced-keys');
      await (await startDemoServer(config(data), { log })).close();
      const file = join(data, 'signing-keys.json');
      const before = readFileSync(file, 'utf8');
      writeFileSync(file, JSON.stringify({ keys: [fileKey(generateSigningKey(Date.UTC(2026, 0, 1)))] }), {
        mode: 0o600,
      });
      await assert.rejects(startDemoServer(config(data), { log }), (error: Error) => {
        assert.equal(error.name, 'SigningKeyMismatchError');
        assert.ok(error.message.includes(file), error.message);
        assert.match(error.message, /Copy the signing key file/);
        assert.ok(!error.message.includes(JSON.parse(before).keys[0].secret));
        return true;
      });
      // The port and the database were released: with the old file back, it starts.
      writeFileSync(file, before);
      await (await startDemoServer(config(data), { log })).close();
    });

    it('refuses to start without its deleted key file until the lost key is retired', async () => {
      const data = join(root, 'lost-keys');
      const first = await startDemoServer(config(data), { log });
      const token = await generate(first.url, first.adminKeyGenerated!).finally(() => first.close());
      const file = join(data, 'signing-keys.json');
      rmSync(file);
      await assert.rejects(startDemoServer(config(data), { log }), (error: Error) => {
        assert.ok(error.message.includes(`the signing key file ${file} does not exist`), error.message);
        assert.ok(error.message.includes(`retireSigningKey(${JSON.stringify(file)}, kid)`), error.message);
        return true;
      });
      assert.equal(existsSync(file), false, 'no key of its own was created');
      await retireSigningKey(file, kidOf(token));
      const second = await startDemoServer(config(data), { log });
      try {
        assert.equal((await fetchWith(second.url, token)).status, 401);
      } finally {
        await second.close();
      }
    });

    it('uses a key added to the key file, and stops accepting a retired one, without a restart', async () => {
      const data = join(root, 'live-keys');
      const lines: string[] = [];
      const server = await startDemoServer(config(data), { log: (line) => lines.push(line), signingKeyPollMs: 10 });
      try {
        const adminKey = server.adminKeyGenerated!;
        const old = await generate(server.url, adminKey);
        const file = join(data, 'signing-keys.json');
        const rotated = await rotateSigningKey(file);
        const added = rotated.active().kid;
        let fresh = old;
        for (let i = 0; i < 500 && kidOf(fresh) !== added; i++) {
          await new Promise((r) => setTimeout(r, 10));
          fresh = await generate(server.url, adminKey);
        }
        assert.equal(kidOf(fresh), added, lines.join('\n'));
        assert.equal((await fetchWith(server.url, fresh)).status, 404);

        await retireSigningKey(file, kidOf(old));
        const graced = await generate(server.url, adminKey);
        let status = 0;
        for (let i = 0; i < 500 && status !== 401; i++) {
          await new Promise((r) => setTimeout(r, 10));
          status = (await fetchWith(server.url, old)).status;
        }
        assert.equal(status, 401, 'a token of the retired key is refused');
        assert.equal((await fetchWith(server.url, graced)).status, 404);
        assert.ok(lines.every((line) => !line.includes(readFileSync(file, 'utf8').slice(40, 80))));
      } finally {
        await server.close();
      }
    });
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
