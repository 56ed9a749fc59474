import type { AuditLog } from './audit';
import { ValidationError } from './errors';
import { MAX_RETENTION_DAYS, type Settings, type SettingsChange, type Store } from './store/types';

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

  /**
   * Stores a settings change made by `actor` (the fields given; at least one) and audits each
   * field's change, before and after; returns the settings as they are now. A front end parses
   * its own wire format; this checks the values again.
   */
  async put(client: string, change: SettingsChange, actor: string): Promise<Settings> {
    const checked = checkSettingsChange(change);
    const before = await this.store.putSettings(client, checked, (replaced) => {
      const after: Settings = { ...replaced, ...checked };
      const details: Record<string, unknown> = {};
      for (const field of SETTINGS_FIELDS) {
        if (field in checked) details[field] = { from: replaced[field], to: after[field] };
      }
      return this.audit.event(actor, 'settings.changed', details);
    });
    this.invalidate(client);
    return { ...before, ...checked };
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

/** Every field of Settings, in the order the API shows them. */
export const SETTINGS_FIELDS = ['requireAuthentication', 'profileRetentionDays'] as const;

/** True for a retention a client may set: null (keep forever) or a whole number of days, 1 to 3650. */
export function isRetentionDays(value: unknown): value is number | null {
  return (
    value === null || (Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= MAX_RETENTION_DAYS)
  );
}

/** The retention rule, for error messages. */
export const RETENTION_RULE = `profileRetentionDays must be null (keep profiles forever) or a whole number of days from 1 to ${MAX_RETENTION_DAYS}`;

/** `change` with only the fields it gives, each checked (ValidationError naming the field). */
export function checkSettingsChange(change: SettingsChange): SettingsChange {
  const checked: SettingsChange = {};
  if (change?.requireAuthentication !== undefined) {
    if (typeof change.requireAuthentication !== 'boolean') {
      throw new ValidationError('requireAuthentication must be true or false');
    }
    checked.requireAuthentication = change.requireAuthentication;
  }
  if (change?.profileRetentionDays !== undefined) {
    if (!isRetentionDays(change.profileRetentionDays)) throw new ValidationError(RETENTION_RULE);
    checked.profileRetentionDays = change.profileRetentionDays;
  }
  if (Object.keys(checked).length === 0) {
    throw new ValidationError('Change at least one setting: requireAuthentication or profileRetentionDays');
  }
  return checked;
}
