/** API.md 2.1: a 500,000-row batch on SQLite, while other requests keep being answered. */
import { strict as assert } from 'node:assert';
import { CLIENT, generateToken, startApp, tempSqliteStore, valuesOf, type TestApp } from './helpers';

const ROWS = 500_000;
const ATTRIBUTES = 10;

/** The form body, built in memory: `batch=thirdPartyId,a0..a9` then one short row per profile. */
function bigBody(): Buffer {
  const names = Array.from({ length: ATTRIBUTES }, (_, i) => `a${i}`);
  const lines = [`batch=thirdPartyId,${names.join(',')}`];
  for (let row = 0; row < ROWS; row++) {
    const cells = [`big${row}`];
    for (let a = 0; a < ATTRIBUTES; a++) cells.push(`v${(row + a) % 97}`);
    lines.push(cells.join(','));
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

describe('a 500,000-row batch on a SqliteStore (API.md 2.1)', function () {
  // A hang guard, not a speed check: a loaded 2-core machine takes several times longer than an idle one.
  this.timeout(600_000);
  let t: TestApp;
  let dispose: () => Promise<void>;

  before(async () => {
    const temp = tempSqliteStore();
    dispose = temp.dispose;
    t = await startApp({ store: temp.store, requireAuth: true });
  });
  after(async () => {
    await t.close();
    await dispose();
  });

  it('is applied completely while a fetch of another profile is still answered', async () => {
    const token = await generateToken(t);
    const auth = { Authorization: `Bearer ${token}` };
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'thirdPartyId', id: 'bystander' }, attributes: { tier: 'gold' } },
      { createMissing: true, now: Date.now() },
    );
    const body = bigBody();
    assert.ok(body.length < 50 * 1024 * 1024);

    const submitted = await fetch(`${t.origin}/m2/${CLIENT}/v2/profile/batchUpdate`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body,
    });
    assert.equal(submitted.status, 200, await submitted.clone().text());
    const { batchStatus } = (await submitted.json()) as { batchStatus: string };

    const readStatus = async () => {
      const res = await fetch(`${batchStatus}&showDetails=true`, { headers: { ...auth, Accept: 'application/json' } });
      assert.equal(res.status, 200);
      return (await res.json()) as Record<string, unknown>;
    };

    let status = await readStatus();
    assert.equal(
      status['status'],
      'incomplete',
      'a 500,000-row batch is still being applied right after it is accepted',
    );
    assert.equal(status['batchSize'], ROWS);
    // Whether fetches are answered while the batch is applied is checked here; how fast they
    // are is a benchmark's question (bench/ingest.mjs), not a test's.
    let answeredDuring = 0;
    let slowest = 0;
    while (status['status'] === 'incomplete') {
      const started = Date.now();
      const res = await fetch(`${t.origin}/rest/v1/profiles/thirdPartyId/bystander?client=${CLIENT}`, {
        headers: auth,
      });
      const took = Date.now() - started;
      assert.equal(res.status, 200);
      assert.deepEqual(valuesOf((await res.json()) as never), { tier: 'gold' });
      slowest = Math.max(slowest, took);
      status = await readStatus();
      if (status['status'] === 'incomplete') answeredDuring++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(answeredDuring >= 1, 'at least one fetch was answered while the batch was incomplete');
    console.log(`      (${answeredDuring} fetches answered during the batch; slowest ${slowest} ms)`);

    assert.equal(status['status'], 'complete');
    assert.equal(status['batchSize'], ROWS);
    assert.equal(status['consumedCount'], ROWS);
    assert.equal(status['successfulUpdates'], ROWS);
    assert.equal(status['failedUpdates'], 0);
    assert.equal(status['profilesNotFound'], 0);
    for (const row of [0, 250_000, ROWS - 1]) {
      const res = await fetch(`${t.origin}/rest/v1/profiles/thirdPartyId/big${row}?client=${CLIENT}`, {
        headers: auth,
      });
      assert.equal(res.status, 200);
      const values = valuesOf((await res.json()) as never);
      assert.equal(Object.keys(values).length, ATTRIBUTES);
      assert.equal(values['a9'], `v${(row + 9) % 97}`);
    }
  });
});
