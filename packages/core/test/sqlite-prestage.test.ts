/**
 * On SQLite a batch is worked out while its body is still arriving (issue 18): its rows are staged
 * as they are parsed, and nothing of them is stored until the batch is accepted and merged. A
 * body refused late, or a gate that refuses once the body is received, leaves nothing stored.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProfileService } from '../src/profile-service';
import { SqliteStore } from '../src/store/sqlite';
import type { BatchRecord } from '../src/store/types';
import { NOW } from './postgres-harness';

const ROWS = 5000;

/** A CSV body in two parts; `between` runs after the first part has been handed over. */
async function* body(between: () => Promise<void>, last = ''): AsyncGenerator<string> {
  const lines = Array.from({ length: ROWS }, (_, i) => `u${i},gold`);
  yield `thirdPartyId,tier\n${lines.slice(0, ROWS / 2).join('\n')}\n`;
  await between();
  yield `${lines.slice(ROWS / 2).join('\n')}\n${last}`;
}

async function settled(applied: Promise<BatchRecord>): Promise<BatchRecord> {
  const done = await applied;
  assert.equal(done.status, 'complete');
  return done;
}

describe('SqliteStore: a batch staged while its body is parsed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'profilegate-prestage-'));
  let n = 0;
  let store: SqliteStore;
  let service: ProfileService;
  beforeEach(() => {
    store = new SqliteStore(join(dir, `s${++n}.db`));
    service = new ProfileService({ store, clock: () => NOW, spoolDir: dir, batchLimits: { maxRows: ROWS } });
  });
  afterEach(async () => {
    await service.drain();
    await store.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const count = (id: string) => store.getProfile('acme', { kind: 'thirdPartyId', id });

  it('stages the rows of the first part before the rest of the body arrives', async () => {
    let stagedBeforeEnd = 0;
    const submitted = await service.submitBatch(
      'acme',
      'v2',
      body(async () => {
        // Give the worker time to take the first part: it is staged, not stored.
        for (let i = 0; i < 200 && store.stagedRows() === 0; i++) await new Promise((r) => setTimeout(r, 5));
        stagedBeforeEnd = store.stagedRows();
        assert.equal(await count('u0'), null);
      }),
      'csv',
    );
    const done = await settled(submitted.applied);
    assert.ok(stagedBeforeEnd > 0, 'no row was staged before the body ended');
    assert.equal(done.successfulUpdates, ROWS);
    assert.equal((await count(`u${ROWS - 1}`))?.attributes['tier']?.value, 'gold');
  });

  it('stores nothing when the body is refused late, and the next batch still applies', async () => {
    // One row over the limit, after the first part was staged.
    await assert.rejects(
      service.submitBatch(
        'acme',
        'v2',
        body(async () => undefined, 'u-extra,gold\n'),
        'csv',
      ),
      /500|rows|limit/i,
    );
    assert.equal(await count('u0'), null);
    const next = await service.submitBatch(
      'acme',
      'v2',
      body(async () => undefined),
      'csv',
    );
    assert.equal((await settled(next.applied)).successfulUpdates, ROWS);
  });

  it('stores nothing when the gate refuses once the body is received, before or after recording', async () => {
    const refuse = async () => {
      throw new Error('revoked');
    };
    await assert.rejects(
      service.submitBatch(
        'acme',
        'v2',
        body(async () => undefined),
        'csv',
        { beforeAccept: refuse },
      ),
      /revoked/,
    );
    let checks = 0;
    const second = async () => {
      if (++checks === 2) throw new Error('revoked meanwhile');
    };
    await assert.rejects(
      service.submitBatch(
        'acme',
        'v2',
        body(async () => undefined),
        'csv',
        { beforeAccept: second },
      ),
      /revoked meanwhile/,
    );
    assert.equal(await count('u0'), null);
    const next = await service.submitBatch(
      'acme',
      'v2',
      body(async () => undefined),
      'csv',
    );
    assert.equal((await settled(next.applied)).successfulUpdates, ROWS);
  });

  it('reports every row worked through (appliedCount) from its acceptance until its merge', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const gated = new Proxy(store, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property === 'applyBatch') {
          return async (...args: Parameters<SqliteStore['applyBatch']>) => {
            await held;
            return target.applyBatch(...args);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const gatedService = new ProfileService({ store: gated, clock: () => NOW, spoolDir: dir });
    const submitted = await gatedService.submitBatch(
      'acme',
      'v2',
      body(async () => undefined),
      'csv',
    );
    try {
      const status = await gatedService.getBatch('acme', submitted.batch.batchId);
      assert.equal(status.status, 'incomplete');
      assert.equal(status.appliedCount, ROWS);
    } finally {
      release(); // else the batch would hold the store open
    }
    await settled(submitted.applied);
  });

  it('stages the batch again from its spool when the worker died while the body arrived', async () => {
    const submitted = await service.submitBatch(
      'acme',
      'v2',
      body(async () => {
        for (let i = 0; i < 200 && store.stagedRows() === 0; i++) await new Promise((r) => setTimeout(r, 5));
        type Internals = { runs: { engines: { worker: { worker: { terminate(): Promise<number> } } } } };
        await (store as unknown as Internals).runs.engines.worker.worker.terminate();
      }),
      'csv',
    );
    const done = await settled(submitted.applied);
    assert.equal(done.successfulUpdates, ROWS);
    assert.equal((await count(`u${ROWS - 1}`))?.attributes['tier']?.value, 'gold');
  });

  it('does not hold up another batch while its body is still arriving', async function () {
    this.timeout(20_000); // on a deadlock: the other batch would wait for this body, which waits for it
    let otherDone: BatchRecord | null = null;
    const first = await service.submitBatch(
      'acme',
      'v2',
      body(async () => {
        // This body's first part is being staged; another batch is sent and completes meanwhile.
        const small = (async function* () {
          yield 'thirdPartyId,tier\nv1,silver\n';
        })();
        const other = await service.submitBatch('acme', 'v2', small, 'csv');
        otherDone = await other.applied;
      }),
      'csv',
    );
    assert.equal((otherDone as BatchRecord | null)?.status, 'complete');
    assert.equal((await settled(first.applied)).successfulUpdates, ROWS);
    assert.equal((await count('v1'))?.attributes['tier']?.value, 'silver');
  });

  it('puts its rows on top of a single update made to one of its profiles while it was staged', async () => {
    await store.updateProfile(
      'acme',
      { key: { kind: 'thirdPartyId', id: 'u1' }, attributes: { city: 'Oslo' } },
      { createMissing: true, now: NOW - 10 },
    );
    const submitted = await service.submitBatch(
      'acme',
      'v2',
      body(async () => {
        await store.updateProfile(
          'acme',
          { key: { kind: 'thirdPartyId', id: 'u1' }, attributes: { city: 'Bergen', tier: 'silver' } },
          { createMissing: false, now: NOW - 5 },
        );
      }),
      'csv',
    );
    await settled(submitted.applied);
    const u1 = await count('u1');
    assert.equal(u1?.attributes['city']?.value, 'Bergen');
    assert.equal(u1?.attributes['tier']?.value, 'gold');
  });
});
