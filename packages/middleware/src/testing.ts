/**
 * `@profilegate/middleware/testing`: a complete Profile API on an ephemeral local port, for the
 * tests of code that calls Adobe Target's Profile API. Point that code at `api.url` instead of
 * `https://CLIENT.tt.omtrdc.net` and assert on what it did.
 *
 * ```ts
 * import assert from 'node:assert/strict';
 * import { startTestProfileApi, type TestProfileApi } from '@profilegate/middleware/testing';
 * import { uploadTiers } from '../src/upload-tiers'; // your code: POSTs a batch file to /m2/<client>/v2/profile/batchUpdate
 *
 * describe('uploadTiers', () => {
 *   let api: TestProfileApi;
 *   before(async () => {
 *     api = await startTestProfileApi({ clients: ['acme'] });
 *   });
 *   after(() => api.close());
 *
 *   it('sends every tier with the profile token', async () => {
 *     const token = await api.mintToken('acme');
 *     await uploadTiers({ host: api.url, client: 'acme', token }, [{ id: 'u1', tier: 'gold' }]);
 *     const res = await fetch(`${api.url}/rest/v1/profiles/thirdPartyId/u1?client=acme`, {
 *       headers: { authorization: `Bearer ${token}` },
 *     });
 *     assert.equal((await res.json()).profileAttributes.tier.value, 'gold');
 *   });
 *
 *   it('fails clearly without a token', async () => {
 *     await assert.rejects(uploadTiers({ host: api.url, client: 'acme', token: '' }, []), /401/);
 *   });
 * });
 * ```
 *
 * Tokens are minted through the admin HTTP route with the admin key, exactly as a real admin
 * would, so they pass the same gate as production tokens.
 *
 * `startAdobeEmulation()` serves, offline, what code that rotates an Adobe Target token calls:
 * Adobe IMS's client-credentials token endpoint and the Admin API token routes, in the shapes of
 * Adobe's published Admin API document (testing/adobe-admin-api.json, the subset about the token
 * routes). Every request is checked against that document: assert `emulation.violations()` is empty.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeyRing, MemoryStore, generateSigningKey, type Store } from '@profilegate/core';
import express from 'express';
import { adminKeyAuthenticator, profileApi } from './index';

export { ADOBE_ADMIN_API_DOCUMENT, checkAdminRequest, type CheckedRequest } from './testing/adobe-check';
export {
  ADOBE_EMULATION_DEFAULT_SCOPES,
  startAdobeEmulation,
  type AdobeEmulation,
  type AdobeEmulationOptions,
  type AdobeEmulationScope,
  type AdobeRequestRecord,
} from './testing/adobe-emulation';

/** A running test Profile API. */
export interface TestProfileApi {
  /** Base URL, e.g. `http://127.0.0.1:54321` (the router is mounted at the root). */
  url: string;
  /** The admin key (role admin) accepted as `Authorization: Bearer <adminKey>` on the admin routes. */
  adminKey: string;
  /** The client codes served. */
  clients: string[];
  /** The in-memory store behind the API, for seeding or inspecting profiles directly. */
  store: Store;
  /**
   * Generates a new profile token for `client` (default: the first client) and returns the JWT.
   * Like the real POST route it replaces the client's previous token, which stops working at once.
   */
  mintToken(client?: string, options?: { expiresInSeconds?: number }): Promise<string>;
  /** Turns the client's Require Authentication setting on or off. */
  setRequireAuthentication(client: string, on: boolean): Promise<void>;
  /** Stops the server (open connections are cut) and closes the store. */
  close(): Promise<void>;
}

/** Options of startTestProfileApi. */
export interface TestProfileApiOptions {
  /** Client codes to serve (default `['test']`). */
  clients?: string[];
  /** The admin key (at least 16 characters; default `test-admin-key-0123456789`). */
  adminKey?: string;
  /** Require Authentication of every client at start (default true, as for a new client). */
  requireAuthentication?: boolean;
  /** Port on 127.0.0.1 (default 0: a free one). */
  port?: number;
}

/** The admin key of a test API when none is given. */
export const DEFAULT_TEST_ADMIN_KEY = 'test-admin-key-0123456789';

/** Starts a complete Profile API on 127.0.0.1 with a MemoryStore and a fresh signing key. */
export async function startTestProfileApi(options: TestProfileApiOptions = {}): Promise<TestProfileApi> {
  const clients = [...(options.clients ?? ['test'])];
  const adminKey = options.adminKey ?? DEFAULT_TEST_ADMIN_KEY;
  const store = new MemoryStore();
  const app = express();
  const router = profileApi({
    clients,
    store,
    signingKeys: new KeyRing([generateSigningKey(Date.now())]),
    authenticateAdmin: adminKeyAuthenticator([{ key: adminKey, role: 'admin', actorId: 'test-admin' }]),
    adminPage: true,
    // No caching: a test that writes to `store` directly sees the effect on its next request.
    cacheMs: 0,
  });
  app.use(router);
  const server = await listen(app, options.port ?? 0);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const admin = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${adminErrorMessage(text)}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  };
  const knownClient = (client: string): string => {
    if (!clients.includes(client))
      throw new Error(`Client ${client} is not served by this test API (clients: ${clients.join(', ')})`);
    return encodeURIComponent(client);
  };

  const api: TestProfileApi = {
    url,
    adminKey,
    clients,
    store,
    async mintToken(client = clients[0]!, mintOptions = {}) {
      const body = mintOptions.expiresInSeconds === undefined ? {} : { expiresIn: mintOptions.expiresInSeconds };
      const path = `/${knownClient(client)}/target/authentication/token?authorizationScope=profile_api`;
      const token = (await admin('POST', path, body)) as { accessToken: string };
      return token.accessToken;
    },
    async setRequireAuthentication(client, on) {
      await admin('PUT', `/${knownClient(client)}/target/authentication/settings`, { requireAuthentication: on });
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await router.close();
      await store.close();
    },
  };
  try {
    if (options.requireAuthentication !== undefined) {
      for (const client of clients) await api.setRequireAuthentication(client, options.requireAuthentication);
    }
  } catch (error) {
    await api.close();
    throw error;
  }
  return api;
}

function listen(app: express.Express, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1');
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function adminErrorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { errors?: Array<{ message?: string }> };
    return body.errors?.[0]?.message ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}
