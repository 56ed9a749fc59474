import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { demoModules, runCli, type CliResult } from './helpers';

/**
 * Text a hostile file or server chooses: OSC (retitle the terminal, ended by BEL), CSI (clear the
 * screen, colours), an 8-bit CSI, DEL, NUL, a Trojan-Source bidi override and isolate, a zero-width
 * space, a BOM, a line separator, and a line break followed by text posing as a line of our own.
 */
const HOSTILE =
  '\u001b]0;pwned\u0007\u001b[2J\u001b[31mred\u009b31m\u007f\u0000\u202eevil\u2066x\u2069\u200b\ufeff\u2028\r\nFAKE LINE';

/**
 * What must never reach the terminal from data: C0 controls other than the line feeds the CLI
 * writes itself, DEL, C1 controls, bidi controls and other invisible format characters.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
const FORBIDDEN = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u;

function assertClean(result: CliResult, what: string): void {
  for (const [name, text] of [
    ['stdout', result.stdout],
    ['stderr', result.stderr],
  ] as const) {
    const found = FORBIDDEN.exec(text);
    assert.equal(
      found,
      null,
      `${what}: ${name} holds U+${found?.[0].codePointAt(0)?.toString(16).padStart(4, '0')}: ${JSON.stringify(text)}`,
    );
    for (const line of text.split('\n')) {
      assert.ok(!line.startsWith('FAKE LINE'), `${what}: ${name} lets the data start a line of its own`);
    }
  }
}

function parse(result: CliResult): Record<string, unknown> {
  try {
    return JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    assert.fail(`stdout is not JSON (exit ${result.code}): ${result.stdout}\nstderr: ${result.stderr}`);
  }
}

describe('the CLI never prints a control character from data', function () {
  this.timeout(60_000);
  let tmp: string;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pg-cli-hostile-'));
  });

  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  describe('against a server that answers hostile text everywhere', () => {
    let server: Server;
    let env: NodeJS.ProcessEnv;
    let batchOutcome: 'failed' | 'stuck' = 'failed';
    const token = {
      accessToken: `eyJ${HOSTILE}`,
      tokenType: 'bearer',
      scope: 'profile_api',
      expiresIn: 3600,
      expiresAt: `2030-01-01T00:00:00Z${HOSTILE}`,
      createdAt: `2029-01-01T00:00:00Z${HOSTILE}`,
      createdBy: `admin${HOSTILE}`,
    };
    const settings = {
      requireAuthentication: true,
      token: { createdAt: token.createdAt, expiresAt: token.expiresAt, createdBy: token.createdBy },
    };
    const audit = [
      { at: `now${HOSTILE}`, actor: `ops${HOSTILE}`, action: `token.generated${HOSTILE}`, details: { why: HOSTILE } },
    ];
    const batchId = `batch-${HOSTILE}`;
    const failedStatus = {
      batchId,
      status: 'complete',
      batchSize: 3,
      consumedCount: 3,
      successfulUpdates: 1,
      failedUpdates: 2,
      profilesNotFound: 0,
      profiles: [
        { id: `row${HOSTILE}`, status: 'failed', message: `message${HOSTILE}` },
        { id: '\u001b[1A\u001b[2K\u009d0;title\u009c', status: 'failed', message: '\u001bc' },
      ],
    };
    const stuckStatus = { batchId, status: 'stuck', batchSize: 3, message: `stuck${HOSTILE}` };

    before(async () => {
      server = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          const url = req.url ?? '';
          const send = (status: number, body: unknown) => {
            res.writeHead(status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(body));
          };
          if (url.endsWith('/token?authorizationScope=profile_api') && req.method === 'DELETE') {
            send(409, { errors: [{ errorCode: `Conflict${HOSTILE}`, message: `refused${HOSTILE}` }] });
          } else if (url.includes('/target/authentication/token')) send(200, token);
          else if (url.includes('/target/authentication/settings')) send(200, settings);
          else if (url.includes('/target/authentication/audit')) send(200, { events: audit });
          else if (url.includes('/batchUpdate')) {
            send(200, { success: true, batchId, batchStatus: `queued${HOSTILE}`, message: `accepted${HOSTILE}` });
          } else if (url.includes('/batchStatus')) send(200, batchOutcome === 'stuck' ? stuckStatus : failedStatus);
          else send(404, { message: `no route${HOSTILE}` });
        });
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      const { port } = server.address() as AddressInfo;
      env = {
        PROFILEGATE_SERVER: `http://127.0.0.1:${port}`,
        PROFILEGATE_CLIENT: 'demo',
        PROFILEGATE_ADMIN_KEY: 'hostile-test-admin-key-0123456789',
      };
      await fs.writeFile(path.join(tmp, 'rows.csv'), 'thirdPartyId,tier\nu1,gold\n');
    });

    after(async () => {
      await new Promise<void>((done) => server.close(() => done()));
    });

    // The batch commands go without the admin key: with it they would send the (hostile) token.
    const cli = (args: string[]) =>
      runCli(args, {
        env: args[0] === 'batch' ? { ...env, PROFILEGATE_ADMIN_KEY: undefined } : env,
        cwd: tmp,
      });

    it('shows ids, messages, batch ids, token times, createdBy and audit entries escaped, in text and --json', async () => {
      const cases: Array<{ args: string[]; code: number; json: (body: Record<string, unknown>) => void }> = [
        {
          args: ['token', 'show'],
          code: 0,
          json: (b) => assert.equal((b['token'] as typeof token).createdBy, token.createdBy),
        },
        {
          args: ['token', 'generate', '--yes'],
          code: 0,
          json: (b) => assert.equal((b['token'] as typeof token).expiresAt, token.expiresAt),
        },
        {
          args: ['token', 'show', '--reveal'],
          code: 0,
          json: (b) => assert.equal((b['token'] as typeof token).accessToken, token.accessToken),
        },
        { args: ['settings', 'show'], code: 0, json: (b) => assert.deepEqual(b['token'], settings.token) },
        {
          args: ['settings', 'set', '--require-auth', 'on'],
          code: 0,
          json: (b) => assert.deepEqual(b['token'], settings.token),
        },
        { args: ['audit'], code: 0, json: (b) => assert.deepEqual(b['events'], audit) },
        { args: ['batch', 'upload', 'rows.csv'], code: 0, json: (b) => assert.equal(b['batchId'], batchId) },
        {
          args: ['batch', 'upload', 'rows.csv', '--wait'],
          code: 1,
          json: (b) => assert.deepEqual(b['profiles'], failedStatus.profiles),
        },
        {
          args: ['token', 'revoke', '--yes'],
          code: 1,
          json: (b) => assert.equal((b['error'] as { message: string }).message, `refused${HOSTILE}`),
        },
      ];
      for (const { args, code, json } of cases) {
        const text = await cli(args);
        assert.equal(text.code, code, `${args.join(' ')}: ${text.stdout}${text.stderr}`);
        assertClean(text, args.join(' '));
        const asJson = await cli([...args, '--json']);
        assert.equal(asJson.code, code, `${args.join(' ')} --json: ${asJson.stdout}${asJson.stderr}`);
        assertClean(asJson, `${args.join(' ')} --json`);
        // Escaped for the terminal, yet the same values once parsed.
        json(parse(asJson));
      }

      // The failed rows are still named, in a form a human can read.
      const failed = await cli(['batch', 'upload', 'rows.csv', '--wait']);
      assert.ok(failed.stderr.includes('row\\x1b]0;pwned\\x07\\x1b[2J'), failed.stderr);
      assert.ok(failed.stderr.includes('\\u202eevil\\u2066x\\u2069'), failed.stderr);
      assert.ok(failed.stderr.includes('\\r\\nFAKE LINE'), failed.stderr);
    });

    it('shows the message of a stuck batch escaped', async () => {
      batchOutcome = 'stuck';
      try {
        for (const extra of [[], ['--json']]) {
          const result = await cli(['batch', 'upload', 'rows.csv', '--wait', ...extra]);
          assert.equal(result.code, 1, result.stdout + result.stderr);
          assertClean(result, `stuck ${extra.join(' ')}`);
          if (extra.length > 0) assert.equal(parse(result)['message'], stuckStatus.message);
          else assert.match(result.stderr, /could not be applied: stuck\\x1b\]0;pwned\\x07/);
        }
      } finally {
        batchOutcome = 'failed';
      }
    });
  });

  describe('against the demo server', () => {
    let env: NodeJS.ProcessEnv;
    let close: () => Promise<void>;
    const ADMIN_KEY = 'cli-hostile-admin-key-0123456789';

    before(async () => {
      const { server, config } = demoModules();
      const demo = await server.startDemoServer(
        config.loadDemoConfig(
          { PORT: '0', PROFILEGATE_DATA: path.join(tmp, 'data'), PROFILEGATE_ADMIN_KEYS: `${ADMIN_KEY}:admin:ops` },
          tmp,
        ),
        { log() {} },
      );
      close = () => demo.close();
      env = { PROFILEGATE_SERVER: demo.url, PROFILEGATE_CLIENT: 'demo', PROFILEGATE_ADMIN_KEY: ADMIN_KEY };
      // Require Authentication is on: the upload needs a token, which the CLI reads with the admin key.
      const generated = await runCli(['token', 'generate', '--yes'], { env, cwd: tmp });
      assert.equal(generated.code, 0, generated.stderr);
    });

    after(async () => {
      await close?.();
    });

    it('batch upload --wait names failed rows whose ids hold ESC, BEL, CSI, OSC and bidi sequences escaped', async () => {
      // A "+" makes each id fail validation; the rest is what a hostile file puts in it.
      const ids = [
        '\u001b]0;pwned\u0007+a',
        '\u001b[2J\u001b[H+b',
        '\u009b31m+c',
        'x\u202eevil\u2066+d',
        '\u0007\u007f+e',
      ];
      const csv = `thirdPartyId,tier\nok1,gold\n${ids.map((id) => `"${id}",silver`).join('\n')}\n`;
      await fs.writeFile(path.join(tmp, 'hostile.csv'), csv);
      const result = await runCli(['batch', 'upload', 'hostile.csv', '--wait'], { env, cwd: tmp });
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assertClean(result, 'batch upload --wait');
      assert.match(result.stdout, /1 of 6 rows applied, 5 failed/);
      assert.ok(result.stderr.includes('\\x1b]0;pwned\\x07+a'), result.stderr);
      assert.ok(result.stderr.includes('x\\u202eevil\\u2066+d'), result.stderr);

      const json = await runCli(['batch', 'upload', 'hostile.csv', '--wait', '--json'], { env, cwd: tmp });
      assert.equal(json.code, 1);
      assertClean(json, 'batch upload --wait --json');
      const body = parse(json) as { profiles: Array<{ id: string }> };
      assert.deepEqual(
        body.profiles.map((p) => p.id),
        ids,
      );
    });

    it('token generate --update shows the names of changed files escaped', async () => {
      const shown = await runCli(['token', 'generate', '--json', '--reveal', '--yes'], { env, cwd: tmp });
      assert.equal(shown.code, 0, shown.stderr);
      const old = (parse(shown)['token'] as { accessToken: string }).accessToken;
      const dir = path.join(tmp, 'files');
      await fs.mkdir(dir);
      await fs.writeFile(path.join(dir, '\u001b]0;pwned\u0007\u202e.env'), `TOKEN=${old}\n`);
      const result = await runCli(['token', 'generate', '--update', 'files', '--yes'], { env, cwd: tmp });
      assert.equal(result.code, 0, result.stderr);
      assertClean(result, 'token generate --update');
      assert.ok(result.stdout.includes('\\x1b]0;pwned\\x07\\u202e.env: 1'), result.stdout);
    });
  });
});
