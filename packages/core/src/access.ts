import { AuditLog } from './audit';
import { systemClock, type Clock } from './clock';
import { OptionChecks } from './options';
import { profileDeletedDetails } from './profile-deletion';
import type { Profile } from './profiles/types';
import { SettingsService } from './settings-service';
import type { AuditEvent, Store } from './store/types';
import { TokenError, extractBearerToken } from './tokens/bearer';
import { KeyRing } from './tokens/keys';
import { TokenService, type VerifiedToken } from './tokens/service';

/** Options of a ProfileAccess. */
export interface ProfileAccessOptions {
  /** Where the settings, the token state and the audit log live. */
  store: Store;
  /** Signing keys of profile tokens (kept outside the store); see `loadOrCreateKeyRing`. */
  signingKeys: KeyRing;
  /** How long token state and settings may be cached, in whole ms (default 1000). */
  cacheMs?: number;
  /** Injected clock for tests (default the system clock). */
  clock?: Clock;
  /** Where refusals are counted (default: a new AuditLog on `store` with `clock`). */
  audit?: AuditLog;
  /**
   * The factory named by an OptionsError (default `ProfileAccess`): an adapter that takes these
   * options from its own caller passes its own name (`requireProfileToken`), so that a mistake
   * reads as the caller wrote it.
   */
  factory?: string;
}

/** What the access decision lets through: an open client, or a verified token. */
export type ProfileAccessGrant =
  { readonly authenticated: false } | { readonly authenticated: true; readonly token: VerifiedToken };

/** Store methods the access decision (and the services it builds) call. */
const ACCESS_STORE_METHODS = [
  'getSettings',
  'putSettings',
  'getTokenState',
  'replaceToken',
  'revokeTokens',
  'appendAudit',
  'listAudit',
  'onChange',
];

const OPEN: ProfileAccessGrant = Object.freeze({ authenticated: false });

/**
 * The "Require Authentication" decision of API.md 2.0, for any front end: while a client's
 * setting is on, a request needs a valid profile token in its Authorization header. Built once
 * from its options (checked here, OptionsError naming the option); `check` resolves with what it
 * let through or rejects with a TokenError carrying the status (400 or 401), the code and the
 * RFC 6750 `WWW-Authenticate` header, after counting the refusal in the audit log's denials.
 */
export class ProfileAccess {
  /** The token lifecycle the decision verifies with; admin front ends generate and revoke with it. */
  readonly tokens: TokenService;
  /** The settings the decision reads (cached up to `cacheMs`); admin front ends change them with it. */
  readonly settings: SettingsService;
  /** Where refusals are counted (and token and settings changes recorded). */
  readonly audit: AuditLog;
  private readonly keys: KeyRing;

  constructor(options: ProfileAccessOptions) {
    const check: OptionChecks = new OptionChecks(
      typeof options?.factory === 'string' && options.factory !== '' ? options.factory : 'ProfileAccess',
    );
    check.object(options);
    const { store } = options;
    check.methods(
      'store',
      store,
      ACCESS_STORE_METHODS,
      'must implement Store (SqliteStore, MemoryStore or PostgresStore from @profilegate/core)',
    );
    const keys = check.instance(
      'signingKeys',
      options.signingKeys,
      KeyRing,
      'must be a KeyRing (see loadOrCreateKeyRing in @profilegate/core)',
    );
    this.keys = keys;
    const cacheMs = check.number('cacheMs', options.cacheMs, { fallback: 1000, unit: 'milliseconds' });
    const clock = check.func('clock', options.clock, systemClock);
    this.audit =
      options.audit === undefined
        ? new AuditLog({ store, clock })
        : check.instance('audit', options.audit, AuditLog, 'must be an AuditLog, or left out');
    this.tokens = new TokenService({ store, keys, clock, stateCacheMs: cacheMs, audit: this.audit });
    this.settings = new SettingsService(store, this.audit, cacheMs, clock);
  }

  /**
   * Decides a request to `client`'s profile routes carrying this Authorization header (undefined
   * when there is none): open while Require Authentication is off, else the verified token.
   */
  async check(client: string, authorization: string | undefined): Promise<ProfileAccessGrant> {
    const settings = await this.settings.get(client);
    if (!settings.requireAuthentication) return OPEN;
    return this.verify(client, authorization, (token) => this.tokens.verify(client, token));
  }

  /**
   * `check`'s decision from the caches alone, synchronously, for the hot path of a gated route: the
   * grant when the cached setting and token state let the request through; a thrown TokenError
   * (counted in the denials, like `check`'s) when the cached setting requires a token and the
   * header or token is refused on its own; undefined when the caches cannot decide (nothing cached,
   * or a refusal that `check` would confirm against the store), and then the caller calls `check`.
   * Saves `check`'s promise hops on every request (issue 18).
   */
  checkCached(client: string, authorization: string | undefined): ProfileAccessGrant | undefined {
    const settings = this.settings.cached(client);
    if (settings === undefined) return undefined;
    if (!settings.requireAuthentication) return OPEN;
    try {
      const token = this.tokens.verifyCached(client, extractBearerToken(authorization));
      return token === undefined ? undefined : { authenticated: true, token };
    } catch (error) {
      if (error instanceof TokenError) this.audit.recordDenial(client, error.reason);
      throw error;
    }
  }

  /**
   * The same decision again, for a request whose long body has been received (API.md 3.1), from
   * the store itself: a cached setting or token state may predate a change made while the body
   * was arriving. The setting is read again too: an admin who switches Require Authentication on
   * expects no unauthenticated write to land after the switch, whenever its upload began; a
   * switch off opens the routes, so the request passes then whatever its token.
   */
  async recheck(client: string, authorization: string | undefined): Promise<ProfileAccessGrant> {
    const settings = await this.settings.getFresh(client);
    if (!settings.requireAuthentication) return OPEN;
    return this.verify(client, authorization, (token) => this.tokens.verifyFresh(client, token));
  }

  /**
   * The `profile.deleted` event of `profile`, deleted by `actor` (a token's jti prefix, or
   * ANONYMOUS_ACTOR): its ids only as keyed hashes under the active signing key (profileIdHash).
   */
  profileDeletedEvent(client: string, actor: string, profile: Profile): AuditEvent {
    return this.audit.event(actor, 'profile.deleted', profileDeletedDetails(this.keys, client, profile));
  }

  /** Stops listening to the store (call it when the front end closes). */
  dispose(): void {
    this.tokens.dispose();
    this.settings.dispose();
  }

  /** Verifies the header's bearer token; a refusal is counted in the audit log's denials. */
  private async verify(
    client: string,
    authorization: string | undefined,
    verify: (token: string) => Promise<VerifiedToken>,
  ): Promise<ProfileAccessGrant> {
    try {
      return { authenticated: true, token: await verify(extractBearerToken(authorization)) };
    } catch (error) {
      if (error instanceof TokenError) this.audit.recordDenial(client, error.reason);
      throw error;
    }
  }
}
