/**
 * SettingsService's cache must never outlive a change: a settings read that was under way while
 * Require Authentication was switched on may answer its own request, but must not be cached, or
 * requests after the switch would pass the gate unauthenticated for up to `cacheMs`.
 */
import assert from 'node:assert/strict';
import { AuditLog } from '../src/audit';
import { ValidationError } from '../src/errors';
import { SettingsService } from '../src/settings-service';
import { MemoryStore } from '../src/store/memory';
import type { Settings } from '../src/store/types';

/** A MemoryStore whose settings reads, while `holding`, take their snapshot at once but answer only on `release` (a slow network store). */
class SlowReadStore extends MemoryStore {
  holding = false;
  private held: Array<() => void> = [];

  override async getSettings(client: string): Promise<Settings> {
    const snapshot = await super.getSettings(client);
    if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
    return snapshot;
  }

  release(): void {
    this.holding = false;
    for (const resolve of this.held.splice(0)) resolve();
  }
}

describe('SettingsService cache', () => {
  it('does not cache a read that overlapped a change, made here or reported by the store', async () => {
    for (const via of ['put', 'store change'] as const) {
      const store = new SlowReadStore();
      await store.putSettings('acme', { requireAuthentication: false });
      const service = new SettingsService(store, new AuditLog({ store }), 60_000);
      store.holding = true;
      const before = service.get('acme'); // under way: its snapshot says off
      await new Promise((resolve) => setImmediate(resolve));
      store.holding = false;
      if (via === 'put') await service.put('acme', { requireAuthentication: true }, 'ops');
      else await store.putSettings('acme', { requireAuthentication: true }); // as another instance would
      store.release();
      assert.equal((await before).requireAuthentication, false, 'the overlapping read answers what it read');
      const after = await service.get('acme');
      assert.equal(after.requireAuthentication, true, `after the change (${via}), the switch is seen at once`);
      service.dispose();
    }
  });

  it('caches a read that overlapped nothing', async () => {
    const store = new SlowReadStore();
    const service = new SettingsService(store, new AuditLog({ store }), 60_000);
    assert.equal((await service.get('acme')).requireAuthentication, true);
    let reads = 0;
    const read = store.getSettings.bind(store);
    store.getSettings = (client: string) => {
      reads++;
      return read(client);
    };
    assert.equal((await service.get('acme')).requireAuthentication, true);
    assert.equal(reads, 0, 'served from the cache');
    service.dispose();
  });
});

describe('SettingsService.put: retention (issue 19)', () => {
  const setup = () => {
    const store = new MemoryStore();
    return { store, service: new SettingsService(store, new AuditLog({ store }), 60_000) };
  };

  it('changes only the fields given, audits each change before/after, and drops the cache', async () => {
    const { store, service } = setup();
    assert.equal((await service.get('acme')).profileRetentionDays, null); // cached now
    const after = await service.put('acme', { profileRetentionDays: 30 }, 'ops');
    assert.deepEqual(after, { requireAuthentication: true, profileRetentionDays: 30 });
    assert.equal((await service.get('acme')).profileRetentionDays, 30);
    await service.put('acme', { requireAuthentication: false, profileRetentionDays: null }, 'ops');
    assert.deepEqual(await store.getSettings('acme'), { requireAuthentication: false, profileRetentionDays: null });
    const events = await store.listAudit('acme', 10);
    assert.deepEqual(
      events.map((e) => [e.actor, e.action, e.details]),
      [
        [
          'ops',
          'settings.changed',
          { requireAuthentication: { from: true, to: false }, profileRetentionDays: { from: 30, to: null } },
        ],
        ['ops', 'settings.changed', { profileRetentionDays: { from: null, to: 30 } }],
      ],
    );
    service.dispose();
  });

  it('refuses an empty change and every retention outside null | 1..3650, writing nothing', async () => {
    const { store, service } = setup();
    const bad: unknown[] = [0, 3651, 1.5, -1, '30', true, Number.NaN, Infinity];
    for (const days of bad) {
      await assert.rejects(
        service.put('acme', { profileRetentionDays: days as number }, 'ops'),
        (error: Error) => error instanceof ValidationError && /profileRetentionDays/.test(error.message),
        `refuses ${String(days)}`,
      );
    }
    await assert.rejects(service.put('acme', {}, 'ops'), /requireAuthentication|profileRetentionDays/);
    await assert.rejects(service.put('acme', { requireAuthentication: 'yes' as unknown as boolean }, 'ops'));
    assert.deepEqual(await store.getSettings('acme'), { requireAuthentication: true, profileRetentionDays: null });
    assert.deepEqual(await store.listAudit('acme', 10), []);
    for (const days of [1, 3650]) await service.put('acme', { profileRetentionDays: days }, 'ops');
    service.dispose();
  });
});
