import { randomBytes } from 'node:crypto';
import { AuditLog } from '../audit';
import { systemClock, type Clock } from '../clock';
import { ValidationError } from '../errors';
import { maskToken } from '@profilegate/client';
import { OptionChecks } from '../options';
import { storableText } from '../storable-text';
import type { Store, TokenRecord, TokenState } from '../store/types';
import { TokenError } from './bearer';
import { TokenStateCache, VerifiedTokenCache } from './caches';
import { mintToken, verifySignature, type TokenClaims } from './jwt';
import { KeyRing } from './keys';
import {
  TOKEN_LIMITS,
  type GenerateTokenOptions,
  type IssuedToken,
  type ReplacedToken,
  type TokenStatus,
  type VerifiedToken,
} from './types';

// The types live beside, so this file keeps to the lifecycle; importers keep importing them from here.
export {
  TOKEN_LIMITS,
  type GenerateTokenOptions,
  type IssuedToken,
  type ReplacedToken,
  type TokenStatus,
  type VerifiedToken,
} from './types';

/** Options of a TokenService; each is checked when it is created (OptionsError naming the option). */
export interface TokenServiceOptions {
  store: Store;
  keys: KeyRing;
  clock?: Clock;
  /** How long a client's token state is trusted without a store read (default 1000 ms). */
  stateCacheMs?: number;
  /** How many verified tokens skip the HMAC on their next use (default 1000; 0 disables). */
  verifiedCacheSize?: number;
  /** Where token.generated / token.revoked go (default: a new AuditLog on `store`). */
  audit?: AuditLog;
}

