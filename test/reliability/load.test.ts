/**
 * Reliability, load (issue 8): autocannon, from its own process, against the demo server child
 * on loopback, with Require Authentication on: profile fetches, single updates and small batches
 * for a few seconds (30 s in the long run). Zero errors, zero timeouts, zero statuses other than
 * 200, every accepted batch applied, and the server's resident memory at the end within a bound
 * of what it was after the warm-up.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReadOnly } from './support/db';
import { Admin, json, rssOf, send, sleep, startDemo, waitForBatch, type DemoChild } from './support/demo';
import { LONG, SIZES } from './support/mode';
import { tally } from './support/summary';

const section = tally('load', __filename);
const CLIENT = 'demo';
const DRIVER = join(__dirname, 'support', 'load-driver.js');
const MB = 1024 * 1024;
const CONNECTIONS = 8;

interface DriverResult {
  total: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
  statuses: Record<string, Record<string, number>>;
}

/** Runs the driver process; resolves with its JSON line. */
function drive(options: object): Promise<DriverResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DRIVER, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`load driver exited ${code}: ${err.slice(-500)}`));
      else resolve(JSON.parse(line) as DriverResult);
    });
  });
}

describe(`reliability: load (autocannon, ${SIZES.loadSeconds} s, loopback)`, function () {
  this.timeout(LONG ? 300_000 : 120_000);
  const root = mkdtempSync(join(tmpdir(), 'profilegate-load-'));
  const dataDir = join(root, 'data');
  let server: DemoChild;

  before(async () => {
    mkdirSync(join(root, 'tmp'));
    server = await startDemo({ dataDir, env: { TMPDIR: join(root, 'tmp') } });
  });
  after(async () => {
    const code = await server?.stop();
    rmSync(root, { recursive: true, force: true });
    assert.equal(code, 0, 'the server stops cleanly after the load');
  });

  it('fetches, single updates and small batches: no error, only 200s, every batch applied, memory stable', async () => {
    const token = await new Admin(server.url).generate(CLIENT);
    const auth = { Authorization: `Bearer ${token}` };
    const seeded = await send(`${server.url}/m2/${CLIENT}/v2/profile/batchUpdate`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'text/csv', Accept: 'application/json' },
      body: 'thirdPartyId,k\nload,0\n',
    });
    await waitForBatch(json<{ batchStatus: string }>(seeded).batchStatus, auth);
    const pcId = json<{ visitorId: string }>(
      await send(`${server.url}/rest/v1/profiles/thirdPartyId/load?client=${CLIENT}`, { headers: auth }),
    ).visitorId;

    const samples: Array<[number, number]> = [];
    const started = Date.now();
    const sampler = setInterval(() => {
      const rss = rssOf(server.pid);
      if (rss !== null) samples.push([Date.now() - started, rss]);
    }, 250);
    let result: DriverResult;
    try {
      result = await drive({
        url: server.url,
        token,
        client: CLIENT,
        pcId,
        seconds: SIZES.loadSeconds,
        connections: 8,
      });
    } finally {
      clearInterval(sampler);
    }

    const cases = section.cases();
    section.add(result.total - result.errors - result.timeouts - result.non2xx, 0);
    section.add(result.errors + result.timeouts + result.non2xx, result.errors + result.timeouts + result.non2xx);
    section.note(`${result.total} requests in ${SIZES.loadSeconds} s: ${JSON.stringify(result.statuses)}`);
    await cases.run('no errors, no timeouts, only 200s', () => {
      assert.deepEqual([result.errors, result.timeouts, result.non2xx], [0, 0, 0], JSON.stringify(result));
      assert.deepEqual(Object.keys(result.statusCodeStats), ['200'], JSON.stringify(result.statusCodeStats));
      for (const kind of ['fetch', 'update', 'batch'])
        assert.ok(result.statuses[kind]?.['200'], `some ${kind} answered`);
    });

    await cases.run('every accepted batch is applied (nothing lost, nothing stuck)', async () => {
      const accepted = (result.statuses['batch']?.['200'] ?? 0) + 1; // and the seed
      const db = openReadOnly(join(dataDir, 'profiles.db'));
      try {
        const count = () =>
          db.prepare('SELECT status, count(*) AS n FROM batches GROUP BY status').all() as Array<{
            status: string;
            n: number;
          }>;
        const deadline = Date.now() + 120_000;
        while (count().some((r) => r.status === 'incomplete') && Date.now() < deadline) await sleep(100);
        const statuses = count();
        assert.deepEqual(
          statuses.map((r) => r.status),
          ['complete'],
          JSON.stringify(statuses),
        );
        // Batches still in flight when autocannon stopped were applied too, unseen by it.
        const complete = statuses[0]!.n;
        assert.ok(
          complete >= accepted && complete <= accepted + CONNECTIONS,
          `${complete} applied, ${accepted} accepted`,
        );
      } finally {
        db.close();
      }
    });

    await cases.run('resident memory at the end within a bound of the warmed-up one', () => {
      if (samples.length === 0) return; // no /proc: nothing to compare (not Linux)
      const warmUpMs = Math.max(1000, SIZES.loadSeconds * 200);
      const warm = samples.find(([at]) => at >= warmUpMs)?.[1] ?? samples[0]![1];
      const end = samples[samples.length - 1]![1];
      const peak = Math.max(...samples.map(([, rss]) => rss));
      section.note(
        `server RSS: ${Math.round(warm / MB)} MB after warm-up, ${Math.round(end / MB)} MB at the end, peak ${Math.round(peak / MB)} MB`,
      );
      const bound = warm + Math.max(64 * MB, warm / 2);
      assert.ok(end <= bound, `RSS grew from ${Math.round(warm / MB)} MB to ${Math.round(end / MB)} MB`);
    });
    await cases.run('the server logged no unexpected error', () =>
      assert.doesNotMatch(server.output(), /Unexpected error|could not be applied/),
    );
    cases.done();
  });
});
