import {
  DEFAULT_BATCH_LIMITS,
  OptionChecks,
  ProfileAccess,
  ProfileService,
  isValidClientCode,
  systemClock,
  type BatchLimits,
  type Clock,
} from '@profilegate/core';
import type { Request } from 'express';
import { DEFAULT_BODY_IDLE_TIMEOUT_MS, MAX_BODY_IDLE_TIMEOUT_MS } from './body-idle';
import type { AuthenticateAdmin, BulkRateLimit, ProfileApiOptions } from './options';
import { ExportsUnderWay } from './routes/exports-under-way';

/** Resolved limits of the router. */
export interface Limits extends BatchLimits {
  maxUpdateQueryBytes: number;
  maxUpdateBodyBytes: number;
}

/** Everything a route needs, built and validated once when the router is created. */
export interface Runtime {
  clients: ReadonlySet<string>;
  /** The access decision, and the token, settings and audit services admin routes use. */
  access: ProfileAccess;
  profiles: ProfileService;
  authenticateAdmin: AuthenticateAdmin;
  limits: Limits;
  bulkRateLimit: BulkRateLimit | undefined;
  adminPage: boolean;
  /** Whether the router runs the retention sweep (RetentionSweeper). */
  retentionSweep: boolean;
  /** How long a request body may send nothing before it is answered 408. */
  bodyIdleTimeoutMs: number;
  clock: Clock;
  onError: (error: unknown, req?: Request) => void;
  /** The exports being streamed, which the router's close() ends. */
  exports: ExportsUnderWay;
}

const LIMIT_NAMES = ['maxBytes', 'maxRows', 'maxUpdateQueryBytes', 'maxUpdateBodyBytes'];

const STORE_METHODS = ['getProfile', 'updateProfile', 'createBatch', 'applyBatch', 'getSettings', 'getTokenState'];

/** Validates the options (OptionsError naming the option) and builds the services. */
export function createRuntime(options: ProfileApiOptions): Runtime {
  const check: OptionChecks = new OptionChecks('profileApi');
  check.object(options);
  const clients = validateClients(check, options.clients);
  check.methods(
    'store',
    options.store,
    STORE_METHODS,
    'must implement Store (SqliteStore, MemoryStore or PostgresStore from @profilegate/core)',
  );
  if (typeof options.authenticateAdmin !== 'function') {
    check.fail('authenticateAdmin', 'must be a function (req) => Actor | null; adminKeyAuthenticator(keys) is one');
  }
  const limits = validateLimits(check, options.limits);
  const bulkRateLimit = options.bulkRateLimit;
  if (bulkRateLimit !== undefined) {
    if (typeof bulkRateLimit !== 'object' || bulkRateLimit === null) {
      check.fail('bulkRateLimit', 'must be an object { max, windowMs }, or left out');
    }
    if (!Number.isSafeInteger(bulkRateLimit.max) || bulkRateLimit.max <= 0) {
      check.fail('bulkRateLimit.max', 'must be a positive integer');
    }
    if (!Number.isSafeInteger(bulkRateLimit.windowMs) || bulkRateLimit.windowMs <= 0) {
      check.fail('bulkRateLimit.windowMs', 'must be a positive integer (milliseconds)');
    }
  }
  if (options.adminPage !== undefined && typeof options.adminPage !== 'boolean') {
    check.fail('adminPage', 'must be true (serve the admin page) or false');
  }
  if (options.retentionSweep !== undefined && typeof options.retentionSweep !== 'boolean') {
    check.fail('retentionSweep', 'must be true (delete expired profiles) or false');
  }
  // Only a missing option takes the default: null (perhaps meant as "off") is refused, not ignored.
  const bodyIdleTimeoutMs = check.number('bodyIdleTimeoutMs', options.bodyIdleTimeoutMs, {
    fallback: DEFAULT_BODY_IDLE_TIMEOUT_MS,
    min: 1,
    max: MAX_BODY_IDLE_TIMEOUT_MS,
    unit: 'milliseconds',
  });
  const clock = check.func('clock', options.clock, systemClock);
  const onError = check.func('onError', options.onError, defaultOnError);
  if (options.spoolDir !== undefined && typeof options.spoolDir !== 'string') {
    check.fail('spoolDir', 'must be a folder path, or left out (the OS temp folder)');
  }
  // Last: it checks signingKeys and cacheMs, then starts listening to the store.
  const access = new ProfileAccess({
    store: options.store,
    signingKeys: options.signingKeys,
    cacheMs: options.cacheMs,
    clock,
    factory: 'profileApi',
  });
  return {
    clients,
    access,
    profiles: new ProfileService({
      store: options.store,
      clock,
      batchLimits: limits,
      spoolDir: options.spoolDir,
      onBatchError: (batchId, error) => onError(new Error(`Batch ${batchId} could not be applied: ${describe(error)}`)),
    }),
    authenticateAdmin: options.authenticateAdmin,
    limits,
    bulkRateLimit,
    adminPage: options.adminPage ?? false,
    retentionSweep: options.retentionSweep ?? true,
    bodyIdleTimeoutMs,
    clock,
    onError,
    exports: new ExportsUnderWay(),
  };
}

function validateLimits(check: OptionChecks, given: unknown): Limits {
  if (given === undefined) given = {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    check.fail('limits', `must be an object with some of ${LIMIT_NAMES.join(', ')}`);
  }
  for (const name of Object.keys(given)) {
    // A misspelt limit would otherwise be ignored silently and the default would apply.
    if (!LIMIT_NAMES.includes(name)) check.fail(`limits.${name}`, `is not a limit; use ${LIMIT_NAMES.join(', ')}`);
  }
  const limits: Limits = {
    ...DEFAULT_BATCH_LIMITS,
    maxUpdateQueryBytes: 8 * 1024,
    maxUpdateBodyBytes: 60 * 1024,
    ...(given as Partial<Limits>),
  };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) check.fail(`limits.${name}`, 'must be a positive integer');
  }
  return limits;
}

function validateClients(check: OptionChecks, clients: unknown): ReadonlySet<string> {
  if (!Array.isArray(clients) || clients.length === 0) {
    check.fail('clients', 'must be a non-empty array of client codes, e.g. ["demo"]');
  }
  for (const client of clients) {
    if (typeof client !== 'string' || !isValidClientCode(client)) {
      check.fail('clients', `holds ${JSON.stringify(client)}: a client code must match ^[a-z0-9][a-z0-9-]{0,63}$`);
    }
  }
  return new Set(clients as string[]);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function defaultOnError(error: unknown, req?: Request): void {
  const where = req ? ` (${req.method} ${req.path})` : '';
  console.error(`profilegate: unexpected error${where}: ${describe(error)}`);
}
