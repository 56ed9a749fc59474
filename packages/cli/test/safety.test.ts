/**
 * Issue 20, the CLI: destructive commands confirm (or need --yes), an --update that matches nothing
 * stops before rotating, flag errors name the flag, a refused admin key has its own exit code, and
 * local file problems are usage errors.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { demoModules, hasScript, runCli, runCliInTerminal, type CliResult } from './helpers';

const ADMIN_KEY = 'cli-safety-admin-key-0123456789';

function parse(result: CliResult): Record<string, unknown> {
  try {
    return JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    assert.fail(`stdout is not JSON (exit ${result.code}): ${result.stdout}\nstderr: ${result.stderr}`);
  }
}

describe('profilegate CLI safety (issue 20)', function () {
  this.timeout(60_000);
  let tmp: string;
  let work: string;
  let url: string;
  let close: () => Promise<void>;
  let env: NodeJS.ProcessEnv;

  const cli = (args: string[]) => runCli(args, { env, cwd: work });
  const currentToken = async (): Promise<string | null> => {
    const token = parse(await cli(['token', 'show', '--json', '--reveal']))['token'] as { accessToken: string } | null;
    return token?.accessToken ?? null;
  };
  const requireAuth = async (): Promise<boolean> =>
    parse(await cli(['settings', 'show', '--json']))['requireAuthentication'] as boolean;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pg-cli-safety-'));
    work = path.join(tmp, 'work');
    await fs.mkdir(work);
    const { server, config } = demoModules();
    const demo = await server.startDemoServer(
      config.loadDemoConfig(
        { PORT: '0', PROFILEGATE_DATA: path.join(tmp, 'data'), PROFILEGATE_ADMIN_KEYS: `${ADMIN_KEY}:admin:ops` },
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

  describe('1. destructive commands confirm, or need --yes', () => {
    it('without a terminal and without --yes, generate, revoke and settings set off refuse (exit 2, naming --yes) and change nothing', async () => {
      assert.equal((await cli(['token', 'generate', '--yes'])).code, 0);
      const before = await currentToken();
      assert.ok(before);
      for (const args of [
        ['token', 'generate'],
        ['token', 'revoke'],
        ['settings', 'set', '--require-auth', 'off'],
        ['token', 'generate', '--json'],
      ]) {
        const result = await cli(args);
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
        assert.match(result.stderr + result.stdout, /--yes/, args.join(' '));
      }
      assert.equal(await currentToken(), before, 'the token is unchanged');
      assert.equal(await requireAuth(), true, 'Require Authentication is still on');
    });

    it('--yes goes ahead without a terminal; switching on and a dry run need no --yes', async () => {
      assert.equal((await cli(['settings', 'set', '--require-auth', 'off', '--yes'])).code, 0);
      assert.equal(await requireAuth(), false);
      assert.equal((await cli(['settings', 'set', '--require-auth', 'on'])).code, 0);
      assert.equal(await requireAuth(), true);
      assert.equal((await cli(['token', 'generate', '--dry-run'])).code, 0);
      const before = await currentToken();
      assert.equal((await cli(['--yes', 'token', 'revoke'])).code, 0, 'a global option: before the command too');
      assert.notEqual(before, null);
      assert.equal(await currentToken(), null);
    });

    describe('in a terminal (a pseudo-terminal)', function () {
      before(function () {
        if (!hasScript()) {
          console.log('      skipped: util-linux `script` is not installed, so no pseudo-terminal');
          this.skip();
        }
      });
      const terminal = (args: string[], answer: string) =>
        runCliInTerminal(args, { env, cwd: work, waitFor: '[y/N]', answer });

      it('asks before revoking, saying what will happen; Enter (the default) and "n" change nothing', async () => {
        assert.equal((await cli(['token', 'generate', '--yes'])).code, 0);
        const before = await currentToken();
        for (const answer of ['', 'n']) {
          const result = await terminal(['token', 'revoke'], answer);
          assert.match(result.stdout, /Revoke the profile token of client demo/);
          assert.match(result.stdout, /no token works until/i);
          assert.match(result.stdout, /Cancelled; nothing was changed/);
          assert.equal(result.code, 1, result.stdout);
          assert.equal(await currentToken(), before);
        }
      });

      it('"y" revokes; generate and settings set off ask too', async () => {
        const revoked = await terminal(['token', 'revoke'], 'y');
        assert.equal(revoked.code, 0, revoked.stdout);
        assert.match(revoked.stdout, /Revoked the profile token/);
        assert.equal(await currentToken(), null);

        const generated = await terminal(['token', 'generate'], 'yes');
        assert.equal(generated.code, 0, generated.stdout);
        assert.match(generated.stdout, /Generate a new profile token for client demo/);
        assert.notEqual(await currentToken(), null);

        const off = await terminal(['settings', 'set', '--require-auth', 'off'], 'n');
        assert.match(off.stdout, /open to anyone/);
        assert.equal(off.code, 1);
        assert.equal(await requireAuth(), true);
      });
    });
  });

  it('2. generate --update whose globs match no file stops before rotating (exit 2)', async () => {
    assert.equal((await cli(['token', 'generate', '--yes'])).code, 0);
    const before = await currentToken();
    const result = await cli(['token', 'generate', '--yes', '--update', 'nomatch/**/*.yaml']);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /matched no file/);
    assert.match(result.stderr, /nothing was changed/);
    assert.equal(await currentToken(), before, 'not rotated');
  });

  describe('3. errors', () => {
    it('flag errors name the flag as typed, exit 2, before calling the server', async () => {
      const before = await currentToken();
      for (const [args, flag] of [
        [['--expires-in', '0'], '--expires-in'],
        [['--expires-in', '400d'], '--expires-in'],
        [['--grace', '999999'], '--grace'],
        [['--grace', '-1'], '--grace'],
      ] as const) {
        const result = await cli(['token', 'generate', '--yes', ...args]);
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.ok(result.stderr.includes(flag), `${args.join(' ')}: ${result.stderr}`);
        assert.doesNotMatch(result.stderr, /expiresIn|previousTokenGraceSeconds/);
      }
      assert.equal(await currentToken(), before);
    });

    it('a refused admin key exits 4 and says what to do', async () => {
      const wrongKey = 'wrong-admin-key-0123456789abcdef';
      const result = await cli(['token', 'show', '--admin-key', wrongKey]);
      assert.equal(result.code, 4, result.stderr);
      assert.match(result.stderr, /PROFILEGATE_ADMIN_KEY/);
      assert.doesNotMatch(result.stderr, /Bearer <admin key>/);
      assert.ok(!result.stderr.includes(wrongKey));
      const json = await cli(['settings', 'show', '--json', '--admin-key', wrongKey]);
      assert.equal(json.code, 4);
      assert.equal((parse(json)['error'] as { exitCode: number }).exitCode, 4);
    });

    it('a missing, empty or binary batch file is a usage error (exit 2) that echoes no binary', async () => {
      await fs.writeFile(path.join(work, 'empty.csv'), '');
      await fs.writeFile(path.join(work, 'blank.csv'), '\uFEFF \r\n\n');
      await fs.writeFile(
        path.join(work, 'image.csv'),
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x1b, 0x5b, 0x32, 0x4a, 0x07]),
      );
      for (const [file, words] of [
        ['missing.csv', /Cannot read missing\.csv/],
        ['empty.csv', /empty\.csv is empty/],
        ['blank.csv', /blank\.csv is empty/],
        ['image.csv', /image\.csv is not a text file/],
        ['.', /Cannot read \./],
      ] as const) {
        const result = await cli(['batch', 'upload', file]);
        assert.equal(result.code, 2, `${file}: ${result.stderr}`);
        assert.match(result.stderr, words);
        // eslint-disable-next-line no-control-regex
        assert.doesNotMatch(result.stderr, /[\x00-\x08\x0b-\x1f\x7f]/, 'no control characters');
      }
    });
  });

  it('4. "The previous token no longer works." only when there was one', async () => {
    assert.equal((await cli(['token', 'revoke', '--yes'])).code, 0);
    const first = await cli(['token', 'generate', '--yes']);
    assert.equal(first.code, 0, first.stderr);
    assert.doesNotMatch(first.stdout, /previous token/i);
    const second = await cli(['token', 'generate', '--yes']);
    assert.match(second.stdout, /The previous token no longer works\./);
  });
});
