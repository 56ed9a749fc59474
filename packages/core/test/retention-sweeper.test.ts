/**
 * The retention sweep (issue 19, API.md 5): driven by a fixed clock and fake timers, never the
 * real ones. Expired profiles go, the others stay, null keeps forever, other clients are left
 * alone, many profiles go in several small transactions, and one summarised audit event is
 * written per client that lost profiles.
 */
import assert from 'node:assert/strict';
import { AuditLog } from '../src/audit';
import { RetentionSweeper, type SweepTimers } from '../src/retention-sweeper';
import { MemoryStore } from '../src/store/memory';
import type { Store } from '../src/store/types';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
const DAY = 86_400_000;

async function profileAt(store: Store, client: string, id: string, now: number): Promise<void> {
  const made = await store.updateProfile(
    client,
    { key: { kind: 'thirdPartyId', id }, attributes: { a: '1' } },
    { createMissing: true, now },
  );
  assert.equal(made.status, 'updated');
}

const exists = async (store: Store, client: string, id: string) =>
  (await store.getProfile(client, { kind: 'thirdPartyId', id })) !== null;

/** Timers that only fire when the test says so. */
class FakeTimers implements SweepTimers {
  pending: Array<{ fn: () => void; ms: number; id: number }> = [];
  private seq = 0;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.push({ fn, ms, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((t) => t.id !== handle);
  }
  fire(): void {
    const next = this.pending.shift();
    assert.ok(next, 'a timer is pending');
    next.fn();
  }
}

/** A MemoryStore counting deleteExpiredProfiles calls (each one transaction). */
class CountingStore extends MemoryStore {
  calls: Array<{ client: string; olderThan: number; limit: number; deleted: number }> = [];
  override async deleteExpiredProfiles(client: string, olderThan: number, limit: number): Promise<number> {
    const deleted = await super.deleteExpiredProfiles(client, olderThan, limit);
    this.calls.push({ client, olderThan, limit, deleted });
    return deleted;
  }
}

function sweeperOf(
  store: Store,
  clients: string[],
  extra: Partial<ConstructorParameters<typeof RetentionSweeper>[0]> = {},
) {
  let now = NOW;
  const clock = () => now;
  const timers = new FakeTimers();
  const sweeper = new RetentionSweeper({
    store,
    clients,
    clock,
    audit: new AuditLog({ store, clock }),
    timers,
    ...extra,
  });
  return { sweeper, timers, setNow: (t: number) => (now = t) };
}

describe('RetentionSweeper', () => {
  it('deletes expired profiles, keeps the others, keeps everything under null, and leaves other clients alone', async () => {
    const store = new CountingStore();
    await store.putSettings('acme', { profileRetentionDays: 30 });
    await store.putSettings('globex', { profileRetentionDays: 90 });
    await profileAt(store, 'acme', 'old', NOW - 31 * DAY);
    await profileAt(store, 'acme', 'young', NOW - 29 * DAY);
    await profileAt(store, 'acme', 'edge', NOW - 30 * DAY);
    await profileAt(store, 'globex', 'old', NOW - 31 * DAY);
    await profileAt(store, 'initech', 'ancient', NOW - 3000 * DAY); // null: kept forever
    await profileAt(store, 'unlisted', 'old', NOW - 3000 * DAY); // not a client of this server
    await store.putSettings('unlisted', { profileRetentionDays: 1 });
    const { sweeper } = sweeperOf(store, ['acme', 'globex', 'initech']);
    const result = await sweeper.sweep();
    assert.deepEqual(result, { acme: 1 });
    assert.equal(await exists(store, 'acme', 'old'), false);
    assert.equal(await exists(store, 'acme', 'young'), true);
    assert.equal(await exists(store, 'acme', 'edge'), true);
    assert.equal(await exists(store, 'globex', 'old'), true);
    assert.equal(await exists(store, 'initech', 'ancient'), true);
    assert.equal(await exists(store, 'unlisted', 'old'), true);
    assert.deepEqual(
      store.calls.map((c) => [c.client, c.olderThan]),
      [
        ['acme', NOW - 30 * DAY],
        ['globex', NOW - 90 * DAY],
      ],
    );
  });

  it('deletes many profiles in several small transactions, yielding between them', async () => {
    const store = new CountingStore();
    await store.putSettings('acme', { profileRetentionDays: 1 });
    for (let i = 0; i < 23; i++) await profileAt(store, 'acme', `p${i}`, NOW - 2 * DAY);
    let yields = 0;
    const { sweeper } = sweeperOf(store, ['acme'], {
      batchSize: 5,
      yieldBetweenBatches: async () => {
        yields++;
      },
    });
    assert.deepEqual(await sweeper.sweep(), { acme: 23 });
    assert.deepEqual(
      store.calls.map((c) => c.deleted),
      [5, 5, 5, 5, 3],
    );
    assert.ok(store.calls.every((c) => c.limit === 5));
    assert.equal(yields, 4);
    for (let i = 0; i < 23; i++) assert.equal(await exists(store, 'acme', `p${i}`), false);
  });

  it('writes one summarised audit event per client that lost profiles, with the count and no ids', async () => {
    const store = new MemoryStore();
    await store.putSettings('acme', { profileRetentionDays: 7 });
    await store.putSettings('globex', { profileRetentionDays: 7 });
    for (let i = 0; i < 3; i++) await profileAt(store, 'acme', `secret-${i}`, NOW - 8 * DAY);
    await profileAt(store, 'globex', 'fresh', NOW);
    const { sweeper } = sweeperOf(store, ['acme', 'globex'], { batchSize: 2 });
    await sweeper.sweep();
    const events = await store.listAudit('acme', 10);
    assert.deepEqual(events.slice(0, 1), [
      {
        at: NOW,
        actor: 'retention',
        action: 'profiles.expired',
        details: { count: 3, profileRetentionDays: 7, modifiedBefore: new Date(NOW - 7 * DAY).toISOString() },
      },
    ]);
    assert.doesNotMatch(JSON.stringify(events), /secret-/);
    assert.deepEqual(
      (await store.listAudit('globex', 10)).filter((e) => e.action === 'profiles.expired'),
      [],
    );
  });

  it('sweeps once at start and then every intervalMs of its timers; stop() ends it', async () => {
    const store = new MemoryStore();
    await store.putSettings('acme', { profileRetentionDays: 1 });
    await profileAt(store, 'acme', 'a', NOW - 2 * DAY);
    await profileAt(store, 'acme', 'b', NOW);
    const { sweeper, timers, setNow } = sweeperOf(store, ['acme'], { intervalMs: 1234 });
    sweeper.start();
    await sweeper.idle();
    assert.equal(await exists(store, 'acme', 'a'), false, 'swept at start');
    assert.equal(await exists(store, 'acme', 'b'), true);
    assert.deepEqual(
      timers.pending.map((t) => t.ms),
      [1234],
    );
    setNow(NOW + 2 * DAY);
    timers.fire();
    await sweeper.idle();
    assert.equal(await exists(store, 'acme', 'b'), false, 'swept when the timer fired');
    assert.equal(timers.pending.length, 1, 'the next sweep is scheduled');
    await sweeper.stop();
    assert.equal(timers.pending.length, 0, 'stop() clears the timer');
    sweeper.start();
    assert.equal(timers.pending.length, 0, 'a stopped sweeper does not start again');
  });

  it('defaults to a sweep at least every hour, and reports a failing sweep without stopping', async () => {
    const store = new MemoryStore();
    await store.putSettings('acme', { profileRetentionDays: 1 });
    const errors: unknown[] = [];
    let fail = true;
    const failing = Object.assign(Object.create(store) as MemoryStore, {
      deleteExpiredProfiles: async (client: string, olderThan: number, limit: number) => {
        if (fail) throw new Error('database down');
        return store.deleteExpiredProfiles(client, olderThan, limit);
      },
    });
    const { sweeper, timers } = sweeperOf(failing, ['acme'], { onError: (e) => errors.push(e) });
    sweeper.start();
    await sweeper.idle();
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /acme.*database down|database down/);
    assert.equal(timers.pending.length, 1);
    assert.ok(timers.pending[0]!.ms <= 3_600_000 && timers.pending[0]!.ms > 0);
    fail = false;
    timers.fire();
    await sweeper.idle();
    assert.equal(errors.length, 1);
    await sweeper.stop();
  });

  it('stop() waits for a sweep under way, which ends after its current transaction', async () => {
    const store = new CountingStore();
    await store.putSettings('acme', { profileRetentionDays: 1 });
    for (let i = 0; i < 10; i++) await profileAt(store, 'acme', `p${i}`, NOW - 2 * DAY);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { sweeper } = sweeperOf(store, ['acme'], { batchSize: 2, yieldBetweenBatches: () => gate });
    sweeper.start();
    while (store.calls.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const stopped = sweeper.stop();
    release();
    await stopped;
    assert.equal(store.calls.length, 1, 'no transaction after stop()');
  });
});
