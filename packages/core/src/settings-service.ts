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
    const hit = this.cache.get(client);
    if (hit && hit.until > this.now()) return hit.settings;
    const generation = this.generations.get(client) ?? 0;
    const settings = await this.store.getSettings(client);
    if ((this.generations.get(client) ?? 0) === generation) {
      this.cache.set(client, { settings, until: this.now() + this.cacheMs });
    }
    return settings;
  }

  /** Validates and stores a settings change made by `actor`, and audits it. */
  async put(client: string, body: unknown, actor: string): Promise<Settings> {
    const settings = parseSettingsBody(body);
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

/** Accepts exactly `{"requireAuthentication": boolean}` (API.md 3.2). */
export function parseSettingsBody(body: unknown): Settings {
  if (
    typeof body !== 'object' ||
    body === null ||
    Array.isArray(body) ||
    Object.keys(body).length !== 1 ||
    typeof (body as Record<string, unknown>)['requireAuthentication'] !== 'boolean'
  ) {
    throw new ValidationError(
      'The body must be exactly {"requireAuthentication": true} or {"requireAuthentication": false}',
    );
  }
  return { requireAuthentication: (body as { requireAuthentication: boolean }).requireAuthentication };
}
