import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import {
  PostgresStore,
  SqliteStore,
  openSigningKeys,
  type Clock,
  type LiveSigningKeys,
  type Store,
} from '@profilegate/core';
import express from 'express';
import { adminKeyAuthenticator, handleExpectContinue, profileApi, type ProfileApiRouter } from '../index';
import { MIN_ADMIN_KEY_LENGTH, type DemoAdminKey, type DemoConfig, type DemoStoreConfig } from './config';

/** A running demo server. */
export interface DemoServer {
  /** Where it listens, e.g. `http://127.0.0.1:8080` (the real port when PORT was 0). */
  url: string;
  /** Stops accepting connections, lets in-flight requests finish, then closes the store. */
  close(): Promise<void>;
  /** The admin key generated on this start (first start without PROFILEGATE_ADMIN_KEYS only). */
  adminKeyGenerated?: string;
  /** The file the admin key was read from or saved in, when PROFILEGATE_ADMIN_KEYS is not set. */
  adminKeyFile?: string;
}

/** Options of startDemoServer. */
export interface DemoServerOptions {
  /** Receives one-line log messages (unexpected errors). Never given a key or a token. */
  log: (line: string) => void;
  /** How long `close()` waits for in-flight requests before cutting connections (default 10 s). */
  shutdownGraceMs?: number;
  /** How often the signing key file is read for changes, in ms (default 1000). */
  signingKeyPollMs?: number;
  /** The router's clock (default: the system clock); tests pass a fixed one. */
  clock?: Clock;
}

/** Name of the generated admin key's file in the data folder. */
export const ADMIN_KEY_FILE = 'admin-key';
/** Actor id of the generated admin key (shown in the audit log). */
export const GENERATED_ADMIN_ACTOR = 'admin';
/** Name of the signing key file in the data folder (unless PROFILEGATE_SIGNING_KEYS is set). */
export const SIGNING_KEY_FILE = 'signing-keys.json';

