/**
 * Each route group answers its own errors in its own shape (API.md 1), including errors raised
 * before any of its handlers ran: a path parameter that is not valid %-encoding (Express fails
 * while matching the route) and a body the parser refuses. An error the router did not raise
 * stays the host's.
 */
import { strict as assert } from 'node:assert';
import { KeyRing, MemoryStore, generateSigningKey } from '@profilegate/core';
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { profileApi } from '../src';
import { CLIENT, SETTINGS_PATH, TOKEN_PATH, adminAuth, authenticateAdmin, startApp, type TestApp } from './helpers';

type Shape = 'profile-xml' | 'fetch' | 'admin';

interface Answer {
  status: number;
  text: string;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

function assertShape(shape: Shape, res: Answer, status: number): void {
  assert.equal(res.status, status, res.text);
  const type = res.headers['content-type'] ?? '';
  if (shape === 'profile-xml') {
    assert.match(type, /^application\/xml/);
    assert.match(res.text, /^<response><success>false<\/success><message>[^<]+<\/message><\/response>$/);
  } else if (shape === 'fetch') {
    assert.match(type, /^application\/json/);
    assert.equal(res.body['success'], false);
  } else {
    assert.match(type, /^application\/json/);
    assert.equal(res.body['httpStatus'], status);
    assert.ok(Array.isArray(res.body['errors']));
  }
}

describe('every route group answers in its own error shape', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp({ adminPage: true });
  });
  after(async () => t.close());

  const BAD_PARAM: Array<[string, string, string, Shape]> = [
    ['batchUpdate', 'post', '/m2/%E0%A4%A/v2/profile/batchUpdate', 'profile-xml'],
    ['batchStatus', 'get', '/m2/%E0%A4%A/profile/batchStatus?batchId=x', 'profile-xml'],
    ['update', 'get', '/m2/%E0%A4%A/profile/update?mboxPC=p', 'profile-xml'],
    ['fetch by pcId', 'get', `/rest/v1/profiles/%E0%A4%A?client=${CLIENT}`, 'fetch'],
    ['fetch by thirdPartyId', 'get', `/rest/v1/profiles/thirdPartyId/%E0%A4%A?client=${CLIENT}`, 'fetch'],
    ['token', 'get', '/%E0%A4%A/target/authentication/token?authorizationScope=profile_api', 'admin'],
    ['settings', 'put', '/%E0%A4%A/target/authentication/settings', 'admin'],
    ['audit', 'get', '/%E0%A4%A/target/authentication/audit', 'admin'],
    ['export', 'get', '/%E0%A4%A/target/profiles/export?format=csv', 'admin'],
    ['admin page', 'get', '/%E0%A4%A/target/admin', 'admin'],
    ['admin page file', 'get', `/${CLIENT}/target/admin/%E0%A4%A`, 'admin'],
  ];
  for (const [label, method, path, shape] of BAD_PARAM) {
    it(`${label}: a path parameter that is not %-encoding is a 400 in the ${shape} shape`, async () => {
      const res = await t.http[method as 'get' | 'post' | 'put'](path).set('Accept', 'application/xml, */*;q=0.1');
      assertShape(shape, res, 400);
      assert.deepEqual(t.errors, [], 'not an unexpected error');
    });
  }

  it('admin routes: bodies the JSON parser refuses get the admin shape', async () => {
    const put = () => t.http.put(SETTINGS_PATH(CLIENT)).set('Authorization', adminAuth('admin'));
    assertShape('admin', await put().type('application/json').send('{"requireAuthentication":'), 400);
    assertShape('admin', await put().type('application/json; charset=latin-9').send('{}'), 415);
    const big = JSON.stringify({ requireAuthentication: true, pad: 'x'.repeat(20_000) });
    assertShape('admin', await put().type('application/json').send(big), 413);
    const post = t.http
      .post(`${TOKEN_PATH(CLIENT)}`)
      .set('Authorization', adminAuth('admin'))
      .type('application/json')
      .send('[');
    assertShape('admin', await post, 400);
  });

  it('the update route: a form the parser refuses gets the profile shape', async () => {
    const post = () => t.http.post(`/m2/${CLIENT}/profile/update`).set('Accept', 'application/xml');
    assertShape(
      'profile-xml',
      await post().type('application/x-www-form-urlencoded; charset=x-bogus').send('a=b'),
      415,
    );
    assertShape('profile-xml', await post().type('application/x-www-form-urlencoded').send('x'.repeat(70_000)), 413);
  });
});

describe('an error the router did not raise stays the host’s', () => {
  it('is passed to the host’s error handler, even on a path of the router', async () => {
    const app = express();
    app.use((_req: Request, _res: Response, next: NextFunction) => next(new Error('host failure')));
    app.use(
      profileApi({
        clients: [CLIENT],
        store: new MemoryStore(),
        signingKeys: new KeyRing([generateSigningKey(Date.UTC(2026, 10, 22))]),
        authenticateAdmin,
      }),
    );
    app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
      res.status(599).json({ host: error.message });
    });
    for (const path of [
      `/m2/${CLIENT}/profile/update?mboxPC=p`,
      `/rest/v1/profiles/p?client=${CLIENT}`,
      SETTINGS_PATH(CLIENT),
      '/m2/acme/unknown',
    ]) {
      const res = await request(app).get(path);
      assert.equal(res.status, 599, path);
      assert.deepEqual(res.body, { host: 'host failure' });
    }
  });
});
