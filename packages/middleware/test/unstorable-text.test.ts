/**
 * Issue 15.4: NUL, lone surrogates and noncharacters on every profile route get 400 or 404 (a batch
 * row: a failure of that row), never 500, whatever the store: memory, SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PostgresStore, type Store } from '@profilegate/core';
import { Client } from 'pg';
import { CLIENT, rawRequest, runBatch, seedProfiles, startApp, tempSqliteStore, type TestApp } from './helpers';

const PG_URL = process.env['PROFILEGATE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** [label, method, path, form body]: each must be answered 400 or 404. */
const REFUSED: Array<[string, 'GET' | 'POST', string, string?]> = [
  ['fetch pcId %00', 'GET', `/rest/v1/profiles/pc%00?client=${CLIENT}`],
  ['fetch pcId lone surrogate', 'GET', `/rest/v1/profiles/pc%ED%A0%80?client=${CLIENT}`],
  ['fetch pcId noncharacter', 'GET', `/rest/v1/profiles/pc%EF%BF%BE?client=${CLIENT}`],
  ['fetch thirdPartyId %00', 'GET', `/rest/v1/profiles/thirdPartyId/u%00?client=${CLIENT}`],
  ['fetch thirdPartyId lone surrogate', 'GET', `/rest/v1/profiles/thirdPartyId/%ED%B0%80?client=${CLIENT}`],
  ['update mboxPC %00', 'GET', `/m2/${CLIENT}/profile/update?mboxPC=pc-1%00&profile.tier=x`],
  ['update mbox3rdPartyId %00', 'GET', `/m2/${CLIENT}/profile/update?mbox3rdPartyId=u1%00&profile.tier=x`],
  ['update value %00', 'GET', `/m2/${CLIENT}/profile/update?mbox3rdPartyId=u1&profile.tier=a%00b`],
  ['update value U+FFFF', 'GET', `/m2/${CLIENT}/profile/update?mbox3rdPartyId=u1&profile.tier=a%EF%BF%BF`],
  ['update name %00', 'GET', `/m2/${CLIENT}/profile/update?mbox3rdPartyId=u1&profile.t%00=x`],
  ['update POST value %00', 'POST', `/m2/${CLIENT}/profile/update`, 'mbox3rdPartyId=u1&profile.tier=x%00'],
  ['update POST id %00', 'POST', `/m2/${CLIENT}/profile/update`, 'mboxPC=%00&profile.tier=x'],
  ['v2 batchStatus %00', 'GET', `/m2/${CLIENT}/v2/profile/batchStatus?batchId=${CLIENT}-1-1%00`],
  ['v1 batchStatus %00', 'GET', `/m2/${CLIENT}/profile/batchStatus?batchId=%00`],
  ['batchStatus U+FFFE', 'GET', `/m2/${CLIENT}/v2/profile/batchStatus?batchId=%EF%BF%BE&showDetails=true`],
];

/** A store to test, or null to skip (PostgreSQL unreachable outside CI). */
type OpenStore = () => Promise<{ store: Store; dispose(): Promise<void> } | null>;

function describeRoutes(name: string, openStore: OpenStore) {
  describe(`unstorable text on every profile route: ${name}`, function () {
    this.timeout(30_000);
    let t: TestApp;
    let dispose: () => Promise<void>;

    before(async function () {
      const opened = await openStore();
      if (opened === null) this.skip();
      dispose = () => opened.dispose();
      t = await startApp({ store: opened.store });
      await seedProfiles(t.store);
    });
    after(async () => {
      await t?.close();
      await dispose?.();
    });

    for (const [label, method, path, body] of REFUSED) {
      it(`${label}: 400 or 404, never 500`, async () => {
        const res = await rawRequest(t.origin, {
          method,
          path,
          headers: body === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' },
          chunks: body === undefined ? [] : [body],
        });
        assert.ok(res.status === 400 || res.status === 404, `${res.status}: ${res.text.slice(0, 300)}`);
      });
    }

    it('leaves the seeded profiles unchanged', async () => {
      const u1 = await t.store.getProfile(CLIENT, { kind: 'thirdPartyId', id: 'u1' });
      assert.equal(u1?.attributes['tier']?.value, 'silver');
    });

    it('a CSV batch with one NUL row applies the good rows and fails only that row, with its line', async () => {
      const status = await runBatch(t, 'thirdPartyId,tier\nn1,gold\nn\u00002,gold\nn3,a\u0000\nn4,gold\n', {
        type: 'text/csv',
      });
      assert.equal(status['status'], 'complete');
      assert.equal(status['successfulUpdates'], 2);
      assert.equal(status['failedUpdates'], 2);
      const failed = status['profiles'] as Array<{ id: string; status: string; message: string }>;
      assert.deepEqual(
        failed.map((f) => [f.id, f.status, f.message.slice(0, 8)]),
        [
          ['n\uFFFD2', 'failed', 'Line 3: '],
          ['n3', 'failed', 'Line 4: '],
        ],
      );
      assert.equal(
        (await t.store.getProfile(CLIENT, { kind: 'thirdPartyId', id: 'n4' }))?.attributes['tier']?.value,
        'gold',
      );
    });

    it('a JSON batch whose ids differ only by lone surrogates fails those rows instead of merging them', async () => {
      const body = JSON.stringify({
        profiles: [
          { thirdPartyId: 's\ud800', attributes: { tier: 'a' } },
          { thirdPartyId: 's\ud801', attributes: { tier: 'b' } },
          { thirdPartyId: 's1', attributes: { tier: 'c' } },
        ],
      });
      const status = await runBatch(t, body, { type: 'application/json' });
      assert.equal(status['status'], 'complete');
      assert.equal(status['successfulUpdates'], 1);
      assert.deepEqual(
        (status['profiles'] as Array<{ message: string }>).map((f) => f.message.slice(0, 8)),
        ['Line 1: ', 'Line 2: '],
      );
      assert.equal(await t.store.getProfile(CLIENT, { kind: 'thirdPartyId', id: 's\uFFFD' }), null);
    });
  });
}

describeRoutes('MemoryStore', async () => {
  const { MemoryStore } = await import('@profilegate/core');
  return { store: new MemoryStore(), dispose: async () => undefined };
});

describeRoutes('SqliteStore', async () => {
  const { store, dispose } = tempSqliteStore();
  return { store, dispose };
});

describeRoutes('PostgresStore', async () => {
  const schema = `profilegate_test_text_${process.pid}_${randomBytes(4).toString('hex')}`;
  let store: PostgresStore;
  try {
    store = await PostgresStore.open(PG_URL, { schema });
  } catch (error) {
    // CI must run these tests: there an unreachable PostgreSQL fails them instead of skipping.
    if (process.env['CI']) throw new Error(`PostgreSQL unreachable at ${PG_URL} and CI is set: ${String(error)}`);
    console.log(`PostgreSQL unreachable at ${PG_URL}: skipping`);
    return null;
  }
  return {
    store,
    dispose: async () => {
      await store.close();
      const admin = new Client({ connectionString: PG_URL });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
});
