import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { ROLES, isValidClientCode, parseSigningKeys } from '@profilegate/core';
import { DEFAULT_BODY_IDLE_TIMEOUT_MS, MAX_BODY_IDLE_TIMEOUT_MS } from '../body-idle';
import type { AdminKey } from '../index';
import type { BulkRateLimit } from '../options';

/** One admin key from PROFILEGATE_ADMIN_KEYS (the shape `adminKeyAuthenticator` takes). */
export type DemoAdminKey = AdminKey;

/** Where the demo server keeps its profiles: an SQLite file, or a PostgreSQL database shared by instances. */
export type DemoStoreConfig =
  | {
      kind: 'sqlite';
      /** Absolute path of the database file. */
      path: string;
    }
  | {
      kind: 'postgres';
      /** Connection URL without the `schema` parameter. */
      url: string;
      /** Schema holding the tables (`?schema=` in PROFILEGATE_STORE; default public). */
      schema: string;
    };

/** The demo server's settings, read from the environment (API.md section 4). */
export interface DemoConfig {
  port: number;
  host: string;
  /** Absolute path of the data folder (database, signing keys, generated admin key). */
  dataDir: string;
  clients: string[];
  /** null: none configured; the server uses (or generates) the key in the data folder. */
  adminKeys: DemoAdminKey[] | null;
  store: DemoStoreConfig;
  /** The router's `bodyIdleTimeoutMs`: a request body that sends nothing this long gets 408. */
  bodyIdleTimeoutMs: number;
  /** The signing keys' JSON from PROFILEGATE_SIGNING_KEYS (checked); null: the key file in the data folder. */
  signingKeys: string | null;
  /** The router's `bulkRateLimit` (PROFILEGATE_BULK_RATE_LIMIT, `batches/seconds` or `off`); null: none. */
  bulkRateLimit: BulkRateLimit | null;
}

/**
 * Batches each client may send per window unless PROFILEGATE_BULK_RATE_LIMIT says otherwise: on by
 * default, so that a client cannot grow the database without bound (docs/disk-use.md).
 */
export const DEFAULT_DEMO_BULK_RATE_LIMIT: Readonly<BulkRateLimit> = Object.freeze({ max: 10, windowMs: 60_000 });
/** Longest window PROFILEGATE_BULK_RATE_LIMIT accepts: one day. */
const MAX_RATE_WINDOW_SECONDS = 86_400;

/** A wrong environment variable; the message names the variable and what is allowed. */
export class DemoConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'DemoConfigError';
  }
}

/** Shortest admin key accepted (same as `adminKeyAuthenticator`). */
export const MIN_ADMIN_KEY_LENGTH = 16;

const ADMIN_ROLES: readonly string[] = [...ROLES, 'sysadmin'];
const ACTOR_ID = /^[A-Za-z0-9_.@-]{1,64}$/;
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Reads and validates the demo server's environment. `cwd` resolves relative paths. Throws a
 * DemoConfigError for the first wrong variable; its message never contains an admin key or a
 * store URL (which may hold a password).
 */
export function loadDemoConfig(env: NodeJS.ProcessEnv, cwd: string): DemoConfig {
  const dataDir = resolve(cwd, value(env, 'PROFILEGATE_DATA') ?? 'data');
  return {
    port: parsePort(value(env, 'PORT')),
    host: parseHost(value(env, 'HOST')),
    dataDir,
    clients: parseClients(value(env, 'PROFILEGATE_CLIENTS')),
    adminKeys: parseAdminKeys(value(env, 'PROFILEGATE_ADMIN_KEYS')),
    store: parseStore(value(env, 'PROFILEGATE_STORE'), dataDir, cwd),
    bodyIdleTimeoutMs: parseBodyIdleTimeout(value(env, 'PROFILEGATE_BODY_IDLE_TIMEOUT_MS')),
    signingKeys: parseSigningKeysVariable(value(env, 'PROFILEGATE_SIGNING_KEYS')),
    bulkRateLimit: parseBulkRateLimit(value(env, 'PROFILEGATE_BULK_RATE_LIMIT')),
  };
}

