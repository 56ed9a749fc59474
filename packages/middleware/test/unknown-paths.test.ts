/** Unknown paths under the router's prefixes answer a JSON 404 in Adobe's shape, never HTML (issue 16.4, API.md 2.4). */
import { strict as assert } from 'node:assert';
import { KeyRing, MemoryStore, generateSigningKey } from '@profilegate/core';
import express from 'express';
import request from 'supertest';
import { profileApi } from '../src';
import { CLIENT, authenticateAdmin } from './helpers';

/** A host app with the router (at `mount`) and routes of its own mounted after it. */
function host(mount = '') {
  const app = express();
  const router = profileApi({
    clients: [CLIENT, 'demo'],
    store: new MemoryStore(),
    signingKeys: new KeyRing([generateSigningKey(Date.UTC(2026, 10, 22))]),
    authenticateAdmin,
  });
  if (mount) app.use(mount, router);
  else app.use(router);
  for (const path of ['/rest/v1/other', '/m2info', '/m2', '/rest/v1/profilesx', '/api-docs']) {
    app.all(mount + path, (_req, res) => {
      res.json({ host: path });
    });
  }
  return request(app);
}

type Method = 'get' | 'post' | 'put' | 'delete';

const FETCH_SHAPED: Array<[Method, string]> = [
  ['get', '/rest/v1/profiles/foo/bar/baz'],
  ['get', '/rest/v1/profiles/foo/bar/baz?client=acme'],
  ['get', '/rest/v1/profiles/marketingCloudVisitorId/'],
  ['get', '/rest/v1/profiles/marketingCloudVisitorId/?client=acme'],
  ['get', '/rest/v1/profiles/thirdPartyId/?client=acme'],
  ['get', '/rest/v1/profiles'],
  ['get', '/rest/v1/profiles/'],
  ['get', '/rest/v1/profiles/thirdPartyId/u1/extra?client=acme'],
  ['get', '/rest/v1/profiles/a/b/%E0%A4%A?client=acme'],
  ['post', '/rest/v1/profiles/pc-1?client=acme'],
  ['put', '/rest/v1/profiles/marketingCloudVisitorId/123?client=acme'],
];

const PROFILE_SHAPED: Array<[Method, string]> = [
  ['get', '/m2/demo/v2/profile/nothing'],
  ['get', '/m2/demo/whatever'],
  ['get', '/m2/demo'],
  ['get', '/m2/demo/'],
  ['get', '/m2/acme/profile/update/extra?mboxPC=p&profile.a=1'],
  ['get', '/m2/acme/v2/profile/update?mboxPC=p&profile.a=1'],
  ['get', '/m2/acme/v2/profile/batchUpdate'],
  ['put', '/m2/acme/profile/update'],
  ['delete', '/m2/acme/v2/profile/batchStatus?batchId=x'],
  ['get', '/m2/nobody/whatever'],
  ['get', '/m2/acme/%E0%A4%A'],
];

describe('unknown paths under /rest/v1/profiles/ and /m2/:client/ (API.md 2.4)', () => {
  for (const mount of ['', '/api']) {
    describe(mount ? `router mounted at ${mount}` : 'router at the root', () => {
      const http = host(mount);

      for (const [method, path] of FETCH_SHAPED) {
        it(`${method.toUpperCase()} ${path}: JSON 404 {status, message}`, async () => {
          for (const accept of ['application/xml', 'text/html', '*/*']) {
            const res = await http[method](mount + path).set('Accept', accept);
            assert.equal(res.status, 404, res.text);
            assert.match(res.headers['content-type'], /^application\/json/);
            assert.deepEqual(Object.keys(res.body), ['status', 'message']);
            assert.equal(res.body.status, 404);
            assert.ok(res.body.message.length > 10);
          }
        });
      }

      for (const [method, path] of PROFILE_SHAPED) {
        it(`${method.toUpperCase()} ${path}: JSON 404 {success: false, message}`, async () => {
          for (const accept of ['application/xml', 'text/html', '*/*']) {
            const res = await http[method](mount + path).set('Accept', accept);
            assert.equal(res.status, 404, res.text);
            assert.match(res.headers['content-type'], /^application\/json/);
            assert.deepEqual(Object.keys(res.body), ['success', 'message']);
            assert.equal(res.body.success, false);
          }
        });
      }

      it('says what the routes are', async () => {
        const fetch = await http.get(`${mount}/rest/v1/profiles/foo/bar/baz`);
        assert.equal(
          fetch.body.message,
          `No route GET ${mount}/rest/v1/profiles/foo/bar/baz: fetch a profile with GET /rest/v1/profiles/PCID?client=CLIENT, /rest/v1/profiles/thirdPartyId/ID?client=CLIENT or /rest/v1/profiles/marketingCloudVisitorId/ECID?client=CLIENT`,
        );
        const empty = await http.get(`${mount}/rest/v1/profiles/marketingCloudVisitorId/?client=acme`);
        assert.equal(
          empty.body.message,
          'Give the marketingCloudVisitorId: /rest/v1/profiles/marketingCloudVisitorId/ECID?client=CLIENT',
        );
        const m2 = await http.get(`${mount}/m2/demo/whatever`);
        assert.equal(
          m2.body.message,
          `No route GET ${mount}/m2/demo/whatever: the profile routes of client demo are POST v2/profile/batchUpdate, GET v2/profile/batchStatus, POST profile/batchUpdate, GET profile/batchStatus and GET or POST profile/update`,
        );
        assert.equal((await http.get(`${mount}/m2/nobody/x`)).body.message, 'Unknown client nobody');
      });

      it("leaves the host's own routes outside those prefixes to the host", async () => {
        for (const path of ['/rest/v1/other', '/m2info', '/m2', '/rest/v1/profilesx', '/api-docs']) {
          const res = await http.get(mount + path);
          assert.equal(res.status, 200, `${path}: ${res.text}`);
          assert.deepEqual(res.body, { host: path });
        }
      });

      it('still answers the known routes', async () => {
        assert.equal((await http.get(`${mount}/openapi.json`)).status, 200);
        const update = await http.get(`${mount}/m2/acme/profile/update?mboxPC=nobody&profile.a=1`);
        assert.equal(update.status, 401);
        assert.match(update.headers['content-type'], /^application\/xml/);
      });
    });
  }
});
