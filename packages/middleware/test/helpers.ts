/** Shared setup of the middleware's supertest suites. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KeyRing,
  MemoryStore,
  SqliteStore,
  generateSigningKey,
  type Actor,
  type Clock,
  type Store,
} from '@profilegate/core';
import express, { type Express, type Request } from 'express';
import request from 'supertest';
import { adminKeyAuthenticator, profileApi, type ProfileApiOptions } from '../src';

/** One admin key per role (all at least 16 characters). */
export const ADMIN_KEYS = {
  observer: 'observer-key-0123456789',
  editor: 'editor-key-0123456789',
  approver: 'approver-key-0123456789',
  publisher: 'publisher-key-0123456789',
  admin: 'admin-key-0123456789',
  sysadmin: 'sysadmin-key-0123456789',
  workspaceAdmin: 'workspace-admin-key-0123456789',
  workspaceEditor: 'workspace-editor-key-0123456789',
} as const;

export type AdminWho = keyof typeof ADMIN_KEYS;

/** Actor ids the keys authenticate as. */
export const ACTOR_IDS: Record<AdminWho, string> = {
  observer: 'obs',
  editor: 'ed',
  approver: 'appr',
  publisher: 'pub',
  admin: 'ops',
  sysadmin: 'root',
  workspaceAdmin: 'ws-admin',
  workspaceEditor: 'ws-editor',
};

const keyAuth = adminKeyAuthenticator([
  { key: ADMIN_KEYS.observer, role: 'observer', actorId: ACTOR_IDS.observer },
  { key: ADMIN_KEYS.editor, role: 'editor', actorId: ACTOR_IDS.editor },
  { key: ADMIN_KEYS.approver, role: 'approver', actorId: ACTOR_IDS.approver },
  { key: ADMIN_KEYS.publisher, role: 'publisher', actorId: ACTOR_IDS.publisher },
  { key: ADMIN_KEYS.admin, role: 'admin', actorId: ACTOR_IDS.admin },
  { key: ADMIN_KEYS.sysadmin, role: 'sysadmin', actorId: ACTOR_IDS.sysadmin },
]);

/** The host's authenticateAdmin: the ready key authenticator plus two workspace actors (async). */
export async function authenticateAdmin(req: Request): Promise<Actor | null> {
  const actor = await keyAuth(req);
  if (actor) return actor;
  const header = req.headers.authorization;
  if (header === `Bearer ${ADMIN_KEYS.workspaceAdmin}`) {
    return { id: ACTOR_IDS.workspaceAdmin, role: 'observer', workspaceRoles: { ws1: 'admin' } };
  }
  if (header === `Bearer ${ADMIN_KEYS.workspaceEditor}`) {
    return { id: ACTOR_IDS.workspaceEditor, workspaceRoles: { ws1: 'editor', ws2: 'publisher' } };
  }
  return null;
}

/** A clock that follows real time plus an offset the test moves. */
export interface TestClock extends Clock {
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offset = 0;
  const clock = (() => Date.now() + offset) as TestClock;
  clock.advance = (ms: number) => {
    offset += ms;
  };
  return clock;
}

export interface AppOptions extends Partial<Omit<ProfileApiOptions, 'store' | 'signingKeys'>> {
  store?: Store;
  signingKeys?: KeyRing;
  /** Mount path of the router (default: root). */
  mount?: string;
  trustProxy?: boolean;
  /** requireAuthentication of every client at start (default false: open; null: leave the store's default). */
  requireAuth?: boolean | null;
}

/** A test app listening on an ephemeral port of 127.0.0.1. */
export interface TestApp {
  app: Express;
  server: http.Server;
  store: Store;
  keys: KeyRing;
  clock: TestClock;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** The mount path ('' at the root). */
  mount: string;
  /** supertest bound to the listening server (so absolute URLs it returns work). */
  http: ReturnType<typeof request>;
  /** Errors passed to onError. */
  errors: unknown[];
  close(): Promise<void>;
}

export const CLIENT = 'acme';
export const OTHER_CLIENT = 'globex';

/** Builds `express()` + `profileApi()` on a MemoryStore (or the given store) and listens. */
export async function startApp(options: AppOptions = {}): Promise<TestApp> {
  const { mount = '', trustProxy = false, requireAuth = false, ...rest } = options;
  const store = options.store ?? new MemoryStore();
  const keys = options.signingKeys ?? new KeyRing([generateSigningKey(Date.now())]);
  const clock = (options.clock as TestClock | undefined) ?? testClock();
  const errors: unknown[] = [];
  const app = express();
  if (trustProxy) app.set('trust proxy', true);
  const clients = options.clients ?? [CLIENT, OTHER_CLIENT];
  const router = profileApi({
    ...rest,
    clients,
    store,
    signingKeys: keys,
    authenticateAdmin: options.authenticateAdmin ?? authenticateAdmin,
    clock,
    onError: options.onError ?? ((error) => errors.push(error)),
  });
  if (mount) app.use(mount, router);
  else app.use(router);
  if (requireAuth !== null) {
    for (const client of clients) await store.putSettings(client, { requireAuthentication: requireAuth });
  }
  const server = await listen(app);
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    app,
    server,
    store,
    keys,
    clock,
    origin,
    mount,
    http: request(server),
    errors,
    close: () => closeServer(server),
  };
}