/** The variable's value, trimmed; unset and blank both mean "use the default". */
function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined) return 8080;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new DemoConfigError(
      'PORT',
      `"${raw.slice(0, 20)}" is not a port; use a whole number from 0 to 65535 (0 picks a free port)`,
    );
  }
  return port;
}

function parseBodyIdleTimeout(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_BODY_IDLE_TIMEOUT_MS;
  const ms = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!(ms >= 1 && ms <= MAX_BODY_IDLE_TIMEOUT_MS)) {
    throw new DemoConfigError(
      'PROFILEGATE_BODY_IDLE_TIMEOUT_MS',
      `"${raw.slice(0, 20)}" is not a timeout; use a whole number of milliseconds from 1 to ${MAX_BODY_IDLE_TIMEOUT_MS} (default ${DEFAULT_BODY_IDLE_TIMEOUT_MS})`,
    );
  }
  return ms;
}

function parseBulkRateLimit(raw: string | undefined): BulkRateLimit | null {
  if (raw === undefined) return { ...DEFAULT_DEMO_BULK_RATE_LIMIT };
  if (raw.toLowerCase() === 'off') return null;
  const match = /^(\d{1,9})\s*\/\s*(\d{1,9})$/.exec(raw);
  const max = match ? Number(match[1]) : NaN;
  const seconds = match ? Number(match[2]) : NaN;
  if (!(max >= 1 && seconds >= 1 && seconds <= MAX_RATE_WINDOW_SECONDS)) {
    throw new DemoConfigError(
      'PROFILEGATE_BULK_RATE_LIMIT',
      `"${raw.slice(0, 30)}" is not a rate limit; give batches/seconds per client, e.g. 10/60 (the default), with at most ${MAX_RATE_WINDOW_SECONDS} seconds, or off`,
    );
  }
  return { max, windowMs: seconds * 1000 };
}

function parseHost(raw: string | undefined): string {
  if (raw === undefined) return '127.0.0.1';
  const host = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  if (isIP(host) === 0 && !HOST_NAME.test(host)) {
    throw new DemoConfigError(
      'HOST',
      `"${raw.slice(0, 64)}" is not an IP address or host name; use e.g. 127.0.0.1, ::1 or 0.0.0.0`,
    );
  }
  return host;
}

function parseClients(raw: string | undefined): string[] {
  if (raw === undefined) return ['demo'];
  const clients: string[] = [];
  for (const item of raw.split(',')) {
    const code = item.trim();
    if (code === '') continue;
    if (!isValidClientCode(code)) {
      throw new DemoConfigError(
        'PROFILEGATE_CLIENTS',
        `"${code.slice(0, 70)}" is not a client code; each comma-separated code must be 1 to 64 characters of a-z, 0-9 and "-", starting with a letter or digit`,
      );
    }
    if (!clients.includes(code)) clients.push(code);
  }
  if (clients.length === 0) {
    throw new DemoConfigError(
      'PROFILEGATE_CLIENTS',
      'give at least one client code, e.g. demo,acme (or unset it for "demo")',
    );
  }
  return clients;
}

