import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sinon from 'sinon';
import * as ids from '../src/profiles/ids';
import { SqliteStore } from '../src/store/sqlite';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite-schema';
import { describeStoreConformance } from './store-conformance';

const root = mkdtempSync(join(tmpdir(), 'profilegate-sqlite-'));
let n = 0;

describeStoreConformance('SqliteStore', {
  create: async () => new SqliteStore(join(root, `store-${++n}.db`)),
  reopen: async (store) => {
    await store.close();
    return new SqliteStore((store as SqliteStore).path);
  },
  cleanup: async () => rmSync(root, { recursive: true, force: true }),
});

const mainThreadRoot = mkdtempSync(join(tmpdir(), 'profilegate-sqlite-main-'));
describeStoreConformance('SqliteStore, batches applied on the main thread', {
  create: async () => new SqliteStore(join(mainThreadRoot, `store-${++n}.db`), { batchWorker: false }),
  cleanup: async () => rmSync(mainThreadRoot, { recursive: true, force: true }),
});

describe('SqliteStore specifics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'profilegate-sqlite-x-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the database file with mode 0600, in WAL mode, at the latest schema version', async () => {
    const path = join(dir, 'mode.db');
    const store = new SqliteStore(path);
    await store.close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
  });

  it('refuses a database from a newer Profilegate', async () => {
    const path = join(dir, 'newer.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SQLITE_MIGRATIONS.length + 1}`);
    db.close();
    assert.throws(() => new SqliteStore(path), /newer than this Profilegate/);
  });

  it('upgrades a database of the first schema version, keeping its data, with the signing key table', async () => {
    const path = join(dir, 'v1.db');
    const db = new Database(path);
    db.exec(SQLITE_MIGRATIONS[0]!);
    db.pragma('user_version = 1');
    db.prepare('INSERT INTO settings (client, require_authentication) VALUES (?, ?)').run('acme', 0);
    db.close();
    const store = new SqliteStore(path);
    try {
      assert.deepEqual(await store.getSettings('acme'), { requireAuthentication: false, profileRetentionDays: null });
      assert.deepEqual(await store.listSigningKeys(), []);
      await store.syncSigningKeys(
        () => ({ by: 'a/1', register: [{ kid: 'kid-aaaa', fingerprint: 'fp' }], retire: [] }),
        1,
      );
      assert.equal((await store.listSigningKeys()).length, 1);
    } finally {
      await store.close();
    }
  });

  it('refuses writes after close with a clear error', async () => {
    const store = new SqliteStore(join(dir, 'closed.db'));
    await store.close();
    await assert.rejects(store.putSettings('acme', { requireAuthentication: false }), /closed/);
  });

  it('finishes close() after a batch applied by its worker, in a process with nothing else to do', () => {
    // The idle batch worker is unref'd; close() posts it `close` and waits for its exit. With no
    // other handle open (a script, a CLI), the process must not end before that promise settles:
    // the code after `await store.close()` runs, and the main thread's connections are closed.
    const script = `
      const { SqliteStore } = require(${JSON.stringify(join(__dirname, '../src/store/sqlite'))});
      (async () => {
        const store = new SqliteStore(${JSON.stringify(join(dir, 'close-after-batch.db'))});
        const batch = await store.createBatch({ client: 'acme', version: 'v2', batchSize: 1, parseFailures: [],
          parseFailedCount: 0, now: 1796304150000 });
        await store.applyBatch('acme', batch.batchId, async function* () {
          yield [{ key: { kind: 'thirdPartyId', id: 'u1' }, attributes: { tier: 'gold' } }];
        }, { createMissing: true, now: 1796304150000 });
        process.stdout.write('applied;');
        await store.close();
        process.stdout.write('closed;');
      })();`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(out, 'applied;closed;');
  });

  it('gives a new profile another pcId when the one drawn is taken, instead of merging two visitors', async () => {
    // A batch creates its profiles in one millisecond; two of them can draw the same pcId. On this
    // thread (batchWorker: false), where the stub is seen; the worker runs the same code.
    const store = new SqliteStore(join(dir, 'clash.db'), { batchWorker: false });
    const draw = sinon.stub(ids, 'newPcId');
    draw.onCall(0).returns('1700000000000-123456.12_0');
    draw.onCall(1).returns('1700000000000-123456.12_0');
    draw.onCall(2).returns('1700000000000-654321.65_0');
    try {
      const batch = await store.createBatch({
        client: 'acme',
        version: 'v2',
        batchSize: 2,
        parseFailures: [],
        parseFailedCount: 0,
        now: 1,
      });
      async function* rows() {
        yield [
          { key: { kind: 'thirdPartyId' as const, id: 'u1' }, attributes: { email: 'one@example.com' } },
          { key: { kind: 'thirdPartyId' as const, id: 'u2' }, attributes: { email: 'two@example.com' } },
        ];
      }
      const done = await store.applyBatch('acme', batch.batchId, rows, { createMissing: true, now: 1700000000000 });
      assert.equal(done.successfulUpdates, 2);
      const u1 = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' });
      const u2 = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u2' });
      assert.equal(u1?.pcId, '1700000000000-123456.12_0');
      assert.equal(u1?.attributes['email']?.value, 'one@example.com');
      assert.equal(u2?.pcId, '1700000000000-654321.65_0');
      assert.equal(u2?.attributes['email']?.value, 'two@example.com');
    } finally {
      draw.restore();
      await store.close();
    }
  });

  it('without the worker, yields to the event loop within a batch, however many rows batchChunkRows allows', async () => {
    const store = new SqliteStore(join(dir, 'slices.db'), {
      batchChunkRows: 1_000_000,
      batchSliceMs: 0,
      batchWorker: false,
    });
    try {
      const batch = await store.createBatch({
        client: 'acme',
        version: 'v2',
        batchSize: 256,
        parseFailures: [],
        parseFailedCount: 0,
        now: 1,
      });
      async function* rows() {
        yield Array.from({ length: 256 }, (_, i) => ({
          key: { kind: 'pcId' as const, id: `p${i}` },
          attributes: { n: String(i) },
        }));
      }
      const applying = store.applyBatch('acme', batch.batchId, rows, { createMissing: true, now: 2 });
      // Without a yield, the whole batch would be applied and committed before this turn of the
      // event loop; with one, a fetch here is answered mid-batch, from the last commit.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(await store.getProfile('acme', { kind: 'pcId', id: 'p0' }), null);
      const done = await applying;
      assert.equal(done.successfulUpdates, 256);
      assert.ok(await store.getProfile('acme', { kind: 'pcId', id: 'p0' }));
    } finally {
      await store.close();
    }
  });

  it('survives its batch worker dying mid-batch: nothing of that batch stays, the next one applies', async () => {
    const store = new SqliteStore(join(dir, 'worker-crash.db'));
    const newBatch = () =>
      store.createBatch({
        client: 'acme',
        version: 'v2',
        batchSize: 2,
        parseFailures: [],
        parseFailedCount: 0,
        now: 1,
      });
    try {
      const first = await newBatch();
      let taken!: () => void;
      const firstChunkTaken = new Promise<void>((resolve) => (taken = resolve));
      async function* slow() {
        yield [{ key: { kind: 'pcId' as const, id: 'p1' }, attributes: { a: '1' } }];
        taken();
        await new Promise((resolve) => setTimeout(resolve, 100));
        yield [{ key: { kind: 'pcId' as const, id: 'p2' }, attributes: { a: '2' } }];
      }
      const applying = store.applyBatch('acme', first.batchId, slow, { createMissing: true, now: 2 });
      await firstChunkTaken;
      type Internals = { runs: { engines: { worker: { worker: { terminate(): Promise<number> } } } } };
      const worker = (store as unknown as Internals).runs.engines.worker;
      await worker.worker.terminate();
      await assert.rejects(applying, /worker/);
      assert.equal(await store.getProfile('acme', { kind: 'pcId', id: 'p1' }), null);
      // The dead worker's transaction is gone: the store writes again, and a new worker applies.
      await store.markBatchStuck('acme', first.batchId, 'worker died');
      const second = await newBatch();
      async function* one() {
        yield [{ key: { kind: 'pcId' as const, id: 'p3' }, attributes: { a: '3' } }];
      }
      const done = await store.applyBatch('acme', second.batchId, one, { createMissing: true, now: 3 });
      assert.equal(done.status, 'complete');
      assert.ok(await store.getProfile('acme', { kind: 'pcId', id: 'p3' }));
    } finally {
      await store.close();
    }
  });

  it('refuses an in-memory path, which a second reader connection could not see', () => {
    assert.throws(() => new SqliteStore(':memory:'), /file path/);
  });
});

