import assert from 'node:assert/strict';
import { PostgresStore } from '../src/store/postgres';
import { LISTEN_APPLICATION_NAME } from '../src/store/postgres-listener';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres-schema';
import type { BatchRow, StoreChange } from '../src/store/types';
import {
  NOW,
  URL,
  adminQuery,
  chunks,
  dropSchemas,
  newSchema,
  requirePostgres,
  row,
  tokenRecord,
  until,
} from './postgres-harness';
import { describeStoreConformance } from './store-conformance';

describe('PostgresStore', function () {
  this.timeout(30_000);

  before(requirePostgres);

  describeStoreConformance('PostgresStore', {
    create: () => PostgresStore.open(URL, { schema: newSchema() }),
    reopen: async (store) => {
      await store.close();
      return PostgresStore.open(URL, { schema: (store as PostgresStore).schema });
    },
    cleanup: dropSchemas,
  });

  describe('PostgresStore specifics', () => {
    const open: PostgresStore[] = [];
    async function openStore(schema: string): Promise<PostgresStore> {
      const store = await PostgresStore.open(URL, { schema });
      open.push(store);
      return store;
    }
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });
    after(dropSchemas);

    it('runs migrations once when five instances start at once on a fresh schema', async () => {
      const schema = newSchema();
      const stores = await Promise.all(Array.from({ length: 5 }, () => openStore(schema)));
      assert.equal(stores.length, 5);
      const versions = await adminQuery<{ version: number }>(
        `SELECT version FROM "${schema}".profilegate_migrations ORDER BY version`,
      );
      assert.deepEqual(
        versions.map((v) => v.version),
        POSTGRES_MIGRATIONS.map((_, i) => i + 1),
      );
    });

    it('refuses a schema from a newer Profilegate', async () => {
      const schema = newSchema();
      await (await openStore(schema)).close();
      await adminQuery(`INSERT INTO "${schema}".profilegate_migrations (version) VALUES ($1)`, [
        POSTGRES_MIGRATIONS.length + 1,
      ]);
      await assert.rejects(PostgresStore.open(URL, { schema }), /newer than this Profilegate/);
    });

    it('refuses a schema name that would need quoting', async () => {
      await assert.rejects(PostgresStore.open(URL, { schema: 'a"; DROP TABLE x; --' }), /schema name/);
    });

    it('refuses work after close with a clear error', async () => {
      const store = await PostgresStore.open(URL, { schema: newSchema() });
      await store.close();
      await assert.rejects(store.putSettings('acme', { requireAuthentication: false }), /closed/);
    });

    it('tells another instance about a change within one second', async () => {
      const schema = newSchema();
      const [a, b] = [await openStore(schema), await openStore(schema)];
      const seen: StoreChange[] = [];
      b.onChange((c) => seen.push(c));
      await a.replaceToken('acme', tokenRecord('t1'), null, NOW);
      const took = await until('the token change on B', () => seen.some((c) => c.kind === 'token'), 1000);
      assert.ok(took < 1000);
      await a.putSettings('acme', { requireAuthentication: false });
      await until('the settings change on B', () => seen.some((c) => c.kind === 'settings'), 1000);
      assert.deepEqual(seen, [
        { client: 'acme', kind: 'token' },
        { client: 'acme', kind: 'settings' },
      ]);
      assert.equal((await b.getTokenState('acme')).current?.jti, 't1');
    });

    it('does not hear instances on another schema', async () => {
      const a = await openStore(newSchema());
      const b = await openStore(newSchema());
      const seen: StoreChange[] = [];
      b.onChange((c) => seen.push(c));
      await a.replaceToken('acme', tokenRecord('t1'), null, NOW);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(seen, []);
    });

    it('leaves exactly one current token after 20 concurrent replacements over two instances', async () => {
      const schema = newSchema();
      const [a, b] = [await openStore(schema), await openStore(schema)];
      await a.replaceToken('acme', tokenRecord('t-first'), null, NOW);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).replaceToken('acme', tokenRecord(`t${i}`), null, NOW)),
      );
      const state = await a.getTokenState('acme');
      assert.ok(state.current);
      assert.deepEqual(state.graced, []);
      assert.deepEqual(await b.getTokenState('acme'), state);
      // Serialised: exactly one replacement saw none of the others after it.
      assert.equal(results.filter((r) => r.current?.jti === state.current!.jti).length, 1);
    });

    it('loses no attribute when two instances update one profile concurrently', async () => {
      const schema = newSchema();
      const [a, b] = [await openStore(schema), await openStore(schema)];
      await a.updateProfile('acme', row('pcId', 'p1', { seed: '1' }), { createMissing: true, now: NOW });
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 50; i++) {
        writes.push(a.updateProfile('acme', row('pcId', 'p1', { [`a${i}`]: 'x' }), { createMissing: false, now: NOW }));
        writes.push(b.updateProfile('acme', row('pcId', 'p1', { [`b${i}`]: 'y' }), { createMissing: false, now: NOW }));
      }
      await Promise.all(writes);
      const profile = await b.getProfile('acme', { kind: 'pcId', id: 'p1' });
      assert.equal(Object.keys(profile!.attributes).length, 101);
    });

    it('creates one profile when two instances create the same thirdPartyId at once', async () => {
      const schema = newSchema();
      const [a, b] = [await openStore(schema), await openStore(schema)];
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? a : b).updateProfile('acme', row('thirdPartyId', 'u1', { [`n${i}`]: 'v' }), {
            createMissing: true,
            now: NOW,
          }),
        ),
      );
      assert.ok(outcomes.every((o) => o.status === 'updated'));
      const profile = await a.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' });
      assert.equal(Object.keys(profile!.attributes).length, 10);
      const count = await adminQuery<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".profiles`);
      assert.equal(count[0]!.n, '1');
    });

    it('applies two overlapping v2 batches from two instances at once without losing rows', async () => {
      const schema = newSchema();
      // Small SQL chunks, so A's first chunk is written (uncommitted) while its batch is still open.
      const a = await PostgresStore.open(URL, { schema, batchChunkRows: 100 });
      open.push(a);
      const b = await openStore(schema);
      const ids = Array.from({ length: 300 }, (_, i) => `u${i}`);
      const rowsOf = (attribute: string) => ids.map((id) => row('thirdPartyId', id, { [attribute]: 'v' }));
      const newBatch = { version: 'v2' as const, batchSize: 300, parseFailures: [], parseFailedCount: 0, now: NOW };
      const [ba, bb] = [
        await a.createBatch({ client: 'acme', ...newBatch }),
        await b.createBatch({ client: 'acme', ...newBatch }),
      ];
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let firstChunkWritten!: () => void;
      const written = new Promise<void>((resolve) => (firstChunkWritten = resolve));
      async function* slowA(): AsyncIterable<BatchRow[]> {
        const rows = rowsOf('fromA');
        yield rows.slice(0, 100);
        yield rows.slice(100, 101); // asked for only after the first 100 rows were written
        firstChunkWritten();
        await gate;
        yield rows.slice(101);
      }
      const applyingA = a.applyBatch('acme', ba.batchId, slowA, { createMissing: true, now: NOW });
      await written;
      // B creates the same thirdPartyIds: its INSERT waits on A's uncommitted rows, then must retry as updates.
      const applyingB = b.applyBatch('acme', bb.batchId, chunks(rowsOf('fromB'), 100), {
        createMissing: true,
        now: NOW,
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      release();
      const done = await Promise.all([applyingA, applyingB]);
      assert.deepEqual(
        done.map((d) => d.successfulUpdates),
        [300, 300],
      );
      const count = await adminQuery<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".profiles`);
      assert.equal(count[0]!.n, '300');
      for (const id of ['u7', 'u150']) {
        const profile = await b.getProfile('acme', { kind: 'thirdPartyId', id });
        assert.deepEqual(Object.keys(profile!.attributes).sort(), ['fromA', 'fromB']);
      }
    });

    it('reconnects a killed LISTEN connection and hears later changes', async () => {
      const schema = newSchema();
      const [a, b] = [await openStore(schema), await openStore(schema)];
      await b.getTokenState('acme');
      const seen: StoreChange[] = [];
      b.onChange((c) => seen.push(c));
      const pid = b.listenerBackendPid();
      assert.ok(pid !== null && b.listenerConnected());
      const killed = await adminQuery<{ ok: boolean }>(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE pid = $1 AND application_name = $2',
        [pid, LISTEN_APPLICATION_NAME],
      );
      assert.deepEqual(killed, [{ ok: true }]);
      await until(
        'B to notice the lost connection',
        () => !b.listenerConnected() || b.listenerBackendPid() !== pid,
        2000,
      );
      await until('B to listen again', () => b.listenerConnected() && b.listenerBackendPid() !== pid, 5000);
      // Changes made while B was deaf are unknown: B tells its subscribers to reread what it had seen.
      assert.deepEqual(seen, [
        { client: 'acme', kind: 'token' },
        { client: 'acme', kind: 'settings' },
      ]);
      seen.length = 0;
      await a.replaceToken('acme', tokenRecord('t-after'), null, NOW);
      await until('the change on B after the reconnect', () => seen.length > 0, 2000);
      assert.deepEqual(seen, [{ client: 'acme', kind: 'token' }]);
    });

    it('tells another instance that the recorded signing keys changed, once per change', async () => {
      const schema = newSchema();
      const [a, b] = [await openStore(schema), await openStore(schema)];
      let heardOnA = 0;
      let heardOnB = 0;
      a.onSigningKeysChange(() => heardOnA++);
      b.onSigningKeysChange(() => heardOnB++);
      const register = () => ({ by: 'a/1', register: [{ kid: 'kid-aaaa', fingerprint: 'fp' }], retire: [] });
      await a.syncSigningKeys(register, NOW);
      await until('the signing key change on B', () => heardOnB === 1, 5000);
      assert.deepEqual(
        (await b.listSigningKeys()).map((r) => r.kid),
        ['kid-aaaa'],
      );
      await a.syncSigningKeys(register, NOW); // changes nothing: announces nothing
      await a.syncSigningKeys(() => ({ by: 'a/1', register: [], retire: ['kid-aaaa'] }), NOW + 1);
      await until('the retirement on B', () => heardOnB === 2, 5000);
      assert.equal(heardOnA, 2, 'A hears its own changes once, locally');
    });

    it('serializes the signing key syncs of instances starting at once', async () => {
      const schema = newSchema();
      const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(schema)));
      const results = await Promise.allSettled(
        stores.map((store, i) =>
          store.syncSigningKeys((recorded) => {
            if (recorded.length > 0) throw new Error('another instance registered its key first');
            return { by: `s/${i}`, register: [{ kid: `kid-${i}-aaaa`, fingerprint: 'fp' }], retire: [] };
          }, NOW),
        ),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.equal((await stores[0]!.listSigningKeys()).length, 1);
    });
  });
});