function parseAdminKeys(raw: string | undefined): DemoAdminKey[] | null {
  if (raw === undefined) return null;
  const keys: DemoAdminKey[] = [];
  const seen = new Set<string>();
  const entries = raw.split(',').map((entry) => entry.trim());
  entries.forEach((entry, index) => {
    if (entry === '') return;
    // Never quote the entry: it holds the key.
    const where = `entry ${index + 1}`;
    const parts = entry.split(':');
    if (parts.length < 2 || parts.length > 3) {
      throw new DemoConfigError(
        'PROFILEGATE_ADMIN_KEYS',
        `${where} must be key:role or key:role:actorId (comma-separated; the key may not contain ":" or ",")`,
      );
    }
    const [key, role, actorId] = parts as [string, string, string | undefined];
    if (key.length < MIN_ADMIN_KEY_LENGTH) {
      throw new DemoConfigError(
        'PROFILEGATE_ADMIN_KEYS',
        `the key of ${where} is shorter than ${MIN_ADMIN_KEY_LENGTH} characters; use a long random key`,
      );
    }
    if (/\s/.test(key)) {
      throw new DemoConfigError(
        'PROFILEGATE_ADMIN_KEYS',
        `the key of ${where} contains white space; use e.g. letters, digits, "-" and "_"`,
      );
    }
    if (!ADMIN_ROLES.includes(role)) {
      throw new DemoConfigError(
        'PROFILEGATE_ADMIN_KEYS',
        // Not echoed either: with a ":" inside a key, this part may be a piece of the key.
        `the role of ${where} must be one of ${ADMIN_ROLES.join(', ')}`,
      );
    }
    if (actorId !== undefined && !ACTOR_ID.test(actorId)) {
      throw new DemoConfigError(
        'PROFILEGATE_ADMIN_KEYS',
        `the actorId of ${where} must be 1 to 64 characters of A-Z, a-z, 0-9, "_", ".", "@" or "-"`,
      );
    }
    if (seen.has(key))
      throw new DemoConfigError('PROFILEGATE_ADMIN_KEYS', `the key of ${where} is listed twice; give each key once`);
    seen.add(key);
    keys.push(
      actorId === undefined
        ? { key, role: role as DemoAdminKey['role'] }
        : { key, role: role as DemoAdminKey['role'], actorId },
    );
  });
  if (keys.length === 0) {
    throw new DemoConfigError(
      'PROFILEGATE_ADMIN_KEYS',
      'give at least one key:role[:actorId] entry, or unset it to use a generated key',
    );
  }
  return keys;
}

function parseStore(raw: string | undefined, dataDir: string, cwd: string): DemoStoreConfig {
  if (raw === undefined) return { kind: 'sqlite', path: resolve(dataDir, 'profiles.db') };
  if (/^postgres(ql)?:\/\//i.test(raw)) return parsePostgres(raw);
  if (!raw.startsWith('sqlite:')) {
    throw new DemoConfigError(
      'PROFILEGATE_STORE',
      'must be sqlite:<path of the database file> (e.g. sqlite:./data/profiles.db) or postgres://user@host:5432/database',
    );
  }
  let path = raw.slice('sqlite:'.length);
  // Accept the URL-ish spelling too: sqlite:///var/lib/x.db and sqlite://./x.db.
  if (path.startsWith('//')) path = path.slice(2);
  if (path === '' || path === ':memory:') {
    throw new DemoConfigError(
      'PROFILEGATE_STORE',
      'sqlite: needs the path of a database file (e.g. sqlite:./data/profiles.db); in-memory databases are not supported',
    );
  }
  return { kind: 'sqlite', path: resolve(cwd, path) };
}

function parsePostgres(raw: string): DemoStoreConfig {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The URL is not repeated: it usually holds a password.
    throw new DemoConfigError(
      'PROFILEGATE_STORE',
      'is not a valid postgres:// URL (postgres://user:password@host:5432/db)',
    );
  }
  const schema = url.searchParams.get('schema') ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema) || schema.startsWith('pg_')) {
    throw new DemoConfigError(
      'PROFILEGATE_STORE',
      '?schema= must be a plain lower-case identifier not starting with pg_',
    );
  }
  url.searchParams.delete('schema');
  return { kind: 'postgres', url: url.toString(), schema };
}

const SIGNING_KEYS = 'PROFILEGATE_SIGNING_KEYS';

/** Checks the keys now, so a wrong value stops the start with exit 2; the message never holds a secret. */
function parseSigningKeysVariable(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  try {
    parseSigningKeys(raw, { variable: SIGNING_KEYS });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DemoConfigError(
      SIGNING_KEYS,
      message.startsWith(`${SIGNING_KEYS} `) ? message.slice(SIGNING_KEYS.length + 1) : message,
    );
  }
  return raw;
}
