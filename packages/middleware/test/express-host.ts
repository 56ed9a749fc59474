/**
 * A host app for express-majors.test.ts, run as a child process so that the middleware resolves
 * `express` as it does in a real host app: `node --require scripts/express-major.cjs express-host.js`
 * with PROFILEGATE_EXPRESS=4 or 5. Prints one JSON line (the Express versions it runs and the
 * origins of its two apps), then serves until its stdin ends.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeyRing, MemoryStore, generateSigningKey, type Store } from '@profilegate/core';
import type { Express } from 'express';
import { profileApi, profileTracker, requireProfileToken } from '../src';

/** What the child prints once it listens. */
export interface HostReady {
  /** Version of the host app's own express. */
  hostExpress: string;
  /** Version of the express the middleware's `require('express')` gets. */
  middlewareExpress: string;
  /** Origin of the app with `trust proxy` set to 'loopback'. */
  trusted: string;
  /** Origin of the app with the default `trust proxy` (off). */
  untrusted: string;
}

/** Written to stderr just before the control route reads `req.host` (deprecated on Express 4). */
export const CONTROL_MARKER = '--- control: reading req.host ---';

export const CLIENT = 'acme';

/** Store methods that are synchronous (listeners) or needed to shut down: they keep working. */
const ALWAYS_WORKING = new Set(['onChange', 'onSigningKeysChange', 'close']);

/** A store whose async methods reject, except those named in `working`. */
function failingStore(inner: Store, working: ReadonlySet<string>): Store {
  return new Proxy(inner, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      if (typeof name !== 'string' || working.has(name) || ALWAYS_WORKING.has(name)) return value.bind(target);
      return () => Promise.reject(new Error(`the store is down (${name})`));
    },
  });
}

async function openStore(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.putSettings(CLIENT, { requireAuthentication: false });
  return store;
}

async function buildApp(express: () => Express, trustProxy: boolean): Promise<Express> {
  const app = express();
  if (trustProxy) app.set('trust proxy', 'loopback');
  const signingKeys = new KeyRing([generateSigningKey(Date.now())]);
  const store = await openStore();
  const quiet = { onError: () => undefined };
  app.use(
    '/api',
    profileApi({
      clients: [CLIENT],
      store,
      signingKeys,
      authenticateAdmin: async () => ({ id: 'ops', role: 'admin' }),
      ...quiet,
    }),
  );
  // Settings work (the routes are open), every other store call and the admin sign-in reject.
  app.use(
    '/store-down',
    profileApi({
      clients: [CLIENT],
      store: failingStore(await openStore(), new Set(['getSettings'])),
      signingKeys,
      authenticateAdmin: async () => Promise.reject(new Error('the directory is down')),
      ...quiet,
    }),
  );
  // Even the gate's settings read rejects.
  const allDown = failingStore(await openStore(), new Set());
  app.use(
    '/gate-down',
    profileApi({ clients: [CLIENT], store: allDown, signingKeys, authenticateAdmin: () => null, ...quiet }),
  );
  app.get('/host/data', requireProfileToken({ store, signingKeys, client: CLIENT }), (_req, res) => {
    res.json({ data: 'open' });
  });
  app.get('/host/gate-down', requireProfileToken({ store: allDown, signingKeys, client: CLIENT }), (_req, res) => {
    res.json({ data: 'open' });
  });
  app.get('/site', profileTracker({ store, client: CLIENT, onError: () => undefined }), (_req, res) => {
    res.json({ page: 'home' });
  });
  app.get('/control/req-host', (req, res) => {
    process.stderr.write(`${CONTROL_MARKER}\n`);
    res.json({ host: req.host });
  });
  return app;
}

function listen(app: Express): Promise<string> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(app);
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

async function main(): Promise<void> {
  const major = process.env['PROFILEGATE_EXPRESS'];
  // The host's own express: on Express 4 the alias itself, as a host app would have it installed.
  const hostPackage = major === '4' ? 'express4' : 'express';
  const express = require(hostPackage) as () => Express;
  const ready: HostReady = {
    hostExpress: (require(`${hostPackage}/package.json`) as { version: string }).version,
    middlewareExpress: (require('express/package.json') as { version: string }).version,
    trusted: await listen(await buildApp(express, true)),
    untrusted: await listen(await buildApp(express, false)),
  };
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`express-host failed to start: ${String(error)}\n`);
    process.exit(1);
  });
}
