/**
 * The CLI against Adobe Target (issue 21): the PROFILEGATE_ADOBE_* variables choose the target,
 * and every request is checked against Adobe's published Admin API document by the emulation.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startAdobeEmulation, type AdobeEmulation } from '@profilegate/middleware/testing';
import { closedPort, hasScript, runCli, runCliInTerminal, type CliResult } from './helpers';

function parse(result: CliResult): Record<string, unknown> {
  try {
    return JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    assert.fail(`stdout is not JSON (exit ${result.code}): ${result.stdout}\nstderr: ${result.stderr}`);
  }
}

/** Copies of a token in the four kinds of file the CLI updates. */
const FILES: Record<string, (t: string) => string> = {
  '.env': (t) => `# Adobe Target\nTARGET_PROFILE_TOKEN=${t}\nexport QUOTED="${t}"\n`,
  'config/app.json': (t) => `{\n  "profileToken": "${t}",\n  "other": "x"\n}\n`,
  'config/app.yaml': (t) => `target:\n  token: ${t}\n  quoted: '${t}'\n`,
  'scripts/upload.sh': (t) => `#!/bin/sh\ncurl -H "Authorization: Bearer ${t}" "$URL"\n`,
};

describe('profilegate CLI against the Adobe emulation (issue 21)', function () {
  this.timeout(60_000);
  let tmp: string;
  let work: string;
  let state: string;
  let adobe: AdobeEmulation;
  let env: NodeJS.ProcessEnv;
  /** Every output of every run, and whether that run had --reveal. */
  const outputs: { args: string[]; text: string }[] = [];
  /** Every Target token the emulation held at some point, and every IMS token it issued. */
  const seenTokens = new Set<string>();
  /** The client secret of every emulation started. */
  const secrets = new Set<string>();

  const remember = () => {
    for (const scope of ['profile_api', 'debug_tools'] as const) {
      const value = adobe.tokens.get(scope);
      if (value !== null) seenTokens.add(value);
    }
  };
  const cli = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}, input?: string): Promise<CliResult> => {
    remember();
    const result = await runCli(args, {
      env: { ...env, ...extraEnv },
      cwd: work,
      ...(input === undefined ? {} : { input }),
    });
    remember();
    outputs.push({ args, text: `${result.stdout}\n${result.stderr}` });
    return result;
  };
  const writeCopies = async (token: string) => {
    for (const [name, content] of Object.entries(FILES)) {
      await fs.mkdir(path.dirname(path.join(work, name)), { recursive: true });
      await fs.writeFile(path.join(work, name), content(token));
    }
  };
  const readCopies = async () => {
    const out: Record<string, string> = {};
    for (const name of Object.keys(FILES)) out[name] = await fs.readFile(path.join(work, name), 'utf8');
    return out;
  };

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pg-cli-adobe-'));
  });

  beforeEach(async () => {
    work = await fs.mkdtemp(path.join(tmp, 'work-'));
    state = path.join(work, '..', `${path.basename(work)}-state`);
    adobe = await startAdobeEmulation({ tenant: 'acme' });
    secrets.add(adobe.clientSecret);
    env = {
      PROFILEGATE_ADOBE_TENANT: 'acme',
      PROFILEGATE_ADOBE_CLIENT_ID: adobe.clientId,
      PROFILEGATE_ADOBE_CLIENT_SECRET: adobe.clientSecret,
      PROFILEGATE_ADOBE_IMS_URL: adobe.imsUrl,
      PROFILEGATE_ADOBE_ADMIN_URL: adobe.adminUrl,
      PROFILEGATE_STATE_DIR: state,
    };
    remember();
  });

  afterEach(async function () {
    // Every request any test sent matches Adobe's published document.
    assert.deepEqual(adobe.violations(), [], `${this.currentTest?.title ?? ''}`);
    await adobe.close();
  });

  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('token show prints the Adobe token masked, and in full with --reveal --json', async () => {
    const current = adobe.tokens.get('profile_api') as string;
    const shown = await cli(['token', 'show']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /Adobe Target tenant acme \(profile_api\)/);
    assert.ok(shown.stdout.includes(`${current.slice(0, 6)}…${current.slice(-4)}`), shown.stdout);
    assert.ok(!shown.stdout.includes(current));

    const json = parse(await cli(['token', 'show', '--json']));
    assert.equal(json['target'], 'adobe');
    assert.equal(json['tenant'], 'acme');
    assert.equal(json['scope'], 'profile_api');
    const token = json['token'] as Record<string, unknown>;
    assert.equal(token['accessToken'], undefined);
    assert.equal(token['accessTokenMasked'], `${current.slice(0, 6)}…${current.slice(-4)}`);
    assert.equal(typeof token['expiresIn'], 'number');

    const revealed = parse(await cli(['token', 'show', '--json', '--reveal']));
    assert.equal((revealed['token'] as Record<string, unknown>)['accessToken'], current);

    const debug = parse(await cli(['token', 'show', '--json', '--reveal', '--scope', 'debug_tools']));
    assert.equal(debug['scope'], 'debug_tools');
    assert.equal((debug['token'] as Record<string, unknown>)['accessToken'], adobe.tokens.get('debug_tools'));
  });

  it('token show says when the tenant has no token of that scope yet', async () => {
    adobe.tokens.set('debug_tools', null);
    const result = await cli(['token', 'show', '--scope', 'debug_tools']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /has no token; create one with: profilegate token generate --scope debug_tools/);
  });

  for (const scope of ['profile_api', 'debug_tools'] as const) {
    it(`token generate --update replaces the ${scope} token in .env, JSON, YAML and shell files`, async () => {
      const old = adobe.tokens.get(scope) as string;
      const other = scope === 'profile_api' ? 'debug_tools' : 'profile_api';
      const otherBefore = adobe.tokens.get(other);
      await writeCopies(old);
      const args = ['token', 'generate', '--update', '.env', 'config', 'scripts', '--yes'];
      const result = await cli(scope === 'profile_api' ? args : [...args, '--scope', scope]);
      assert.equal(result.code, 0, result.stderr + result.stdout);
      const fresh = adobe.tokens.get(scope) as string;
      assert.notEqual(fresh, old);
      assert.equal(adobe.tokens.get(other), otherBefore, 'the other scope is left alone');
      assert.match(result.stdout, new RegExp(`New token for Adobe Target tenant acme \\(${scope}\\)`));
      assert.match(result.stdout, /The previous token no longer works/);
      assert.match(result.stdout, /Updated 6 copies in 4 files/);
      const after = await readCopies();
      for (const [name, content] of Object.entries(FILES)) assert.equal(after[name], content(fresh), name);
      // One IMS token for the whole run (GET then POST).
      assert.equal(adobe.imsTokensIssued(), 1);
      const posts = adobe.requests.filter((r) => r.api === 'admin' && r.method === 'POST');
      assert.deepEqual(
        posts.map((r) => r.query['authorizationScope']),
        [[scope]],
      );
    });
  }

  it('a later rotation also replaces copies of values kept from earlier rotations (0600 history file)', async () => {
    const first = adobe.tokens.get('profile_api') as string;
    await fs.writeFile(path.join(work, '.env'), `A=${first}\n`);
    let result = await cli(['token', 'generate', '--update', '.env', '--yes']);
    assert.equal(result.code, 0, result.stderr);
    const second = adobe.tokens.get('profile_api') as string;
    // A file that still holds the first value (e.g. restored from a branch) and one with the second.
    await fs.writeFile(path.join(work, 'old.env'), `A=${first}\n`);
    result = await cli(['token', 'generate', '--update', '.env', 'old.env', '--yes']);
    assert.equal(result.code, 0, result.stderr);
    const third = adobe.tokens.get('profile_api') as string;
    assert.equal(await fs.readFile(path.join(work, '.env'), 'utf8'), `A=${third}\n`);
    assert.equal(await fs.readFile(path.join(work, 'old.env'), 'utf8'), `A=${third}\n`);

    const files = await fs.readdir(state);
    assert.deepEqual(files, ['adobe-acme-profile_api-history.json']);
    const stat = await fs.stat(path.join(state, files[0] as string));
    assert.equal(stat.mode & 0o777, 0o600);
    const kept = JSON.parse(await fs.readFile(path.join(state, files[0] as string), 'utf8')) as { tokens: string[] };
    // Only replaced (dead) tokens are kept, newest first; never the current one.
    assert.deepEqual(kept.tokens, [second, first]);
  });

  it('token generate --dry-run lists the copies and changes nothing at Adobe or in the files', async () => {
    const old = adobe.tokens.get('profile_api') as string;
    await writeCopies(old);
    const result = await cli(['token', 'generate', '--update', '.env', 'config', 'scripts', '--dry-run']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Dry run: would generate a new token for Adobe Target tenant acme \(profile_api\)/);
    assert.match(result.stdout, /Would update 6 copies in 4 files/);
    assert.equal(adobe.tokens.get('profile_api'), old);
    for (const [name, content] of Object.entries(await readCopies())) assert.equal(content, FILES[name]!(old));
    assert.equal(adobe.requests.filter((r) => r.method === 'POST' && r.api === 'admin').length, 0);

    const json = parse(await cli(['token', 'generate', '--update', '.env', '--dry-run', '--json']));
    assert.equal(json['dryRun'], true);
    assert.equal(json['generated'], false);
    assert.equal((json['files'] as Record<string, unknown>)['copies'], 2);
  });

  it('token generate --json answers the masked token and the files', async () => {
    await writeCopies(adobe.tokens.get('profile_api') as string);
    const json = parse(await cli(['token', 'generate', '--update', '.env', '--json', '--yes']));
    const fresh = adobe.tokens.get('profile_api') as string;
    const token = json['token'] as Record<string, unknown>;
    assert.equal(token['accessToken'], undefined);
    assert.equal(token['accessTokenMasked'], `${fresh.slice(0, 6)}…${fresh.slice(-4)}`);
    assert.equal((json['files'] as Record<string, unknown>)['copies'], 2);
  });

  it('an --update that matches no file stops before rotating (exit 2)', async () => {
    const old = adobe.tokens.get('profile_api') as string;
    const result = await cli(['token', 'generate', '--update', 'nothing-here/*.env', '--yes']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /matched no file; nothing was changed \(no token was generated\)/);
    assert.equal(adobe.tokens.get('profile_api'), old);
    assert.equal(adobe.requests.filter((r) => r.method === 'POST' && r.api === 'admin').length, 0);
  });

  it('without a terminal, generate asks for --yes and changes nothing (exit 2)', async () => {
    const old = adobe.tokens.get('profile_api') as string;
    const result = await cli(['token', 'generate']);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /Generate a new token for Adobe Target tenant acme \(profile_api\) at http:\/\/127\.0\.0\.1:\d+\?/,
    );
    assert.match(result.stderr, /--yes/);
    assert.equal(adobe.tokens.get('profile_api'), old);
  });

  for (const [args, pattern] of [
    [['token', 'revoke', '--yes'], /Adobe Target has no route to revoke/],
    [['token', 'generate', '--grace', '10m', '--yes'], /Adobe Target has no grace period/],
    [['token', 'generate', '--expires-in', '30d', '--yes'], /Adobe Target chooses the lifetime/],
    [['settings', 'set', '--require-auth', 'off', '--yes'], /Adobe Target has no Require Authentication/],
    [['settings', 'show'], /Adobe Target has no Require Authentication/],
    [['audit'], /audit log is a Profilegate server's/],
    [['batch', 'upload', 'profiles.csv'], /batch upload sends to a Profilegate server/],
    // Before: profile commands ignored the Adobe target and went to a Profilegate server the user
    // had not chosen (127.0.0.1:8080 by default; `profile delete --target adobe --yes` deleted there).
    [['profile', 'get', 'u1', '--third-party-id'], /profile get reads a Profilegate server's profiles/],
    [['profile', 'delete', 'u1', '--yes'], /profile delete deletes a Profilegate server's profiles/],
    [['profile', 'export', '--format', 'csv', '--output', 'out.csv'], /profile export reads a Profilegate server's/],
  ] as const) {
    it(`${args.join(' ')} is refused for an Adobe target (exit 2), before any request`, async () => {
      const old = adobe.tokens.get('profile_api');
      const result = await cli([...args]);
      assert.equal(result.code, 2, result.stderr + result.stdout);
      assert.match(result.stderr, pattern);
      assert.equal(adobe.tokens.get('profile_api'), old);
      assert.equal(adobe.requests.length, 0);
    });
  }

  it('a wrong client secret (IMS 401) gives a clear message and exit 4', async () => {
    const result = await cli(['token', 'show'], { PROFILEGATE_ADOBE_CLIENT_SECRET: 'p8e-not-the-right-secret-at-all' });
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /Adobe IMS .* refused the client id or client secret/);
    assert.match(result.stderr, /PROFILEGATE_ADOBE_CLIENT_ID/);
    assert.ok(!result.stderr.includes('p8e-not-the-right-secret-at-all'));
    const json = parse(
      await cli(['token', 'show', '--json'], { PROFILEGATE_ADOBE_CLIENT_SECRET: 'p8e-not-the-right-secret-at-all' }),
    );
    assert.equal((json['error'] as Record<string, unknown>)['exitCode'], 4);
  });

  it('on a terminal, generate asks first: "n" changes nothing, "y" rotates', async function () {
    if (!hasScript()) {
      console.log('      skipped: util-linux `script` is not installed, so no pseudo-terminal');
      this.skip();
    }
    const old = adobe.tokens.get('profile_api') as string;
    await fs.writeFile(path.join(work, '.env'), `T=${old}\n`);
    const terminal = async (answer: string) => {
      remember();
      const result = await runCliInTerminal(['token', 'generate', '--update', '.env'], {
        env,
        cwd: work,
        waitFor: '[y/N]',
        answer,
      });
      remember();
      outputs.push({ args: ['token', 'generate', '(terminal)'], text: result.stdout });
      return result;
    };
    const no = await terminal('n');
    assert.equal(no.code, 1, no.stdout);
    assert.match(no.stdout, /Generate a new token for Adobe Target tenant acme \(profile_api\)/);
    assert.match(no.stdout, /stops working at once \(Adobe Target has no grace period\)/);
    assert.match(no.stdout, /Then 1 copy in 1 of 1 files scanned are replaced/);
    assert.match(no.stdout, /Cancelled; nothing was changed/);
    assert.equal(adobe.tokens.get('profile_api'), old);
    const yes = await terminal('y');
    assert.equal(yes.code, 0, yes.stdout);
    const fresh = adobe.tokens.get('profile_api') as string;
    assert.notEqual(fresh, old);
    assert.equal(await fs.readFile(path.join(work, '.env'), 'utf8'), `T=${fresh}\n`);
  });

  it('a tenant the credential may not use (403) exits 1 and says what to check', async () => {
    const result = await cli(['token', 'show'], { PROFILEGATE_ADOBE_TENANT: 'someone-else' });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /Check PROFILEGATE_ADOBE_TENANT and that the credential's product profile/);
  });

  it('an IMS or Admin API that cannot be reached exits 3, before anything changes', async () => {
    const ims = await cli(['token', 'generate', '--yes'], {
      PROFILEGATE_ADOBE_IMS_URL: `http://127.0.0.1:${await closedPort()}`,
    });
    assert.equal(ims.code, 3, ims.stderr);
    assert.match(ims.stderr, /Nothing is listening at http:\/\/127\.0\.0\.1:\d+; check the URL/);
    const api = await cli(['token', 'show'], { PROFILEGATE_ADOBE_ADMIN_URL: `http://127.0.0.1:${await closedPort()}` });
    assert.equal(api.code, 3, api.stderr);
  });

  it('a missing variable is named (exit 2)', async () => {
    const result = await cli(['token', 'show'], { PROFILEGATE_ADOBE_CLIENT_SECRET: '' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Set PROFILEGATE_ADOBE_CLIENT_SECRET/);
    const noTenant = await cli(['token', 'show'], { PROFILEGATE_ADOBE_TENANT: '' });
    assert.equal(noTenant.code, 2);
    assert.match(noTenant.stderr, /Set PROFILEGATE_ADOBE_TENANT/);
  });

  it('--adobe-tenant mirrors the variable; there is no flag for the secret', async () => {
    const result = await cli(['token', 'show', '--adobe-tenant', 'acme'], { PROFILEGATE_ADOBE_TENANT: '' });
    assert.equal(result.code, 0, result.stderr);
    const secretFlag = await cli(['token', 'show', '--adobe-client-secret', 'x']);
    assert.equal(secretFlag.code, 2);
    const help = await cli(['token', 'show', '--help']);
    assert.match(help.stdout, /--adobe-tenant/);
    assert.match(help.stdout, /PROFILEGATE_ADOBE_CLIENT_SECRET.*no flag/s);
  });

  it('Profilegate and Adobe both configured: exit 2 naming both, unless --target chooses', async () => {
    const both = await cli(['token', 'show'], { PROFILEGATE_SERVER: 'http://127.0.0.1:9' });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /PROFILEGATE_SERVER/);
    assert.match(both.stderr, /PROFILEGATE_ADOBE_TENANT/);
    assert.match(both.stderr, /--target/);
    const chosen = await cli(['token', 'show', '--target', 'adobe'], { PROFILEGATE_SERVER: 'http://127.0.0.1:9' });
    assert.equal(chosen.code, 0, chosen.stderr);
    assert.match(chosen.stdout, /Adobe Target tenant acme/);
  });

  it('--scope is refused for a Profilegate target (it has one profile token)', async () => {
    const result = await cli(['token', 'show', '--target', 'profilegate', '--scope', 'debug_tools']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--scope chooses an Adobe Target token/);
  });

  it('token replace finishes by hand with an Adobe token (old values from --old and the history)', async () => {
    const old = adobe.tokens.get('profile_api') as string;
    await writeCopies(old);
    const fresh = 'adobe-token-made-elsewhere-0123456789';
    const result = await cli(['token', 'replace', '--new', '-', '--old', old, '.env', 'config', 'scripts'], {}, fresh);
    assert.equal(result.code, 0, result.stderr);
    for (const [name, content] of Object.entries(await readCopies())) assert.equal(content, FILES[name]!(fresh), name);
  });

  it('token replace that finds no copy of a kept token says to name the replaced one with --old', async () => {
    // Before: "Updated 0 copies in 0 files", exit 0, and nothing else: the user who regenerated the
    // token in Adobe's UI (so the CLI never saw the token their files hold) was left guessing.
    assert.equal((await cli(['token', 'generate', '--yes'])).code, 0, 'a rotation keeps the replaced token');
    const current = adobe.tokens.get('profile_api') as string;
    await writeCopies(current); // a value the CLI never replaced, so not in its history
    const fresh = 'adobe-token-made-in-the-ui-0123456789';
    const result = await cli(['token', 'replace', '--new', '-', '.env', 'config', 'scripts'], {}, fresh);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Updated 0 copies/);
    assert.match(result.stderr, /No copy of the 1 token kept from earlier rotations was found/);
    assert.match(result.stderr, /--old/);
    assert.equal((await readCopies())['.env'], FILES['.env']!(current), 'nothing changed');
  });

  it('no output of any test above holds the client secret, an IMS token or a Target token (but with --reveal)', () => {
    assert.ok(outputs.length > 20);
    for (const { args, text } of outputs) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `the client secret in ${args.join(' ')}`);
      assert.ok(!/ims-emulated-/.test(text), `an IMS access token in the output of ${args.join(' ')}`);
      if (args.includes('--reveal')) continue;
      // --old names a token on the command line; the output must not echo it either.
      for (const token of seenTokens) assert.ok(!text.includes(token), `a Target token in ${args.join(' ')}`);
    }
  });
});