function wholeSeconds(name: string, value: number | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${name} must be a whole number of seconds from ${min} to ${max}`);
  }
  return value;
}

/** Store methods a TokenService calls. */
const TOKEN_STORE_METHODS = ['getTokenState', 'replaceToken', 'revokeTokens', 'appendAudit', 'onChange'];

/** Seconds since the epoch, as JWT claims count them. */
function secondsOf(ms: number): number {
  return Math.floor(ms / 1000);
}

/**
 * The profile token's lifecycle: generate (= regenerate), show again, revoke, verify. The store
 * holds only TokenRecords; the JWT is re-minted from the record and the key ring when shown.
 */
export class TokenService {
  private readonly store: Store;
  private readonly keys: KeyRing;
  private readonly clock: Clock;
  private readonly audit: AuditLog;
  private readonly states: TokenStateCache;
  private readonly stateCacheMs: number;
  private readonly verified: VerifiedTokenCache;
  private readonly unsubscribe: () => void;

  /** Checks the options (OptionsError naming the option) and starts listening to the store's changes. */
  constructor(options: TokenServiceOptions) {
    const check: OptionChecks = new OptionChecks('TokenService');
    check.object(options);
    check.methods('store', options.store, TOKEN_STORE_METHODS, 'must implement Store');
    this.store = options.store;
    this.keys = check.instance('keys', options.keys, KeyRing, 'must be a KeyRing');
    this.clock = check.func('clock', options.clock, systemClock);
    this.audit =
      options.audit === undefined
        ? new AuditLog({ store: options.store, clock: this.clock })
        : check.instance('audit', options.audit, AuditLog, 'must be an AuditLog, or left out');
    this.stateCacheMs = check.number('stateCacheMs', options.stateCacheMs, { fallback: 1000, whole: false });
    this.states = new TokenStateCache(options.store, this.stateCacheMs);
    const verifiedCacheSize = check.number('verifiedCacheSize', options.verifiedCacheSize, {
      fallback: 1000,
      whole: false,
    });
    this.verified = new VerifiedTokenCache(Math.floor(verifiedCacheSize));
    this.unsubscribe = options.store.onChange((change) => {
      if (change.kind === 'token') this.states.invalidate(change.client);
    });
  }

  /**
   * Issues a new token for `client` and makes it the only current one. The previous token stops
   * working at once, or after `previousTokenGraceSeconds`. Throws ValidationError on bad options.
   */
  async generate(client: string, options: GenerateTokenOptions): Promise<IssuedToken> {
    const expiresIn = wholeSeconds(
      'expiresIn',
      options.expiresInSeconds,
      TOKEN_LIMITS.minExpiresIn,
      TOKEN_LIMITS.maxExpiresIn,
      TOKEN_LIMITS.defaultExpiresIn,
    );
    const grace = wholeSeconds(
      'previousTokenGraceSeconds',
      options.previousTokenGraceSeconds,
      0,
      TOKEN_LIMITS.maxGrace,
      0,
    );
    if (typeof options.actor !== 'string' || options.actor === '')
      throw new ValidationError('actor must be a non-empty id');

    const now = this.clock();
    const key = this.keys.active();
    const record: TokenRecord = {
      jti: randomBytes(16).toString('base64url'),
      kid: key.kid,
      createdAt: now,
      // Whole seconds, so `exp` is exactly expiresAt / 1000 and re-minting gives the same token.
      expiresAt: (secondsOf(now) + expiresIn) * 1000,
      createdBy: storableText(options.actor),
    };
    const accessToken = mintToken(client, record, key);
    const event = this.audit.event(options.actor, 'token.generated', {
      expiresAt: new Date(record.expiresAt).toISOString(),
      jtiPrefix: record.jti.slice(0, 8),
      graceSeconds: grace,
    });
    await this.store.replaceToken(client, record, grace > 0 ? now + grace * 1000 : null, now, event);
    // The store also emits a change; this covers stores whose own notification arrives later.
    this.states.invalidate(client);
    return { accessToken, record };
  }

  /** Same as `generate`: every generation replaces the current token. */
  regenerate(client: string, options: GenerateTokenOptions): Promise<IssuedToken> {
    return this.generate(client, options);
  }

  /**
   * The current token, re-minted byte for byte from its record; null when there is none, it has
   * expired, or its signing key is no longer in the ring.
   */
  async current(client: string): Promise<IssuedToken | null> {
    // Read the store, not the cache: an admin must see a regeneration made on another instance.
    const state = await this.store.getTokenState(client);
    const record = state.current;
    if (!record || record.expiresAt <= this.clock()) return null;
    const key = this.keys.get(record.kid);
    if (!key) return null;
    return { accessToken: mintToken(client, record, key), record };
  }

  /**
   * The replaced tokens of `client` that still work (at most one: see Store.replaceToken), masked,
   * with when they stop. Read from the store, like `current`.
   */
  async replaced(client: string): Promise<ReplacedToken[]> {
    return this.replacedIn(client, await this.store.getTokenState(client), this.clock());
  }

  /**
   * What admins see of `client`'s tokens, from one store read: the current token's record while
   * it has not expired (even when its signing key is gone), and the replaced tokens still working.
   */
  async status(client: string): Promise<TokenStatus> {
    const now = this.clock();
    const state = await this.store.getTokenState(client);
    const current = state.current !== null && state.current.expiresAt > now ? state.current : null;
    return { current, replaced: this.replacedIn(client, state, now) };
  }

  private replacedIn(client: string, state: TokenState, now: number): ReplacedToken[] {
    return state.graced
      .filter((graced) => graced.graceUntil > now)
      .map((graced) => {
        const key = graced.record ? this.keys.get(graced.record.kid) : undefined;
        const token = graced.record && key ? mintToken(client, graced.record, key) : null;
        return {
          jtiPrefix: graced.jti.slice(0, 8),
          maskedToken: token === null ? null : maskToken(token),
          graceUntil: graced.graceUntil,
        };
      });
  }

  /**
   * Makes every token of `client` stop working; returns whether there was a current one. The
   * revocation is audited even when there was nothing to revoke: it is an admin action all the same.
   */
  async revoke(client: string, actor: string): Promise<boolean> {
    if (typeof actor !== 'string' || actor === '') throw new ValidationError('actor must be a non-empty id');
    const had = await this.store.revokeTokens(client, (hadToken) =>
      this.audit.event(actor, 'token.revoked', { hadToken }),
    );
    this.states.invalidate(client);
    return had;
  }

  /**
   * Accepts `token` for `client` or throws TokenError: malformed, bad_signature (any algorithm
   * but HS256, unknown kid, wrong key), expired, invalid_claims, wrong_client, revoked (replaced
   * outside its grace period, or revoked).
   */
  async verify(client: string, token: string): Promise<VerifiedToken> {
    const now = this.clock();
    const claims = this.claimsOf(token, now);
    if (claims.client !== client) throw new TokenError('wrong_client');
    const cached = this.states.get(client, now);
    if (cached instanceof Promise) return this.checkState(claims, await cached, now);
    try {
      return this.checkState(claims, cached, now);
    } catch (error) {
      // A token issued after the cached state was read cannot be in it: on another instance,
      // whose change notice may not have arrived yet, a fresh token would be refused. Read the
      // store once for such a token; an older refused token costs no read.
      if (!this.issuedSinceCache(claims, now)) throw error;
      return this.checkState(claims, await this.store.getTokenState(client), now);
    }
  }

  /**
   * `verify` from the caches alone, synchronously: the verified token when the cached token state
   * lets it through; throws what `verify` would when the token itself is refused (form, signature,
   * claims, client); undefined when the state is not cached, or is cached but refuses a token that
   * `verify` would look up in the store (one issued since the state was read).
   */
  verifyCached(client: string, token: string): VerifiedToken | undefined {
    const now = this.clock();
    const claims = this.claimsOf(token, now);
    if (claims.client !== client) throw new TokenError('wrong_client');
    const state = this.states.peek(client, now);
    if (state === undefined) return undefined;
    try {
      return this.checkState(claims, state, now);
    } catch (error) {
      if (this.issuedSinceCache(claims, now)) return undefined;
      throw error;
    }
  }

  /** Whether the token may be newer than a cached state (issued within two cache lifetimes). */
  private issuedSinceCache(claims: TokenClaims, now: number): boolean {
    return claims.iat !== undefined && claims.iat * 1000 >= now - 2 * this.stateCacheMs - 1000;
  }

  /** Stops listening to store changes and drops the caches. */
  dispose(): void {
    this.unsubscribe();
    this.states.clear();
    this.verified.clear();
  }

  /** Claims of a token with a good signature: from the cache (exp and nbf re-checked) or by HMAC. */
  private claimsOf(token: string, now: number): TokenClaims {
    const nowSeconds = secondsOf(now);
    const cached = typeof token === 'string' ? this.verified.get(token) : undefined;
    if (cached === undefined) {
      const claims = verifySignature(token, this.keys, nowSeconds);
      this.verified.set(token, claims);
      return claims;
    }
    // Same comparisons as jsonwebtoken's, so the cached path never accepts what the HMAC path refuses.
    if (this.keys.get(cached.kid) === undefined) {
      // Its key was retired from the (live) ring since: a key id never changes its secret.
      this.verified.delete(token);
      throw new TokenError('bad_signature', 'The token was not signed with a key of this server');
    }
    if (nowSeconds >= cached.exp) {
      this.verified.delete(token);
      throw new TokenError('expired');
    }
    if (cached.nbf !== undefined && cached.nbf > nowSeconds) {
      throw new TokenError('invalid_claims', 'The token is not valid yet (nbf)');
    }
    return cached;
  }

  private checkState(claims: TokenClaims, state: TokenState, now: number): VerifiedToken {
    if (state.current !== null && state.current.jti === claims.jti) return verifiedToken(claims, null);
    for (const graced of state.graced) {
      if (graced.jti === claims.jti && graced.graceUntil > now) return verifiedToken(claims, graced.graceUntil);
    }
    throw new TokenError('revoked');
  }

  /**
   * `verify` against the store itself: no cached token state, no cached signature check. For a
   * request checked again after a long body (API.md 3.1), which must see a revocation or
   * regeneration made meanwhile on any instance, even one whose change notice has not arrived.
   */
  async verifyFresh(client: string, token: string): Promise<VerifiedToken> {
    const now = this.clock();
    const claims = verifySignature(token, this.keys, secondsOf(now));
    if (claims.client !== client) throw new TokenError('wrong_client');
    return this.checkState(claims, await this.store.getTokenState(client), now);
  }
}

/** What `verify` answers for a token whose claims and state check out (one object, on the hot path). */
function verifiedToken(claims: TokenClaims, graceUntil: number | null): VerifiedToken {
  return { client: claims.client, jti: claims.jti, kid: claims.kid, expiresAt: claims.exp * 1000, graceUntil };
}
