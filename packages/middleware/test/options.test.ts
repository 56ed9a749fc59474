/** Options are validated when the router is created; unknown clients are 404 everywhere. */
import { strict as assert } from 'node:assert';
import { KeyRing, MemoryStore, generateSigningKey } from '@profilegate/core';
import { OptionsError, profileApi, type ProfileApiOptions } from '../src';
import {
  AUDIT_PATH,
  PROFILE_ROUTES,
  answersLikeFetch,
  SETTINGS_PATH,
  TOKEN_PATH,
  adminAuth,
  authenticateAdmin,
  callRoute,
  startApp,
  type TestApp,
} from './helpers';

function good(): ProfileApiOptions {
  return {
    clients: ['acme'],
    store: new MemoryStore(),
    signingKeys: new KeyRing([generateSigningKey(Date.now())]),
    authenticateAdmin,
  };
}

describe('profileApi() options', () => {
  it('accepts valid options (and several clients)', () => {
    assert.equal(typeof profileApi(good()), 'function');
    assert.equal(
      typeof profileApi({ ...good(), clients: ['a', 'b-2', '0'.repeat(64)], limits: { maxRows: 10 } }),
      'function',
    );
  });

  const bad: Array<[string, (o: ProfileApiOptions) => unknown, RegExp]> = [
    ['no options', () => undefined, /options must be an object/],
    ['clients missing', (o) => ({ ...o, clients: undefined }), /clients must be a non-empty array/],
    ['clients empty', (o) => ({ ...o, clients: [] }), /clients must be a non-empty array/],
    ['clients a string', (o) => ({ ...o, clients: 'acme' }), /clients must be a non-empty array/],
    ['upper-case client', (o) => ({ ...o, clients: ['Acme'] }), /clients holds "Acme": a client code must match/],
    ['client with a slash', (o) => ({ ...o, clients: ['a/b'] }), /must match/],
    ['client too long', (o) => ({ ...o, clients: ['a'.repeat(65)] }), /must match/],
    ['client not a string', (o) => ({ ...o, clients: [42] }), /clients holds 42/],
    ['store missing', (o) => ({ ...o, store: undefined }), /store must implement Store/],
    ['store not a Store', (o) => ({ ...o, store: { getProfile() {} } }), /store must implement Store/],
    ['signingKeys missing', (o) => ({ ...o, signingKeys: undefined }), /signingKeys must be a KeyRing/],
    ['signingKeys a string', (o) => ({ ...o, signingKeys: 'secret' }), /signingKeys must be a KeyRing/],
    [
      'authenticateAdmin missing',
      (o) => ({ ...o, authenticateAdmin: undefined }),
      /authenticateAdmin must be a function/,
    ],
    [
      'authenticateAdmin not a function',
      (o) => ({ ...o, authenticateAdmin: { id: 'x' } }),
      /authenticateAdmin must be a function/,
    ],
    ['limits.maxBytes zero', (o) => ({ ...o, limits: { maxBytes: 0 } }), /limits.maxBytes must be a positive integer/],
    ['limits.maxRows negative', (o) => ({ ...o, limits: { maxRows: -1 } }), /limits.maxRows/],
    ['limits.maxRows fractional', (o) => ({ ...o, limits: { maxRows: 1.5 } }), /limits.maxRows/],
    ['limits.maxBytes a string', (o) => ({ ...o, limits: { maxBytes: '50MB' } }), /limits.maxBytes/],
    [
      'limits.maxUpdateQueryBytes NaN',
      (o) => ({ ...o, limits: { maxUpdateQueryBytes: NaN } }),
      /limits.maxUpdateQueryBytes/,
    ],
    [
      'limits.maxUpdateBodyBytes Infinity',
      (o) => ({ ...o, limits: { maxUpdateBodyBytes: Infinity } }),
      /limits.maxUpdateBodyBytes/,
    ],
    ['limits unknown key', (o) => ({ ...o, limits: { maxbytes: 10 } }), /limits.maxbytes/],
    ['bulkRateLimit.max zero', (o) => ({ ...o, bulkRateLimit: { max: 0, windowMs: 1000 } }), /bulkRateLimit.max/],
    ['bulkRateLimit.windowMs missing', (o) => ({ ...o, bulkRateLimit: { max: 1 } }), /bulkRateLimit.windowMs/],
    ['bulkRateLimit null', (o) => ({ ...o, bulkRateLimit: null }), /bulkRateLimit/],
    ['cacheMs negative', (o) => ({ ...o, cacheMs: -1 }), /cacheMs/],
  ];
  for (const [label, change, message] of bad) {
    it(`throws OptionsError at creation: ${label}`, () => {
      assert.throws(
        () => profileApi(change(good()) as ProfileApiOptions),
        (error: unknown) => error instanceof OptionsError && message.test((error as Error).message),
      );
    });
  }
});

describe('unknown client code on every route (API.md intro)', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp({ requireAuth: false });
  });
  after(async () => t.close());

  for (const route of PROFILE_ROUTES) {
    it(`${route.label}: 404 for an unknown or malformed client code`, async () => {
      for (const client of ['nobody', 'ACME', 'acme-', 'a_b']) {
        const res = await callRoute(t, route, client, { Accept: 'application/json' });
        assert.equal(res.status, 404, `${client}: ${res.text}`);
        if (answersLikeFetch(route)) assert.equal(res.body.status, 404);
        else assert.equal(res.body.success, false);
      }
    });
  }
  for (const [method, path] of [
    ['get', TOKEN_PATH('nobody')],
    ['post', TOKEN_PATH('nobody')],
    ['delete', TOKEN_PATH('nobody')],
    ['get', SETTINGS_PATH('nobody')],
    ['put', SETTINGS_PATH('nobody')],
    ['get', AUDIT_PATH('nobody')],
  ] as const) {
    it(`${method.toUpperCase()} ${path}: 404`, async () => {
      const res = await t.http[method](path).set('Authorization', adminAuth('sysadmin'));
      assert.equal(res.status, 404);
      assert.equal(res.body.errors[0].errorCode, 'ClientNotFound');
    });
  }
});