export function listen(app: http.RequestListener): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(app);
    server.keepAliveTimeout = 1000;
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A temporary SqliteStore; `dispose` closes it and deletes its folder. */
export function tempSqliteStore(): { store: SqliteStore; dispose(): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'profilegate-mw-test-'));
  const store = new SqliteStore(join(dir, 'profiles.db'));
  return {
    store,
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function adminAuth(who: AdminWho = 'admin'): string {
  return `Bearer ${ADMIN_KEYS[who]}`;
}

export const TOKEN_PATH = (client: string) => `/${client}/target/authentication/token?authorizationScope=profile_api`;
export const SETTINGS_PATH = (client: string) => `/${client}/target/authentication/settings`;
export const AUDIT_PATH = (client: string) => `/${client}/target/authentication/audit`;

/** Generates a profile token through the admin API and returns its JWT. */
export async function generateToken(t: TestApp, client = CLIENT, body?: object): Promise<string> {
  const req = t.http.post(t.mount + TOKEN_PATH(client)).set('Authorization', adminAuth('admin'));
  const res = body ? await req.send(body) : await req;
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.accessToken as string;
}

/** Turns Require Authentication on or off through the admin API. */
export async function setRequireAuth(t: TestApp, on: boolean, client = CLIENT): Promise<void> {
  const res = await t.http
    .put(t.mount + SETTINGS_PATH(client))
    .set('Authorization', adminAuth('admin'))
    .send({ requireAuthentication: on });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

/** Posts a v2 (or v1) form batch and returns the JSON answer. */
export async function postBatch(
  t: TestApp,
  body: string,
  opts: { client?: string; version?: 'v1' | 'v2'; type?: string; token?: string } = {},
): Promise<{ batchId: string; batchStatus: string }> {
  const { client = CLIENT, version = 'v2', type = 'application/x-www-form-urlencoded', token } = opts;
  const path = version === 'v2' ? `/m2/${client}/v2/profile/batchUpdate` : `/m2/${client}/profile/batchUpdate`;
  const req = t.http
    .post(t.mount + path)
    .set('Content-Type', type)
    .set('Accept', 'application/json');
  if (token) req.set('Authorization', `Bearer ${token}`);
  const res = await req.send(body);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.success, true);
  return { batchId: res.body.batchId, batchStatus: res.body.batchStatus };
}

/** Polls an absolute batchStatus URL (as returned) until the batch is no longer `incomplete`. */
export async function waitForBatch(
  statusUrl: string,
  opts: { token?: string; timeoutMs?: number; details?: boolean } = {},
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  const url = opts.details ? `${statusUrl}&showDetails=true` : statusUrl;
  for (;;) {
    const res = await fetch(url, {
      headers: { Accept: 'application/json', ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}) },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as Record<string, unknown>;
    if (body['status'] !== 'incomplete') return body;
    if (Date.now() > deadline) throw new Error(`Batch still incomplete after ${opts.timeoutMs ?? 10_000} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Posts a batch and waits for it, returning the JSON status with details. */
export async function runBatch(
  t: TestApp,
  body: string,
  opts: { client?: string; version?: 'v1' | 'v2'; type?: string; token?: string } = {},
): Promise<Record<string, unknown>> {
  const { batchStatus } = await postBatch(t, body, opts);
  return waitForBatch(batchStatus, { token: opts.token, details: true });
}

/** Fetches a profile as JSON through the API (thirdPartyId or pcId). */
export async function fetchProfile(
  t: TestApp,
  key: { thirdPartyId: string } | { pcId: string },
  opts: { client?: string; token?: string } = {},
): Promise<request.Response> {
  const client = opts.client ?? CLIENT;
  const path =
    'thirdPartyId' in key
      ? `/rest/v1/profiles/thirdPartyId/${encodeURIComponent(key.thirdPartyId)}?client=${client}`
      : `/rest/v1/profiles/${encodeURIComponent(key.pcId)}?client=${client}`;
  const req = t.http.get(t.mount + path);
  if (opts.token) req.set('Authorization', `Bearer ${opts.token}`);
  return req;
}

/** Attribute values of a fetched profile (name → value). */
export function valuesOf(body: { profileAttributes: Record<string, { value: string }> }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, attribute] of Object.entries(body.profileAttributes)) out[name] = attribute.value;
  return out;
}

/** A raw HTTP exchange (for chunked bodies, odd headers and absolute URLs). */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export function rawRequest(
  origin: string,
  options: { method: string; path: string; headers?: http.OutgoingHttpHeaders; chunks?: Array<string | Buffer> },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(origin);
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method,
        path: options.path,
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    // A refused body may be cut off by the server: that is expected, the answer still counts.
    req.on('error', (error) => reject(error));
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end();
  });
}

/** Characters XML 1.0 does not allow (a body with one is not well-formed). */
// eslint-disable-next-line no-control-regex -- the point is to find control characters
export const XML_INVALID = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** The Adobe batch file of the Bulk Profile Update API docs, byte for byte (as `curl --data-binary @file` sends it). */
export const ADOBE_EXAMPLE_FILE =
  'batch=pcId,param1,param2,param3,param4\n123,value1\n124,value1,,,value4\n125,,value2\n126,value1,value2,value3,value4\n';

/** Every profile route of API.md 2, as [label, method, path, body type, body]. */
export interface ProfileRoute {
  label: string;
  method: 'get' | 'post' | 'delete';
  path: (client: string) => string;
  type?: string;
  body?: string;
}

export const PROFILE_ROUTES: ProfileRoute[] = [
  {
    label: 'v2 batchUpdate',
    method: 'post',
    path: (c) => `/m2/${c}/v2/profile/batchUpdate`,
    type: 'application/x-www-form-urlencoded',
    body: 'batch=thirdPartyId,tier\ngate-u1,gold\n',
  },
  {
    label: 'v1 batchUpdate',
    method: 'post',
    path: (c) => `/m2/${c}/profile/batchUpdate`,
    type: 'application/x-www-form-urlencoded',
    body: 'batch=thirdPartyId,tier\ngate-u1,gold\n',
  },
  { label: 'v2 batchStatus', method: 'get', path: (c) => `/m2/${c}/v2/profile/batchStatus?batchId=${c}-1-1` },
  { label: 'v1 batchStatus', method: 'get', path: (c) => `/m2/${c}/profile/batchStatus?batchId=${c}-1-1` },
  { label: 'update GET', method: 'get', path: (c) => `/m2/${c}/profile/update?mbox3rdPartyId=u1&profile.tier=gold` },
  {
    label: 'update POST',
    method: 'post',
    path: (c) => `/m2/${c}/profile/update`,
    type: 'application/x-www-form-urlencoded',
    body: 'mbox3rdPartyId=u1&profile.tier=gold',
  },
  { label: 'fetch by thirdPartyId', method: 'get', path: (c) => `/rest/v1/profiles/thirdPartyId/u1?client=${c}` },
  { label: 'fetch by pcId', method: 'get', path: (c) => `/rest/v1/profiles/pc-1?client=${c}` },
  {
    label: 'fetch by marketingCloudVisitorId',
    method: 'get',
    path: (c) => `/rest/v1/profiles/marketingCloudVisitorId/${SEEDED_ECID}?client=${c}`,
  },
  { label: 'delete by thirdPartyId', method: 'delete', path: (c) => `/rest/v1/profiles/thirdPartyId/u1?client=${c}` },
  { label: 'delete by pcId', method: 'delete', path: (c) => `/rest/v1/profiles/pc-1?client=${c}` },
  {
    label: 'delete by marketingCloudVisitorId',
    method: 'delete',
    path: (c) => `/rest/v1/profiles/marketingCloudVisitorId/${SEEDED_ECID}?client=${c}`,
  },
];

/** Whether a route answers in the fetch routes' JSON shape (the fetch and delete routes, API.md 2.4 and 5). */
export const answersLikeFetch = (route: ProfileRoute) => /^(fetch|delete) /.test(route.label);

/** The Experience Cloud ID seedProfiles links to pc-1. */
export const SEEDED_ECID = '12345678901234567890123456789012345678';

/** Sends one profile route with extra headers. */
export function callRoute(t: TestApp, route: ProfileRoute, client = CLIENT, headers: Record<string, string> = {}) {
  const req = t.http[route.method](t.mount + route.path(client));
  for (const [name, value] of Object.entries(headers)) req.set(name, value);
  if (route.type) req.set('Content-Type', route.type);
  return route.body !== undefined ? req.send(route.body) : req;
}

/** Seeds profile u1 (thirdPartyId) and pc-1 (pcId, linked to SEEDED_ECID) of a client straight into the store. */
export async function seedProfiles(store: Store, client = CLIENT): Promise<void> {
  const now = Date.now();
  const a = await store.updateProfile(
    client,
    { key: { kind: 'thirdPartyId', id: 'u1' }, attributes: { tier: 'silver' } },
    { createMissing: true, now },
  );
  assert.equal(a.status, 'updated');
  const b = await store.updateProfile(
    client,
    { key: { kind: 'pcId', id: 'pc-1' }, attributes: { tier: 'bronze' } },
    { createMissing: true, now },
  );
  assert.equal(b.status, 'updated');
  assert.equal((await store.linkMarketingCloudVisitorId(client, 'pc-1', SEEDED_ECID)).status, 'linked');
}
