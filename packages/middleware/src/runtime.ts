import {
  AuditLog,
  DEFAULT_BATCH_LIMITS,
  KeyRing,
  ProfileService,
  SettingsService,
  TokenService,
  isValidClientCode,
  systemClock,
  type BatchLimits,
  type Clock,
  type Store,
} from '@profilegate/core';
import type { Request } from 'express';
import { DEFAULT_BODY_IDLE_TIMEOUT_MS, MAX_BODY_IDLE_TIMEOUT_MS } from './body-idle';
import type { AuthenticateAdmin, BulkRateLimit, ProfileApiOptions } from './options';

/** Resolved limits of the router. */
export interface Limits extends BatchLimits {
  maxUpdateQueryBytes: number;
  maxUpdateBodyBytes: number;
}

/** Everything a route needs, built and validated once when the router is created. */
export interface Runtime {
  clients: ReadonlySet<string>;
  store: Store;
  tokens: TokenService;
  settings: SettingsService;
  profiles: ProfileService;
  audit: AuditLog;
  authenticateAdmin: AuthenticateAdmin;
  limits: Limits;
  bulkRateLimit: BulkRateLimit | undefined;
  adminPage: boolean;
  /** How long a request body may send nothing before it is answered 408. */
  bodyIdleTimeoutMs: number;
  clock: Clock;
  onError: (error: unknown, req?: Request) => void;
}

/** Thrown when the router's options are wrong: a programming error, reported at start-up. */
export class OptionsError extends TypeError {
  constructor(message: string) {
    super(`profileApi: ${message}`);
    this.name = 'OptionsError';
  }
}

const LIMIT_NAMES = ['maxBytes', 'maxRows', 'maxUpdateQueryBytes', 'maxUpdateBodyBytes'];

const STORE_METHODS = ['getProfile', 'updateProfile', 'createBatch', 'applyBatch', 'getSettings', 'getTokenState'];

/** Validates the options and builds the services. */
export function createRuntime(options: ProfileApiOptions): Runtime {
  if (typeof options !== 'object' || options === null) throw new OptionsError('options must be an object');
  const clients = validateClients(options.clients);
  validateStore(options.store);
  if (!(options.signingKeys instanceof KeyRing)) {
    throw new OptionsError('signingKeys must be a KeyRing (see loadOrCreateKeyRing in @profilegate/core)');
  }
  if (typeof options.authenticateAdmin !== 'function') {
    throw new OptionsError(
      'authenticateAdmin must be a function (req) => Actor | null; adminKeyAuthenticator(keys) is one',
    );
  }
  const given: unknown = options.limits ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new OptionsError(`limits must be an object with some of ${LIMIT_NAMES.join(', ')}`);
  }
  for (const name of Object.keys(given)) {
    // A misspelt limit would otherwise be ignored silently and the default would apply.
    if (!LIMIT_NAMES.includes(name))
      throw new OptionsError(`limits.${name} is not a limit; use ${LIMIT_NAMES.join(', ')}`);
  }
  const limits: Limits = {
    ...DEFAULT_BATCH_LIMITS,
    maxUpdateQueryBytes: 8 * 1024,
    maxUpdateBodyBytes: 60 * 1024,
    ...(given as Partial<Limits>),
  };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new OptionsError(`limits.${name} must be a positive integer`);
  }
  const bulkRateLimit = options.bulkRateLimit;
  if (bulkRateLimit !== undefined) {
    if (typeof bulkRateLimit !== 'object' || bulkRateLimit === null) {
      throw new OptionsError('bulkRateLimit must be an object { max, windowMs }, or left out');
    }
    if (!Number.isSafeInteger(bulkRateLimit.max) || bulkRateLimit.max <= 0) {
      throw new OptionsError('bulkRateLimit.max must be a positive integer');
    }
    if (!Number.isSafeInteger(bulkRateLimit.windowMs) || bulkRateLimit.windowMs <= 0) {
      throw new OptionsError('bulkRateLimit.windowMs must be a positive integer (milliseconds)');
    }
  }
  if (options.adminPage !== undefined && typeof options.adminPage !== 'boolean') {
    throw new OptionsError('adminPage must be true (serve the admin page) or false');
  }
  const cacheMs = options.cacheMs ?? 1000;
  if (!Number.isSafeInteger(cacheMs) || cacheMs < 0) throw new OptionsError('cacheMs must be a non-negative integer');
  // Only a missing option takes the default: null (perhaps meant as "off") is refused, not ignored.
  const bodyIdleTimeoutMs =
    options.bodyIdleTimeoutMs === undefined ? DEFAULT_BODY_IDLE_TIMEOUT_MS : options.bodyIdleTimeoutMs;
  if (
    !Number.isSafeInteger(bodyIdleTimeoutMs) ||
    bodyIdleTimeoutMs < 1 ||
    bodyIdleTimeoutMs > MAX_BODY_IDLE_TIMEOUT_MS
  ) {
    throw new OptionsError(
      `bodyIdleTimeoutMs must be a whole number of milliseconds from 1 to ${MAX_BODY_IDLE_TIMEOUT_MS} (default ${DEFAULT_BODY_IDLE_TIMEOUT_MS})`,
    );
  }
  const clock = options.clock ?? systemClock;
  const onError = options.onError ?? defaultOnError;
  const audit = new AuditLog({ store: options.store, clock });
  return {
    clients,
    store: options.store,
    tokens: new TokenService({ store: options.store, keys: options.signingKeys, clock, stateCacheMs: cacheMs, audit }),
    settings: new SettingsService(options.store, audit, cacheMs, clock),
    profiles: new ProfileService({
      store: options.store,
      clock,
      batchLimits: limits,
      spoolDir: options.spoolDir,
      onBatchError: (batchId, error) => onError(new Error(`Batch ${batchId} could not be applied: ${describe(error)}`)),
    }),
    audit,
    authenticateAdmin: options.authenticateAdmin,
    limits,
    bulkRateLimit,
    adminPage: options.adminPage ?? false,
    bodyIdleTimeoutMs,
    clock,
    onError,
  };
}

function validateClients(clients: unknown): ReadonlySet<string> {
  if (!Array.isArray(clients) || clients.length === 0) {
    throw new OptionsError('clients must be a non-empty array of client codes, e.g. ["demo"]');
  }
  for (const client of clients) {
    if (typeof client !== 'string' || !isValidClientCode(client)) {
      throw new OptionsError(`client code ${JSON.stringify(client)} must match ^[a-z0-9][a-z0-9-]{0,63}$`);
    }
  }
  return new Set(clients as string[]);
}

function validateStore(store: unknown): void {
  const missing = STORE_METHODS.filter(
    (m) => typeof store !== 'object' || store === null || typeof (store as Record<string, unknown>)[m] !== 'function',
  );
  if (missing.length > 0) {
    throw new OptionsError(
      'store must implement Store (SqliteStore, MemoryStore or PostgresStore from @profilegate/core)',
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function defaultOnError(error: unknown, req?: Request): void {
  const where = req ? ` (${req.method} ${req.path})` : '';
  console.error(`profilegate: unexpected error${where}: ${describe(error)}`);
}
