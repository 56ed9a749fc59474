import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, closedPort, demoModules, runCli, type CliResult } from './helpers';

const ADMIN_KEY = 'cli-test-admin-key-0123456789';
const EDITOR_KEY = 'cli-test-editor-key-0123456789';

function parse(result: CliResult): Record<string, unknown> {
  try {
    return JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    assert.fail(`stdout is not JSON (exit ${result.code}): ${result.stdout}\nstderr: ${result.stderr}`);
  }
}

describe('profilegate CLI against the demo server', function () {
  this.timeout(60_000);
  let tmp: string;
  let work: string;
  let url: string;
  let close: () => Promise<void>;
  let env: NodeJS.ProcessEnv;

  const cli = (args: string[], input?: string) =>
    runCli(args, { env, cwd: work, ...(input === undefined ? {} : { input }) });
  const profileStatus = async (token: string) =>
    (
      await fetch(`${url}/rest/v1/profiles/thirdPartyId/nobody?client=demo`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).status;
  const generate = async (...extra: string[]): Promise<string> => {
    const result = await cli(['token', 'generate', '--json', '--reveal', '--yes', ...extra]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const token = (parse(result)['token'] as { accessToken: string }).accessToken;
    assert.match(token, /^eyJ/);
    return token;
  };

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pg-cli-'));
    work = path.join(tmp, 'work');
    await fs.mkdir(work);
    const { server, config } = demoModules();
    const demo = await server.startDemoServer(
      config.loadDemoConfig(
        {
          PORT: '0',
          PROFILEGATE_DATA: path.join(tmp, 'data'),
          PROFILEGATE_ADMIN_KEYS: `${ADMIN_KEY}:admin:ops,${EDITOR_KEY}:editor:ed`,
        },
        tmp,
      ),
      { log() {} },
    );
    url = demo.url;
    close = () => demo.close();
    env = { PROFILEGATE_SERVER: url, PROFILEGATE_CLIENT: 'demo', PROFILEGATE_ADMIN_KEY: ADMIN_KEY };
  });

  after(async () => {
    await close?.();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('generate --update rewrites .env, JSON, YAML and shell files, and the old token then gets 401', async () => {
    const old = await generate();
    assert.equal(await profileStatus(old), 404);
    const files: Record<string, (t: string) => string> = {
      '.env': (t) => `# profile API\r\nPROFILE_TOKEN=${t}\r\nexport QUOTED="${t}"\r\n`,
      'config/app.json': (t) => `{\n  "profileToken": "${t}",\n  "other": "x"\n}\n`,
      'config/app.yaml': (t) => `profile:\n  token: ${t}\n  quoted: '${t}'\n`,
      'scripts/upload.sh': (t) => `#!/bin/sh\ncurl -H "Authorization: Bearer ${t}" "$URL"\n`,
    };
    for (const [name, content] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(work, name)), { recursive: true });
      await fs.writeFile(path.join(work, name), content(old));
    }
    await fs.chmod(path.join(work, 'scripts/upload.sh'), 0o750);

    // Dry run first: lists the copies, changes nothing (on the server either).
    const dry = await cli(['token', 'generate', '--dry-run', '--update', '.env', 'config', 'scripts/*.sh', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const dryFiles = parse(dry)['files'] as { copies: number };
    assert.equal(dryFiles.copies, 6);
    assert.equal(await fs.readFile(path.join(work, '.env'), 'utf8'), files['.env']!(old));
    assert.equal(await profileStatus(old), 404);

    const result = await cli(['token', 'generate', '--update', '.env', 'config', 'scripts/*.sh', '--yes']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Updated 6 copies in 4 files/);
    assert.ok(!result.stdout.includes(old), 'the old token is masked');

    const shown = await cli(['token', 'show', '--json', '--reveal']);
    const fresh = (parse(shown)['token'] as { accessToken: string }).accessToken;
    assert.notEqual(fresh, old);
    assert.ok(!result.stdout.includes(fresh), 'the new token is masked without --reveal');
    for (const [name, content] of Object.entries(files)) {
      assert.equal(await fs.readFile(path.join(work, name), 'utf8'), content(fresh), name);
    }
    assert.equal((await fs.stat(path.join(work, 'scripts/upload.sh'))).mode & 0o777, 0o750);
    assert.equal(await profileStatus(old), 401);
    assert.equal(await profileStatus(fresh), 404);
  });

  it('token replace --new - reads the new token from stdin and replaces the old copies', async () => {
    const first = await generate();
    await fs.writeFile(path.join(work, 'replace.env'), `TOKEN=${first}\n`);
    const second = await generate();
    const result = await cli(['token', 'replace', '--new', '-', 'replace.env', '--json'], `${second}\n`);
    assert.equal(result.code, 0, result.stderr);
    const body = parse(result) as { files: { copies: number } };
    assert.equal(body.files.copies, 1);
    assert.ok(!result.stdout.includes(second));
    assert.equal(await fs.readFile(path.join(work, 'replace.env'), 'utf8'), `TOKEN=${second}\n`);
  });

  it('token replace refuses a token that is not a profile token of the client (exit 2)', async () => {
    await fs.writeFile(path.join(work, 'keep.env'), 'TOKEN=abc\n');
    const result = await cli(['token', 'replace', '--new', '-', 'keep.env'], 'not-a-token\n');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /not a profile token of client demo/);
  });

  it('batch upload --wait exits 1 and names the failed rows', async () => {
    const csv = `thirdPartyId,tier,note\nu1,gold,"a, b"\nbad+id,silver,x\nu3,${'v'.repeat(5001)},y\n`;
    await fs.writeFile(path.join(work, 'bad.csv'), csv);
    const result = await cli(['batch', 'upload', 'bad.csv', '--wait']);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /bad\+id/);
    assert.match(result.stderr, /u3/);
    assert.match(result.stdout, /1 of 3 rows applied, 2 failed/);

    const json = await cli(['batch', 'upload', 'bad.csv', '--wait', '--json']);
    assert.equal(json.code, 1);
    const body = parse(json) as { ok: boolean; failedUpdates: number; profiles: Array<{ id: string }> };
    assert.equal(body.ok, false);
    assert.equal(body.failedUpdates, 2);
    assert.deepEqual(
      body.profiles.map((p) => p.id),
      ['bad+id', 'u3'],
    );
  });

  it('batch upload sends a plain CSV (quotes, CRLF, UTF-8), and --wait --json reports success', async () => {
    await fs.writeFile(
      path.join(work, 'good.csv'),
      'thirdPartyId,profile.tier,city\r\nu10,gold,"New York, NY"\r\nu11,silver,Zürich & Co\r\n',
    );
    const result = await cli(['batch', 'upload', 'good.csv', '--wait', '--json']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const body = parse(result) as { ok: boolean; status: string; successfulUpdates: number };
    assert.equal(body.ok, true);
    assert.equal(body.status, 'complete');
    assert.equal(body.successfulUpdates, 2);
    const token = (parse(await cli(['token', 'show', '--json', '--reveal']))['token'] as { accessToken: string })
      .accessToken;
    const profile = (await (
      await fetch(`${url}/rest/v1/profiles/thirdPartyId/u11?client=demo`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { profileAttributes: Record<string, { value: string }> };
    assert.equal(profile.profileAttributes['city']?.value, 'Zürich & Co');

    const plain = await cli(['batch', 'upload', 'good.csv']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /submitted for processing/);
  });

  it('batch upload sends the file as it is: one not saved as UTF-8 is refused, naming the line', async () => {
    // "Zürich" in Latin-1: read as UTF-8 text, the ü would become U+FFFD and be stored silently.
    await fs.writeFile(path.join(work, 'latin1.csv'), Buffer.from('thirdPartyId,city\nu20,Z\xfcrich\n', 'latin1'));
    const result = await cli(['batch', 'upload', 'latin1.csv', '--wait', '--json']);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const body = parse(result) as { error: { message: string } };
    assert.match(body.error.message, /^Line 2: The body is not valid UTF-8 text/);
  });

  it('batch upload sends a file already in the batch= form (after a BOM) as it is', async () => {
    await fs.writeFile(path.join(work, 'form.txt'), '\uFEFFbatch=thirdPartyId,city\nu21,New+York%2C+NY\n');
    const result = await cli(['batch', 'upload', 'form.txt', '--wait', '--json']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal((parse(result) as { successfulUpdates: number }).successfulUpdates, 1);
  });

  it('--json output parses for every command', async () => {
    const commands: string[][] = [
      ['token', 'show'],
      ['token', 'generate', '--expires-in', '12h', '--grace', '60', '--yes'],
      ['settings', 'show'],
      ['settings', 'set', '--require-auth', 'on'],
      ['audit', '--limit', '5'],
      ['token', 'revoke', '--yes'],
      ['token', 'show'],
      ['token', 'generate', '--expires-in', '90d', '--yes'],
    ];
    for (const args of commands) {
      const result = await cli([...args, '--json']);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      const body = parse(result);
      assert.equal(body['client'], 'demo');
    }
    const audit = parse(await cli(['audit', '--json', '--limit', '3'])) as { events: Array<{ action: string }> };
    assert.equal(audit.events.length, 3);
    assert.equal(audit.events[0]?.action, 'token.generated');
    const shown = parse(await cli(['token', 'show', '--json'])) as { token: Record<string, unknown> };
    assert.equal(shown.token['accessToken'], undefined, 'no full token without --reveal');
    assert.match(String(shown.token['accessTokenMasked']), /^eyJ.{3}….{4}$/);
  });

  it('settings set --require-auth off opens the profile routes, on closes them', async () => {
    let result = await cli(['settings', 'set', '--require-auth', 'off', '--yes']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Require Authentication is OFF/);
    assert.equal(await profileStatus('whatever'), 404);
    result = await cli(['settings', 'set', '--require-auth', 'on']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await profileStatus('whatever'), 401);
  });

  it('settings set --retention-days N|off sets and clears the retention, alone or with --require-auth (issue 19)', async () => {
    // A retention deletes profiles: like the other destructive commands, without a terminal it needs --yes.
    let result = await cli(['settings', 'set', '--retention-days', '30']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /not modified for 30 days.*--yes/s);
    assert.equal(
      (parse(await cli(['settings', 'show', '--json'])) as { profileRetentionDays: unknown }).profileRetentionDays,
      null,
    );
    result = await cli(['settings', 'set', '--retention-days', '30', '--yes']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /not modified for 30 days are deleted/);
    result = await cli(['settings', 'show', '--json']);
    assert.equal((parse(result) as { profileRetentionDays: number | null }).profileRetentionDays, 30);
    assert.match((await cli(['settings', 'show'])).stdout, /Require Authentication is ON/, 'the switch is untouched');
    result = await cli(['settings', 'set', '--retention-days', 'off', '--require-auth', 'on', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const body = parse(result) as { profileRetentionDays: number | null; requireAuthentication: boolean };
    assert.deepEqual([body.profileRetentionDays, body.requireAuthentication], [null, true]);
    assert.match((await cli(['settings', 'show'])).stdout, /Profiles are kept forever/);
    for (const bad of ['0', '3651', '1.5', 'never', '']) {
      result = await cli(['settings', 'set', '--retention-days', bad]);
      assert.equal(result.code, 2, `${bad}: ${result.stdout} ${result.stderr}`);
      assert.match(result.stderr, /--retention-days must be a whole number of days from 1 to 3650, or off/);
    }
    result = await cli(['settings', 'set']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--require-auth.*--retention-days/);
  });

  it('exits 2 on usage errors', async () => {
    for (const args of [
      ['token', 'generate', '--expires-in', 'soon'],
      ['settings', 'set', '--require-auth', 'maybe'],
      ['nonsense'],
      ['token', 'generate', '--update', 'does-not-exist.env'],
      ['audit', '--limit', 'x'],
    ]) {
      const result = await cli(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stdout} ${result.stderr}`);
    }
    const noKey = await runCli(['token', 'show'], { env: { PROFILEGATE_SERVER: url }, cwd: work });
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /PROFILEGATE_ADMIN_KEY/);
  });

  it('exits 3 when the server cannot be reached', async () => {
    const port = await closedPort();
    const result = await cli(['token', 'show', '--server', `http://127.0.0.1:${port}`]);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /Nothing is listening/);
    const json = await cli(['settings', 'show', '--json', '--server', `http://127.0.0.1:${port}`]);
    assert.equal(json.code, 3);
    assert.equal((parse(json) as { error: { code: string } }).error.code, 'ServerUnreachable');
  });

  it('a --server with a path the router is not mounted at (the admin page URL) says to check --server', async () => {
    // Before: "The server answered 404 Not Found" and nothing else: the demo server prints the
    // admin page's URL (…/demo/target/admin), which a hurried user pastes as the server URL.
    for (const server of [`${url}/demo/target/admin`, `${url}/nothing`]) {
      const result = await cli(['token', 'show', '--server', server]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /404/);
      assert.match(result.stderr, /check --server \(or PROFILEGATE_SERVER\)/);
    }
    // A 404 the router explains (no such profile) keeps its own message, without that advice.
    const missing = await cli(['profile', 'get', 'nobody-at-all', '--third-party-id']);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /No profile found/);
    assert.doesNotMatch(missing.stderr, /check --server/);
  });

  it('a profile route refused for want of a token says what to run, not which HTTP header to send', async () => {
    // Before: "This client requires authentication: send the header Authorization: Bearer
    // <profile token>": HTTP advice to a CLI user, who sends no header and has no token to give.
    await fs.writeFile(path.join(work, 'gate.csv'), 'thirdPartyId,tier\nu1,gold\n');
    assert.equal((await cli(['token', 'revoke', '--yes'])).code, 0);
    try {
      const revoked = await cli(['batch', 'upload', 'gate.csv']);
      assert.equal(revoked.code, 1, revoked.stderr);
      assert.doesNotMatch(revoked.stderr, /send the header/);
      assert.match(revoked.stderr, /Require Authentication is on/);
      assert.match(revoked.stderr, /profilegate token generate/);
      const json = parse(await cli(['profile', 'get', 'u1', '--third-party-id', '--json']));
      assert.match((json['error'] as { message: string }).message, /profilegate token generate/);
      const noKey = await runCli(['profile', 'get', 'u1', '--third-party-id'], {
        env: { ...env, PROFILEGATE_ADMIN_KEY: '' },
        cwd: work,
      });
      assert.equal(noKey.code, 1, noKey.stderr);
      assert.match(noKey.stderr, /PROFILEGATE_ADMIN_KEY/);
    } finally {
      await generate();
    }
  });

  it('generate --update stops before generating when a file to update sits in a folder it cannot write', async function () {
    // Before: the token was generated, then "EACCES: permission denied, open '….profilegate-tmp'"
    // (exit 1): every copy still held the old token, which stopped working after the grace period.
    // Files are rewritten through a temporary file beside them, so the folder must be writable.
    // Root writes anywhere a mode allows nothing, so as root the folder is made immutable
    // (`chattr +i`: even root cannot write in it). Running the CLI as another user instead fails
    // where the checkout itself is private (a CI clone in a 0700 temporary folder).
    const asRoot = process.getuid?.() === 0;
    const old = await generate();
    const shared = await fs.mkdtemp(path.join(os.tmpdir(), 'pg-cli-ro-'));
    const locked = path.join(shared, 'locked');
    try {
      await fs.mkdir(locked);
      await fs.writeFile(path.join(shared, 'ok.env'), `T=${old}\n`);
      await fs.writeFile(path.join(locked, 'app.env'), `T=${old}\n`);
      await fs.chmod(locked, 0o555);
      if (asRoot && spawnSync('chattr', ['+i', locked], { stdio: 'ignore' }).status !== 0) {
        console.log('      skipped: running as root and `chattr +i` failed here, so no folder is read-only for root');
        this.skip();
      }
      const args = ['token', 'generate', '--update', 'ok.env', 'locked', '--yes'];
      // Asynchronous: the demo server runs in this process.
      const result = await new Promise<{ status: number | null; stderr: string }>((done, fail) => {
        const child = spawn(process.execPath, [BIN, ...args], {
          cwd: shared,
          env: { PATH: process.env['PATH'], ...env },
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        child.on('error', fail);
        child.on('close', (status) => done({ status, stderr }));
      });
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, /Cannot update locked\/app\.env: its folder locked is not writable/);
      assert.match(result.stderr, /no token was generated/);
      assert.doesNotMatch(result.stderr, /EACCES/);
      const shown = parse(await cli(['token', 'show', '--json', '--reveal']));
      assert.equal((shown['token'] as { accessToken: string }).accessToken, old, 'the token was not rotated');
    } finally {
      if (asRoot) spawnSync('chattr', ['-i', locked], { stdio: 'ignore' });
      await fs.chmod(locked, 0o755).catch(() => undefined);
      await fs.rm(shared, { recursive: true, force: true });
    }
  });

  it('token revoke with no token says there is nothing to revoke, and asks nothing', async () => {
    // Before: "Revoked the profile token of client demo" every time, even with no token (and a
    // confirmation, or exit 2 without --yes, for nothing).
    assert.equal((await cli(['token', 'revoke', '--yes'])).code, 0);
    try {
      const again = await cli(['token', 'revoke']);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /Client demo has no profile token; nothing to revoke/);
      assert.doesNotMatch(again.stdout, /Revoked/);
      const json = parse(await cli(['token', 'revoke', '--json']));
      assert.equal(json['revoked'], false);
    } finally {
      await generate();
    }
  });

  it('exits 4 with a wrong admin key, 1 with a role that may not, never printing the key', async () => {
    const wrongKey = 'wrong-admin-key-0123456789abcdef';
    const result = await cli(['token', 'show', '--admin-key', wrongKey]);
    assert.equal(result.code, 4);
    assert.match(result.stderr, /admin key/i);
    assert.ok(!result.stderr.includes(wrongKey) && !result.stdout.includes(wrongKey));
    const editor = await cli(['token', 'generate', '--yes', '--admin-key', EDITOR_KEY]);
    assert.equal(editor.code, 1);
    assert.ok(!editor.stderr.includes(EDITOR_KEY));
  });
});
