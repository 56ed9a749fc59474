/**
 * Several PostgresStore instances (each its own pool, as separate app instances would have) on
 * one schema: concurrent merges, overlapping batches that deadlock, and batch leases.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PostgresStore } from '../src/store/postgres';
import type { PostgresStoreOptions } from '../src/store/postgres';
import type { BatchRow, BatchRows, NewBatch } from '../src/store/types';
import { ABANDONED_BATCH_MESSAGE } from '../src/store/types';
import { NOW, URL, adminQuery, chunks, dropSchemas, newSchema, requirePostgres, row, until } from './postgres-harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function newBatch(version: 'v1' | 'v2', batchSize: number): NewBatch {
  return { client: 'acme', version, batchSize, parseFailures: [], parseFailedCount: 0, now: NOW };
}

/** A promise with its resolve function. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((resolve) => (fire = resolve));
  return { promise, fire };
}

describe('PostgresStore instances on one schema', function () {
  this.timeout(30_000);
  const open: PostgresStore[] = [];
  async function openStore(schema: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const store = await PostgresStore.open(URL, { schema, ...options });
    open.push(store);
    return store;
  }

  before(requirePostgres);
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  after(dropSchemas);

  it('a profile one instance deletes is gone for the other at once, while it batch-updates it (issue 19)', async () => {
    const schema = newSchema();
    const [a, b] = [await openStore(schema), await openStore(schema)];
    await a.updateProfile('acme', row('thirdPartyId', 'u1', { seed: 's' }), { createMissing: true, now: NOW });
    const pcId = (await a.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' }))!.pcId;
    // v1: whichever commits first, the batch's row never makes the profile again.
    const batch = await b.createBatch(newBatch('v1', 2));
    const firstTaken = signal();
    const gate = signal();
    const applying = b.applyBatch(
      'acme',
      batch.batchId,
      async function* () {
        yield [row('thirdPartyId', 'u1', { plan: 'b' })];
        firstTaken.fire();
        await gate.promise;
        yield [row('pcId', 'other', { plan: 'c' })];
      },
      { createMissing: false, now: NOW + 1 },
    );
    await firstTaken.promise;
    const deleting = a.deleteProfile('acme', { kind: 'pcId', id: pcId }, (p) => ({
      at: NOW,
      actor: 'anonymous',
      action: 'profile.deleted',
      details: { ids: p.pcId === pcId ? 'hash' : 'wrong' },
    }));
    gate.fire();
    const [done, deleted] = await Promise.all([applying, deleting]);
    assert.equal(done.status, 'complete');
    assert.equal(deleted?.pcId, pcId);
    assert.equal(await b.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' }), null);
    assert.deepEqual(
      (await b.listAudit('acme', 5)).map((e) => e.details),
      [{ ids: 'hash' }],
    );
    // A later v2 row makes a new profile, with a new pcId.
    await b.updateProfile('acme', row('thirdPartyId', 'u1', { plan: 'd' }), { createMissing: true, now: NOW + 2 });
    const again = await a.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' });
    assert.notEqual(again?.pcId, pcId);
    assert.deepEqual(Object.keys(again!.attributes), ['plan']);
  });

  it('loses no attribute when two instances update and batch-update one profile at once', async () => {
    const schema = newSchema();
    const [a, b] = [await openStore(schema, { batchChunkRows: 7 }), await openStore(schema, { batchChunkRows: 7 })];
    await a.updateProfile('acme', row('thirdPartyId', 'u1', { seed: 's' }), { createMissing: true, now: NOW });
    const pcId = (await a.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' }))!.pcId;
    const work: Promise<unknown>[] = [];
    for (const [name, store] of [
      ['a', a],
      ['b', b],
    ] as const) {
      for (let i = 0; i < 20; i++) {
        // The profile named either way, as the update route and the profile tracker may.
        const update =
          i % 2
            ? row('thirdPartyId', 'u1', { [`${name}${i}`]: `v${i}` })
            : row('pcId', pcId, { [`${name}${i}`]: `v${i}` });
        work.push(store.updateProfile('acme', update, { createMissing: i % 3 === 0, now: NOW + i }));
      }
      for (let k = 0; k < 2; k++) {
        // Each batch sets 10 attributes of the profile over 10 rows, and creates profiles beside it.
        const rows: BatchRow[] = [];
        for (let j = 0; j < 10; j++) {
          rows.push(row('thirdPartyId', 'u1', { [`${name}batch${k}_${j}`]: `w${j}` }));
          rows.push(row('thirdPartyId', `${name}-other-${k}-${j}`, { x: '1' }));
        }
        work.push(
          store
            .createBatch(newBatch('v2', rows.length))
            .then((batch) =>
              store.applyBatch('acme', batch.batchId, chunks(rows, 5), { createMissing: true, now: NOW }),
            ),
        );
      }
    }
    await Promise.all(work);
    const profile = await b.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' });
    const expected: Record<string, string> = { seed: 's' };
    for (const name of ['a', 'b']) {
      for (let i = 0; i < 20; i++) expected[`${name}${i}`] = `v${i}`;
      for (let k = 0; k < 2; k++) for (let j = 0; j < 10; j++) expected[`${name}batch${k}_${j}`] = `w${j}`;
    }
    const stored = Object.fromEntries(Object.entries(profile!.attributes).map(([n, v]) => [n, v.value]));
    assert.deepEqual(stored, expected);
    const [{ n }] = await adminQuery<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".profiles`);
    assert.equal(n, String(1 + 2 * 2 * 10));
  });

  it('completes two overlapping batches that deadlock: the loser runs again from its first row', async () => {
    const schema = newSchema();
    const a = await openStore(schema, { batchChunkRows: 50 });
    const b = await openStore(schema, { batchChunkRows: 50 });
    const ids = Array.from({ length: 100 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    const seed = await a.createBatch(newBatch('v2', 100));
    await a.applyBatch(
      'acme',
      seed.batchId,
      chunks(
        ids.map((id) => row('pcId', id, { seed: '1' })),
        100,
      ),
      {
        createMissing: true,
        now: NOW,
      },
    );
    // A writes p000–p049 then p050–p099; B the same profiles in the opposite order. Both hold
    // their first half when they ask for the second: each waits for the other, a deadlock.
    const gate = signal();
    const firstHalves = [signal(), signal()];
    let opens = 0;
    function rows(attribute: string, order: string[], firstHalf: { fire: () => void }): BatchRows {
      return async function* () {
        opens++;
        const all = order.map((id) => row('pcId', id, { [attribute]: 'v' }));
        yield all.slice(0, 50);
        // The store reads one chunk ahead while it writes one: this empty chunk is read while the
        // first half is written, so the next request for rows comes once the first half is written.
        yield [];
        firstHalf.fire(); // asked for more: the first 50 rows are written and locked
        await gate.promise;
        yield all.slice(50);
      };
    }
    const [ba, bb] = [await a.createBatch(newBatch('v1', 100)), await b.createBatch(newBatch('v1', 100))];
    const options = { createMissing: false, now: NOW + 1 };
    const applying = [
      a.applyBatch('acme', ba.batchId, rows('fromA', ids, firstHalves[0]!), options),
      b.applyBatch('acme', bb.batchId, rows('fromB', [...ids].reverse(), firstHalves[1]!), options),
    ];
    await Promise.all(firstHalves.map((s) => s.promise));
    gate.fire();
    const done = await Promise.all(applying);
    assert.deepEqual(
      done.map((d) => [d.status, d.successfulUpdates]),
      [
        ['complete', 100],
        ['complete', 100],
      ],
    );
    assert.equal(opens, 3, 'one batch lost the deadlock and read its rows again');
    for (const id of ids) {
      const profile = await b.getProfile('acme', { kind: 'pcId', id });
      assert.deepEqual(Object.keys(profile!.attributes).sort(), ['fromA', 'fromB', 'seed']);
    }
    for (const batch of [ba, bb]) assert.equal((await a.getBatch('acme', batch.batchId))?.status, 'complete');
  });

  it('a restarting instance leaves alone the batch another live instance has not applied yet', async () => {
    const schema = newSchema();
    // A renews its leases every 200 ms; B (restarting) recovers at start and every 50 ms.
    const a = await openStore(schema, { batchLeaseMs: 1200 });
    const batch = await a.createBatch(newBatch('v2', 1));
    const b = await openStore(schema, { batchLeaseMs: 300 });
    assert.equal(await b.recoverIncompleteBatches(), 0);
    await sleep(1500); // longer than A's lease: only A's renewals keep the batch
    assert.equal((await b.getBatch('acme', batch.batchId))?.status, 'incomplete');
    const [{ owner }] = await adminQuery<{ owner: string }>(
      `SELECT owner FROM "${schema}".batches WHERE batch_id = $1`,
      [batch.batchId],
    );
    assert.equal(owner, a.owner);
    const done = await a.applyBatch('acme', batch.batchId, chunks([row('pcId', 'p1', { a: '1' })], 1), {
      createMissing: true,
      now: NOW,
    });
    assert.equal(done.status, 'complete');
  });

  it('marks stuck, once its lease ran out, a batch whose instance died', async () => {
    const schema = newSchema();
    const b = await openStore(schema, { batchLeaseMs: 300 });
    // Another process accepts a batch and is killed before applying it.
    const module = join(__dirname, '..', 'src', 'store', 'postgres.js');
    const script = `
      const { PostgresStore } = require(${JSON.stringify(module)});
      PostgresStore.open(${JSON.stringify(URL)}, { schema: ${JSON.stringify(schema)}, batchLeaseMs: 600 })
        .then((s) => s.createBatch(${JSON.stringify(newBatch('v2', 1))}))
        .then((batch) => console.log(batch.batchId));`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const batchId = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (data: Buffer) => {
        out += data.toString();
        if (out.endsWith('\n')) resolve(out.trim());
      });
      child.once('exit', (code) => reject(new Error(`the child exited (${code}) before creating a batch`)));
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await until(
      'the dead instance’s batch to be marked stuck',
      async () => (await b.getBatch('acme', batchId))?.status === 'stuck',
      10_000,
    );
    assert.equal((await b.getBatch('acme', batchId))?.message, ABANDONED_BATCH_MESSAGE);
  });

  it('rolls a batch back when it was marked stuck while being applied', async () => {
    const schema = newSchema();
    const a = await openStore(schema, { batchChunkRows: 1 });
    const batch = await a.createBatch(newBatch('v2', 2));
    const gate = signal();
    const firstWritten = signal();
    async function* slow(): AsyncIterable<BatchRow[]> {
      yield [row('pcId', 'p1', { a: '1' })];
      firstWritten.fire();
      await gate.promise;
      yield [row('pcId', 'p2', { a: '2' })];
    }
    const applying = a.applyBatch('acme', batch.batchId, slow, { createMissing: true, now: NOW });
    await firstWritten.promise;
    // What an instance does to a batch whose lease ran out.
    await adminQuery(`UPDATE "${schema}".batches SET status = 'stuck', message = 'lease ran out' WHERE batch_id = $1`, [
      batch.batchId,
    ]);
    gate.fire();
    await assert.rejects(applying, /marked stuck while it was applied/);
    assert.equal(await a.getProfile('acme', { kind: 'pcId', id: 'p1' }), null);
    assert.equal((await a.getBatch('acme', batch.batchId))?.message, 'lease ran out');
  });
});
