import type { Actor, BatchLimits, Clock, KeyRing, Store } from '@profilegate/core';
import type { Request } from 'express';

/** Returns the admin actor behind a request, or null (answered 401). May be async. */
export type AuthenticateAdmin = (req: Request) => Actor | null | Promise<Actor | null>;

/** Per-client limit on bulk-update requests; over it the route answers 429 with Retry-After. */
export interface BulkRateLimit {
  /** Requests allowed per window and client. */
  max: number;
  /** Window length in milliseconds. */
  windowMs: number;
}

/** Options of `profileApi()` (and of `requireProfileToken()` and `profileTracker()`). */
export interface ProfileApiOptions {
  /** Client codes served (`^[a-z0-9][a-z0-9-]{0,63}$`); any other client gets 404. */
  clients: readonly string[];
  /** Where profiles, batches, settings, token state and audit events live. */
  store: Store;
  /** Signing keys of profile tokens (kept outside the store); see `loadOrCreateKeyRing`. */
  signingKeys: KeyRing;
  /** Authenticates admin-route callers; `adminKeyAuthenticator(keys)` is a ready one. */
  authenticateAdmin: AuthenticateAdmin;
  /** Batch body limits (defaults: 50 MB, 500,000 rows). */
  limits?: Partial<BatchLimits & { maxUpdateQueryBytes: number; maxUpdateBodyBytes: number }>;
  /** Optional per-client rate limit of the two batchUpdate routes. */
  bulkRateLimit?: BulkRateLimit;
  /** Serve the admin page at `/:client/target/admin` (default false). */
  adminPage?: boolean;
  /** How long token state and settings may be cached per instance, in ms (default 1000). */
  cacheMs?: number;
  /** Folder for temporary batch files (default: the OS temp folder). */
  spoolDir?: string;
  /**
   * Delete the profiles each client's `profileRetentionDays` lets expire (API.md 5): at start and
   * every 30 minutes, in small transactions (default true). Safe on every instance sharing one
   * PostgreSQL database; turn it off only where another process sweeps the same store.
   */
  retentionSweep?: boolean;
  /** Receives unexpected errors (never bad input) for logging; default prints a one-line summary. */
  onError?: (error: unknown, req?: Request) => void;
  /**
   * A request body (batch, single-update form, admin JSON) that sends nothing for this many ms is
   * answered 408 and its connection closed; nothing of it is applied (default 30,000).
   */
  bodyIdleTimeoutMs?: number;
  /** Injected clock for tests. */
  clock?: Clock;
}
