import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { demoModules, runCli, type CliResult } from './helpers';

const ADMIN_KEY = 'cli-test-admin-key-0123456789';
const EDITOR_KEY = 'cli-test-editor-key-0123456789';

function parse(result: CliResult): Record<string, unknown> {
  try {
    return JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    assert.fail(`stdout is not JSON (exit ${result.code}): ${result.stdout}\nstderr: ${result.stderr}`);
  }
}

describe('profilegate profile get|delete|export against the demo server', function () {
  this.timeout(60_000);
  let tmp: string;
  let work: string;
  let url: string;
  let close: () => Promise<void>;
  let env: NodeJS.ProcessEnv;

  const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    runCli(args, { env: { ...env, ...extraEnv }, cwd: work });

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pg-cli-profile-'));
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
    assert.equal((await cli(['token', 'generate', '--yes'])).code, 0);
    const csv = 'thirdPartyId,tier,note\r\nu1,gold,"a, ""b""\r\nc"\r\nu2,silver,\u001b[31mred\r\nu3,bronze,\r\n';
    await fs.writeFile(path.join(work, 'seed.csv'), csv);
    const seeded = await cli(['batch', 'upload', 'seed.csv', '--wait']);
    assert.equal(seeded.code, 0, seeded.stderr + seeded.stdout);
  });

  after(async () => {
    await close?.();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('profile get --third-party-id prints the profile, control characters escaped; --json the fetch answer', async () => {
    const human = await cli(['profile', 'get', 'u2', '--third-party-id']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /thirdPartyId: u2/);
    assert.match(human.stdout, /tier = silver/);
    assert.ok(!human.stdout.includes('\u001b'), 'no raw escape character reaches the terminal');
    const json = await cli(['profile', 'get', 'u1', '--third-party-id', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const body = parse(json) as { visitorId: string; profileAttributes: Record<string, { value: string }> };
    assert.equal(body.profileAttributes['note']!.value, 'a, "b"\r\nc');
    const byPcId = await cli(['profile', 'get', body.visitorId, '--json']);
    assert.deepEqual(parse(byPcId), body);
  });

  it('profile get of an unknown profile exits 1 with the server’s message', async () => {
    const result = await cli(['profile', 'get', 'nobody', '--third-party-id']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /nobody/);
  });

  it('profile delete needs --yes when not on a terminal (exit 2, nothing deleted), then deletes', async () => {
    const refused = await cli(['profile', 'delete', 'u3', '--third-party-id']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /--yes/);
    assert.equal((await cli(['profile', 'get', 'u3', '--third-party-id'])).code, 0);
    const deleted = await cli(['profile', 'delete', 'u3', '--third-party-id', '--yes', '--json']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(parse(deleted), { client: 'demo', kind: 'thirdPartyId', deleted: ['u3'] });
    assert.equal((await cli(['profile', 'get', 'u3', '--third-party-id'])).code, 1);
    assert.equal((await cli(['profile', 'delete', 'u3', '--third-party-id', '--yes'])).code, 1);
  });

  it('profile export --format csv writes what the server sends to --output, counting rows and bytes', async () => {
    const result = await cli(['profile', 'export', '--format', 'csv', '--key', 'thirdPartyId', '--output', 'out.csv']);
    assert.equal(result.code, 0, result.stderr);
    const written = await fs.readFile(path.join(work, 'out.csv'), 'utf8');
    const served = await (
      await fetch(`${url}/demo/target/profiles/export?format=csv&key=thirdPartyId`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      })
    ).text();
    assert.equal(written, served);
    assert.match(written, /^thirdPartyId,note,tier\r\n/);
    assert.match(result.stdout, /Exported 2 profiles/);
    const json = await cli(['profile', 'export', '--format', 'ndjson', '--output', 'out.ndjson', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const body = parse(json);
    assert.equal(body['rows'], 2);
    assert.equal(body['bytes'], (await fs.stat(path.join(work, 'out.ndjson'))).size);
  });

  it('profile export: a bad --format or no --output is a usage error (2); an editor’s key gets 403 (1), no file', async () => {
    assert.equal((await cli(['profile', 'export', '--format', 'xml', '--output', 'x'])).code, 2);
    assert.equal((await cli(['profile', 'export', '--format', 'csv'])).code, 2);
    const editor = await cli(['profile', 'export', '--format', 'csv', '--output', 'no.csv'], {
      PROFILEGATE_ADMIN_KEY: EDITOR_KEY,
    });
    assert.equal(editor.code, 1);
    assert.match(editor.stderr, /admin role/);
    await assert.rejects(fs.stat(path.join(work, 'no.csv')));
  });

  it('profile export to a folder that does not exist is a usage error (2), before asking the server', async () => {
    const result = await cli(['profile', 'export', '--format', 'csv', '--output', 'missing/dir/out.csv']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /Cannot write missing\/dir\/out\.csv/);
    const audit = await cli(['audit', '--json']);
    const events = (parse(audit)['events'] as Array<{ action: string }>).filter(
      (e) => e.action === 'profiles.exported',
    );
    const before = events.length;
    assert.equal((await cli(['profile', 'export', '--format', 'csv', '--output', 'missing/out.csv'])).code, 2);
    const after = (parse(await cli(['audit', '--json']))['events'] as Array<{ action: string }>).filter(
      (e) => e.action === 'profiles.exported',
    ).length;
    assert.equal(after, before, 'no export was started');
  });

  it('profile export --output naming a folder is a usage error (2), before asking the server', async () => {
    // Before: the whole export was downloaded, then "EISDIR: illegal operation on a directory,
    // rename …" and exit 1.
    await fs.mkdir(path.join(work, 'exports'), { recursive: true });
    const exported = () =>
      cli(['audit', '--json']).then(
        (audit) =>
          (parse(audit)['events'] as Array<{ action: string }>).filter((e) => e.action === 'profiles.exported').length,
      );
    const before = await exported();
    const result = await cli(['profile', 'export', '--format', 'csv', '--output', 'exports']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--output exports is a folder; give a file name, e\.g\. exports\/profiles\.csv/);
    assert.doesNotMatch(result.stderr, /EISDIR/);
    assert.equal(await exported(), before, 'no export was started');
    assert.deepEqual(await fs.readdir(work).then((names) => names.filter((n) => n.endsWith('.partial'))), []);
  });
});
