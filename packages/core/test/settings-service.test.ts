/**
 * SettingsService's cache must never outlive a change: a settings read that was under way while
 * Require Authentication was switched on may answer its own request, but must not be cached, or
 * requests after the switch would pass the gate unauthenticated for up to `cacheMs`.
 */
import assert from 'node:assert/strict';
import { AuditLog } from '../src/audit';
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