describe('SqliteStore control database (issue 14)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'profilegate-sqlite-control-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
  const record = (jti: string) => ({
    jti,
    kid: 'kid-0001',
    createdAt: NOW,
    expiresAt: NOW + 3_600_000,
    createdBy: 'ops',
  });

  for (const batchWorker of [true, false]) {
    const where = batchWorker ? 'worker' : 'main thread';
    it(`answers single updates while a batch is staged; the batch merges on top of them (${where})`, async () => {
      const store = new SqliteStore(join(dir, `single-${batchWorker}.db`), { batchWorker });
      const opts = { createMissing: true, now: NOW };
      await store.updateProfile('acme', { key: { kind: 'pcId', id: 'p-other' }, attributes: { a: '0' } }, opts);
      await store.updateProfile('acme', { key: { kind: 'pcId', id: 'p-shared' }, attributes: { s: 'single' } }, opts);
      const batch = await store.createBatch({
        client: 'acme',
        version: 'v2',
        batchSize: 3,
        parseFailures: [],
        parseFailedCount: 0,
        now: NOW,
      });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const rows = () =>
        (async function* () {
          yield [{ key: { kind: 'pcId' as const, id: 'p-shared' }, attributes: { b: 'batch' } }];
          started();
          await gate;
          yield [{ key: { kind: 'thirdPartyId' as const, id: 'new-one' }, attributes: { b: 'batch' } }];
        })();
      const applied = store.applyBatch('acme', batch.batchId, rows, { createMissing: true, now: NOW + 1 });
      await running;
      // A profile the batch does not touch, and one it does: both commit at once, during the batch.
      const later = { createMissing: false, now: NOW + 2 };
      await store.updateProfile('acme', { key: { kind: 'pcId', id: 'p-other' }, attributes: { a: '1' } }, later);
      await store.updateProfile('acme', { key: { kind: 'pcId', id: 'p-shared' }, attributes: { s: 'again' } }, later);
      assert.equal((await store.getBatch('acme', batch.batchId))?.status, 'incomplete');
      assert.equal(await store.getProfile('acme', { kind: 'thirdPartyId', id: 'new-one' }), null);
      release();
      const done = await applied;
      assert.equal(done.status, 'complete');
      assert.equal(done.successfulUpdates, 2);
      const shared = await store.getProfile('acme', { kind: 'pcId', id: 'p-shared' });
      assert.equal(shared?.attributes['s']?.value, 'again', 'the batch overwrote a single update made during it');
      assert.equal(shared?.attributes['b']?.value, 'batch');
      assert.equal((await store.getProfile('acme', { kind: 'pcId', id: 'p-other' }))?.attributes['a']?.value, '1');
      assert.equal(
        (await store.getProfile('acme', { kind: 'thirdPartyId', id: 'new-one' }))?.attributes['b']?.value,
        'batch',
      );
      await store.close();
    });
  }

  it('keeps a change and its audit event together: when the audit write fails, nothing changes', async () => {
    const path = join(dir, 'atomic.db');
    const store = new SqliteStore(path);
    await store.replaceToken('acme', record('t1'), null, NOW);
    const control = new Database(join(dir, 'atomic.control.db'));
    control.exec(`CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit is full'); END`);
    control.close();
    const event = { at: NOW, actor: 'ops', action: 'token.generated' as const, details: {} };
    await assert.rejects(store.replaceToken('acme', record('t2'), null, NOW, event), /audit is full/);
    await assert.rejects(
      store.revokeTokens('acme', () => ({ ...event, action: 'token.revoked' })),
      /audit is full/,
    );
    await assert.rejects(
      store.putSettings('acme', { requireAuthentication: false }, () => ({ ...event, action: 'settings.changed' })),
      /audit is full/,
    );
    assert.equal((await store.getTokenState('acme')).current?.jti, 't1');
    assert.deepEqual(await store.getSettings('acme'), { requireAuthentication: true, profileRetentionDays: null });
    await store.close();
  });

  it('takes over the settings, token state and audit of a database written by an earlier version', async () => {
    const path = join(dir, 'legacy.db');
    const legacy = new Database(path);
    legacy.exec(SQLITE_MIGRATIONS[0]!);
    legacy.pragma('user_version = 1');
    legacy.prepare('INSERT INTO settings (client, require_authentication) VALUES (?, ?)').run('acme', 0);
    legacy
      .prepare('INSERT INTO token_state (client, current, graced) VALUES (?, ?, ?)')
      .run('acme', JSON.stringify(record('old')), '[]');
    legacy
      .prepare('INSERT INTO audit (client, at, actor, action, details) VALUES (?, ?, ?, ?, ?)')
      .run('acme', NOW, 'ops', 'token.generated', '{"n":1}');
    legacy.close();
    const store = new SqliteStore(path);
    assert.deepEqual(await store.getSettings('acme'), { requireAuthentication: false, profileRetentionDays: null });
    assert.equal((await store.getTokenState('acme')).current?.jti, 'old');
    assert.deepEqual(await store.listAudit('acme', 10), [
      { at: NOW, actor: 'ops', action: 'token.generated', details: { n: 1 } },
    ]);
    await store.close();
    const reopened = new SqliteStore(path);
    assert.equal((await reopened.getTokenState('acme')).current?.jti, 'old');
    await reopened.close();
    const db = new Database(path, { readonly: true });
    const tables = (
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>
    ).map((t) => t.name);
    db.close();
    assert.ok(!tables.includes('token_state'), `legacy tables left: ${tables.join(', ')}`);
    assert.equal(statSync(join(dir, 'legacy.control.db')).mode & 0o777, 0o600);
  });
});
