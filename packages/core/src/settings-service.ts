import type { AuditLog } from './audit';
import { ValidationError } from './errors';
import type { Settings, Store } from './store/types';

/**
 * Per-client settings with a short cache, dropped at once when the store reports a change. A read
 * that overlapped a change answers its own request but is not cached: cached, it would let
 * requests through unauthenticated for `cacheMs` after Require Authentication was switched on.
 */
export class SettingsService {
  private readonly cache = new Map<string, { settings: Settings; until: number }>();
  /** Bumped by every change of a client's settings, so a read can tell it overlapped one. */
  private readonly generations = new Map<string, number>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly cacheMs = 1000,
    private readonly now: () => number = Date.now,
  ) {
    this.unsubscribe = store.onChange((change) => {
      if (change.kind === 'settings') this.invalidate(change.client);
    });
  }

  /** The client's settings (at most `cacheMs` old, or fresh after any change through the store). */
  async get(client: string): Promise<Settings> {
    const hit = this.cached(client);
    if (hit !== undefined) return hit;
    const generation = this.generations.get(client) ?? 0;
    const settings = await this.store.getSettings(client);
    if ((this.generations.get(client) ?? 0) === generation) {
      this.cache.set(client, { settings, until: this.now() + this.cacheMs });
    }
    return settings;
  }

  /** The client's cached settings while they are fresh (at most `cacheMs` old), else undefined. */
  cached(client: string): Settings | undefined {
    const hit = this.cache.get(client);
    return hit && hit.until > this.now() ? hit.settings : undefined;
  }

  /**
   * The client's settings read from the store itself, never the cache: for an answer that must
   * show a change made on another instance, or a decision that must not use a stale setting.
   */
  getFresh(client: string): Promise<Settings> {
    return this.store.getSettings(client);
  }

  /** Stores a settings change made by `actor` and audits it (a front end parses its own wire format). */
  async put(client: string, change: Settings, actor: string): Promise<Settings> {
    if (typeof change?.requireAuthentication !== 'boolean') {
      throw new ValidationError('requireAuthentication must be true or false');
    }
    const settings: Settings = { requireAuthentication: change.requireAuthentication };
    await this.store.putSettings(client, settings, (before) =>
      this.audit.event(actor, 'settings.changed', {
        requireAuthentication: { from: before.requireAuthentication, to: settings.requireAuthentication },
      }),
    );
    this.invalidate(client);
    return settings;
  }

  private invalidate(client: string): void {
    this.cache.delete(client);
    this.generations.set(client, (this.generations.get(client) ?? 0) + 1);
  }

  /** Stops listening to the store. */
  dispose(): void {
    this.unsubscribe();
  }
}
