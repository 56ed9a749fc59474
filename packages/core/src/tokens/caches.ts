import type { Store, TokenState } from '../store/types';
import type { TokenClaims } from './jwt';

/**
 * Token string → claims of a token whose signature already checked out, least recently used
 * evicted first. Only valid tokens get in, so a flood of forged tokens cannot churn it.
 *
 * Entries are found by the token's signature (its last 43 characters) and hold the whole token,
 * which a hit must equal: hashing the signature instead of the whole token (about 200
 * characters) is most of a lookup's cost, and every request's token is a new string whose hash
 * is not known yet.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { token: string; claims: TokenClaims }>();
  /** The entry used last, always one of `entries` and the last in their order: a hit on it needs no lookup. */
  private newest: { token: string; claims: TokenClaims } | undefined;

  constructor(private readonly maxSize: number) {}

  /** The cached claims, marked as just used. */
  get(token: string): TokenClaims | undefined {
    // Most requests carry the token used last: one comparison, no slice and no hashing.
    const newest = this.newest;
    if (newest !== undefined && newest.token === token) return newest.claims;
    const key = signatureOf(token);
    const entry = this.entries.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    // Not the newest (that one was answered above): move it to the end.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.newest = entry;
    return entry.claims;
  }

  /** Caches claims, evicting the least recently used entry when full. */
  set(token: string, claims: TokenClaims): void {
    if (this.maxSize <= 0) return;
    const key = signatureOf(token);
    this.entries.delete(key);
    if (this.entries.size >= this.maxSize) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.newest = { token, claims };
    this.entries.set(key, this.newest);
  }

  delete(token: string): void {
    const key = signatureOf(token);
    const entry = this.entries.get(key);
    if (entry?.token !== token) return;
    this.entries.delete(key);
    if (entry === this.newest) this.newest = undefined;
  }

  clear(): void {
    this.entries.clear();
    this.newest = undefined;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The text after a token's last dot (the whole token when it has none). */
function signatureOf(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1);
}

interface CachedState {
  state: TokenState;
  fetchedAt: number;
}

/** Most clients a state cache remembers; clients are configured, so this is only a safety net. */
const MAX_CLIENTS = 10_000;

/**
 * Token state per client, kept for `ttlMs` and dropped at once by `invalidate` (wired to the
 * store's change events). Concurrent misses for one client share one store read, and a read that
 * overlapped an invalidation is used once but never cached, so a stale state cannot outlive the
 * change that made it stale.
 */
export class TokenStateCache {
  private readonly states = new Map<string, CachedState>();
  private readonly pending = new Map<string, Promise<TokenState>>();
  private readonly generations = new Map<string, number>();
  /** Bumped by `clear`, which invalidates every client at once. */
  private epoch = 0;

  constructor(
    private readonly store: Store,
    private readonly ttlMs: number,
  ) {}

  /** The client's token state: synchronously when cached, else a store read. */
  get(client: string, now: number): TokenState | Promise<TokenState> {
    // Nothing is kept (ttlMs 0): every check reads the store itself.
    if (this.ttlMs === 0) return this.store.getTokenState(client);
    return this.peek(client, now) ?? this.pending.get(client) ?? this.fetch(client, now);
  }

  /** The client's cached token state while it is fresh, else undefined; never reads the store. */
  peek(client: string, now: number): TokenState | undefined {
    const cached = this.states.get(client);
    if (cached !== undefined && now - cached.fetchedAt < this.ttlMs && now >= cached.fetchedAt) return cached.state;
    return undefined;
  }

  /** Forgets the client's state (a token was generated or revoked, here or on another instance). */
  invalidate(client: string): void {
    this.states.delete(client);
    this.pending.delete(client);
    this.generations.set(client, (this.generations.get(client) ?? 0) + 1);
  }

  /** Forgets every state; reads already under way are not cached either. */
  clear(): void {
    this.states.clear();
    this.pending.clear();
    this.epoch++;
  }

  private fetch(client: string, now: number): Promise<TokenState> {
    const generation = this.generations.get(client) ?? 0;
    const epoch = this.epoch;
    const read = this.store.getTokenState(client).then(
      (state) => {
        if (this.pending.get(client) === read) this.pending.delete(client);
        if (this.ttlMs > 0 && (this.generations.get(client) ?? 0) === generation && this.epoch === epoch) {
          if (this.states.size >= MAX_CLIENTS && !this.states.has(client)) this.states.clear();
          this.states.set(client, { state, fetchedAt: now });
        }
        return state;
      },
      (error: unknown) => {
        if (this.pending.get(client) === read) this.pending.delete(client);
        throw error;
      },
    );
    this.pending.set(client, read);
    return read;
  }
}