/** Starts the demo server of API.md section 4: Express, the router at `/`, an SQLite (or PostgreSQL) store. */
export async function startDemoServer(config: DemoConfig, options: DemoServerOptions): Promise<DemoServer> {
  const { log } = options;
  await ensurePrivateFolder(config.dataDir);
  const admin = await adminKeys(config);

  const store = await openStore(config.store);
  let server: Server;
  let api: ProfileApiRouter;
  let keys: LiveSigningKeys | undefined;
  try {
    // After the store: the keys are checked against the fingerprints the database records, and a
    // key file is only created when no instance uses keys yet.
    keys = await openSigningKeys({
      store,
      ...(config.signingKeys !== null
        ? { variable: { name: 'PROFILEGATE_SIGNING_KEYS', value: config.signingKeys } }
        : { file: join(config.dataDir, SIGNING_KEY_FILE) }),
      log,
      pollMs: options.signingKeyPollMs ?? 1000,
    });
    const signingKeys = keys.ring;
    const app = express();
    app.disable('x-powered-by');
    api = profileApi({
      clients: config.clients,
      store,
      signingKeys,
      authenticateAdmin: adminKeyAuthenticator(admin.keys),
      adminPage: true,
      bodyIdleTimeoutMs: config.bodyIdleTimeoutMs,
      ...(config.bulkRateLimit !== null ? { bulkRateLimit: config.bulkRateLimit } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      onError: (error, req) => log(`Unexpected error${req ? ` on ${req.method} ${req.path}` : ''}: ${describe(error)}`),
    });
    app.use(api);
    app.get('/', (_req, res) => {
      res.json({
        name: 'Profilegate demo server',
        openapi: '/openapi.json',
        clients: config.clients,
      });
    });
    server = await listen(app, config.port, config.host);
  } catch (error) {
    await keys?.close();
    await store.close();
    throw error;
  }
  const liveKeys = keys;

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  const result: DemoServer = {
    url: `http://${host}:${address.port}`,
    close: () => (closing ??= shutdown(server, api, liveKeys, store, options.shutdownGraceMs ?? 10_000)),
  };
  if (admin.file !== undefined) result.adminKeyFile = admin.file;
  if (admin.generated !== undefined) result.adminKeyGenerated = admin.generated;
  return result;
}

/** Creates the data folder with mode 0700; an existing folder is left as it is. */
async function ensurePrivateFolder(dir: string): Promise<void> {
  const created = await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is filtered by the umask; set it explicitly on what we created.
  if (created !== undefined && process.platform !== 'win32') await fs.chmod(dir, 0o700);
}

interface AdminKeys {
  keys: DemoAdminKey[];
  file?: string;
  generated?: string;
}

/** The configured keys, or the one in `data/admin-key` (generated and saved on first start). */
async function adminKeys(config: DemoConfig): Promise<AdminKeys> {
  if (config.adminKeys !== null) return { keys: config.adminKeys };
  const file = join(config.dataDir, ADMIN_KEY_FILE);
  const existing = await readAdminKey(file);
  if (existing !== null) return { keys: [{ key: existing, role: 'admin', actorId: GENERATED_ADMIN_ACTOR }], file };
  const key = randomBytes(32).toString('base64url');
  try {
    await fs.writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another process started at the same moment and wrote its key first: use that one.
    const other = await readAdminKey(file);
    if (other === null) throw error;
    return { keys: [{ key: other, role: 'admin', actorId: GENERATED_ADMIN_ACTOR }], file };
  }
  return { keys: [{ key, role: 'admin', actorId: GENERATED_ADMIN_ACTOR }], file, generated: key };
}

async function readAdminKey(file: string): Promise<string | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (process.platform !== 'win32') {
    const stat = await fs.stat(file);
    if ((stat.mode & 0o077) !== 0) await fs.chmod(file, 0o600);
  }
  const key = text.trim();
  if (key.length < MIN_ADMIN_KEY_LENGTH || /\s/.test(key)) {
    // The content is not quoted: it is (meant to be) a secret.
    throw new Error(
      `Admin key file ${file} is not valid (expected one key of at least ${MIN_ADMIN_KEY_LENGTH} characters). ` +
        'Delete it to generate a new key on the next start, or set PROFILEGATE_ADMIN_KEYS.',
    );
  }
  return key;
}

function listen(app: express.Express, port: number, host: string): Promise<Server> {
  return new Promise((resolvePromise, reject) => {
    // 100 Continue only for a request whose body is read: a refusal on its headers comes first.
    const server = handleExpectContinue(app.listen(port, host));
    const onError = (error: NodeJS.ErrnoException): void => {
      server.close();
      if (error.code === 'EADDRINUSE') {
        reject(new Error(`Port ${port} on ${host} is already in use; set PORT to another port (or 0 for a free one)`));
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
        reject(new Error(`Cannot listen on ${host}: no such local address; set HOST to e.g. 127.0.0.1`));
      } else if (error.code === 'EACCES') {
        reject(new Error(`Not allowed to listen on port ${port}; use a port above 1023 (set PORT)`));
      } else {
        reject(error);
      }
    };
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolvePromise(server);
    });
  });
}

/**
 * Stops accepting, lets in-flight requests finish (idle keep-alive connections are closed as soon
 * as they go idle; anything still open after `graceMs` is cut), waits for batches being applied
 * and flushes the audit log (`api.close()`), stops watching the signing keys, then closes the store.
 */
async function shutdown(
  server: Server,
  api: ProfileApiRouter,
  keys: LiveSigningKeys,
  store: Store,
  graceMs: number,
): Promise<void> {
  const stopped = new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  const force = setTimeout(() => server.closeAllConnections(), graceMs);
  try {
    await stopped;
  } finally {
    clearInterval(sweep);
    clearTimeout(force);
  }
  await api.close();
  await keys.close();
  await store.close();
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Opens the configured store; an SQLite file's folder is created private if missing. */
async function openStore(config: DemoStoreConfig): Promise<Store> {
  if (config.kind === 'postgres') return PostgresStore.open(config.url, { schema: config.schema });
  await fs.mkdir(dirname(config.path), { recursive: true, mode: 0o700 });
  return new SqliteStore(config.path);
}
