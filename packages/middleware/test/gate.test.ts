/** API.md 2.0: the gate table, on every profile route. */
import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import { KeyRing, MemoryStore, TokenService, generateSigningKey } from '@profilegate/core';
import {
  CLIENT,
  OTHER_CLIENT,
  PROFILE_ROUTES,
  TOKEN_PATH,
  adminAuth,
  answersLikeFetch,
  callRoute,
  generateToken,
  seedProfiles,
  startApp,
  type ProfileRoute,
  type TestApp,
} from './helpers';

const REALM = 'Bearer realm="profile-api"';
const INVALID_REQUEST = /^Bearer realm="profile-api", error="invalid_request", error_description="[^"\\]+"$/;
const INVALID_TOKEN = /^Bearer realm="profile-api", error="invalid_token", error_description="[^"\\]+"$/;
const EXPIRED = 'Bearer realm="profile-api", error="invalid_token", error_description="The token has expired"';
const REVOKED = 'Bearer realm="profile-api", error="invalid_token", error_description="The token has been revoked"';

/** What each route answers once the gate lets a request through (seeded profiles, unknown batch). */
const PASSED: Record<string, number> = {
  'v2 batchUpdate': 200,
  'v1 batchUpdate': 200,
  'v2 batchStatus': 404,
  'v1 batchStatus': 404,
  'update GET': 200,
  'update POST': 200,
  'fetch by thirdPartyId': 200,
  'fetch by pcId': 200,
  'fetch by marketingCloudVisitorId': 200,
  'delete by thirdPartyId': 204,
  'delete by pcId': 204,
  'delete by marketingCloudVisitorId': 204,
};

/** An HS256 JWT signed by hand (any header and claims), as an attacker holding the key could. */
function signHs256(claims: Record<string, unknown>, header: Record<string, unknown>, secret: Buffer): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part(header)}.${part(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const isFetch = answersLikeFetch;

/** Checks a refusal's body: XML success=false for profile routes, JSON for the fetch routes. */
function assertRefusal(route: ProfileRoute, res: { text: string; body: unknown; headers: Record<string, string> }) {
  if (isFetch(route)) {
    assert.match(res.headers['content-type'] ?? '', /^application\/json/);
    const body = res.body as { success: boolean; message: string };
    assert.equal(body.success, false);
    assert.ok(body.message.length > 0);
  } else {
    assert.match(res.headers['content-type'] ?? '', /^application\/xml/);
    assert.match(res.text, /^<response><success>false<\/success><message>[^<]+<\/message><\/response>$/);
  }
}

function passed(route: ProfileRoute, res: { status: number; text: string }) {
  assert.equal(res.status, PASSED[route.label], `${route.label}: ${res.status} ${res.text}`);
}

describe('gate (API.md 2.0) on every profile route', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  for (const route of PROFILE_ROUTES) {
    describe(route.label, () => {
      describe('Require Authentication off', () => {
        beforeEach(async () => {
          t = await startApp({ requireAuth: false });
          await seedProfiles(t.store);
        });
        it('is open without an Authorization header', async () => {
          passed(route, await callRoute(t, route));
        });
        for (const header of [
          'garbage',
          'Basic dXNlcjpwYXNz',
          'Bearer',
          'Bearer a b',
          'Bearer not.a.jwt',
          'Bearer \u00e9',
        ]) {
          it(`ignores Authorization: ${JSON.stringify(header)}`, async () => {
            const res = await callRoute(t, route, CLIENT, {
              Authorization: Buffer.from(header, 'utf8').toString('latin1'),
            });
            passed(route, res);
            assert.equal(res.headers['www-authenticate'], undefined);
          });
        }
      });

      describe('Require Authentication on', () => {
        let token: string;
        beforeEach(async () => {
          t = await startApp({ requireAuth: true });
          await seedProfiles(t.store);
          token = await generateToken(t);
        });

        it('passes with the current token', async () => {
          passed(route, await callRoute(t, route, CLIENT, { Authorization: `Bearer ${token}` }));
        });

        it('accepts the scheme in any case (RFC 6750 / 7235)', async () => {
          passed(route, await callRoute(t, route, CLIENT, { Authorization: `bearer ${token}` }));
        });

        it('no Authorization header: 401 with the bare realm', async () => {
          const res = await callRoute(t, route);
          assert.equal(res.status, 401);
          assert.equal(res.headers['www-authenticate'], REALM);
          assertRefusal(route, res);
        });

        for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'Token abc', 'Bearer "quoted"']) {
          it(`Authorization: ${JSON.stringify(header)} → 400 invalid_request`, async () => {
            const res = await callRoute(t, route, CLIENT, { Authorization: header });
            assert.equal(res.status, 400);
            assert.match(res.headers['www-authenticate'] ?? '', INVALID_REQUEST);
            assertRefusal(route, res);
          });
        }

        it('garbage token → 401 invalid_token', async () => {
          for (const bad of ['garbage', 'a.b.c', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhY21lIn0.']) {
            const res = await callRoute(t, route, CLIENT, { Authorization: `Bearer ${bad}` });
            assert.equal(res.status, 401, bad);
            assert.match(res.headers['www-authenticate'] ?? '', INVALID_TOKEN);
            assertRefusal(route, res);
          }
        });

        it('tampered token (payload changed) → 401 invalid_token, description names the signature', async () => {
          const [header, payload, signature] = token.split('.') as [string, string, string];
          const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
          claims.exp += 3600;
          const tampered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
          const res = await callRoute(t, route, CLIENT, { Authorization: `Bearer ${tampered}` });
          assert.equal(res.status, 401);
          assert.match(res.headers['www-authenticate'] ?? '', INVALID_TOKEN);
          assert.match(res.headers['www-authenticate'] ?? '', /signature/);
          assertRefusal(route, res);
        });

        it("a token signed with another server's key → 401 invalid_token", async () => {
          const foreignKey = generateSigningKey(Date.now());
          // Unknown kid, and the same kid with another secret: both refused.
          const sameKid = { ...generateSigningKey(Date.now()), kid: t.keys.active().kid };
          for (const key of [foreignKey, sameKid]) {
            const store = new MemoryStore();
            const foreign = new TokenService({ store, keys: new KeyRing([key]) });
            const issued = await foreign.generate(CLIENT, { actor: 'x' });
            const res = await callRoute(t, route, CLIENT, { Authorization: `Bearer ${issued.accessToken}` });
            assert.equal(res.status, 401);
            assert.match(res.headers['www-authenticate'] ?? '', INVALID_TOKEN);
            assertRefusal(route, res);
            foreign.dispose();
          }
        });

        it('a token signed with our key but the wrong audience, issuer, algorithm or claims → 401 invalid_token', async () => {
          const key = t.keys.active();
          const now = Math.floor(t.clock() / 1000);
          const good = { iss: 'profilegate', aud: 'profile_api', sub: CLIENT, jti: 'j1', iat: now, exp: now + 3600 };
          const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, RegExp]> = [
            ['wrong audience', { aud: 'other_api' }, {}, /audience/],
            ['wrong issuer', { iss: 'someone' }, {}, /issuer/],
            ['no jti', { jti: undefined }, {}, /jti/],
            ['HS512', {}, { alg: 'HS512' }, /HS256/],
            ['alg none', {}, { alg: 'none' }, /HS256/],
            ['not yet valid', { nbf: now + 600 }, {}, /not valid yet/],
            ['unknown but well-signed jti', {}, {}, /revoked/],
          ];
          for (const [label, claims, header, description] of cases) {
            const jwt = signHs256(
              { ...good, ...claims },
              { alg: 'HS256', typ: 'JWT', kid: key.kid, ...header },
              key.key.export(),
            );
            const res = await callRoute(t, route, CLIENT, { Authorization: `Bearer ${jwt}` });
            assert.equal(res.status, 401, label);
            assert.match(res.headers['www-authenticate'] ?? '', INVALID_TOKEN, label);
            assert.match(res.headers['www-authenticate'] ?? '', description, label);
          }
        });

        it("another client's token → 401 invalid_token on this client", async () => {
          const other = await generateToken(t, OTHER_CLIENT);
          const res = await callRoute(t, route, CLIENT, { Authorization: `Bearer ${other}` });
          assert.equal(res.status, 401);
          assert.match(res.headers['www-authenticate'] ?? '', INVALID_TOKEN);
          assert.match(res.headers['www-authenticate'] ?? '', /another client/);
          assertRefusal(route, res);
          // …while it works on its own client (which has auth on too).
          await seedProfiles(t.store, OTHER_CLIENT);
          passed(route, await callRoute(t, route, OTHER_CLIENT, { Authorization: `Bearer ${other}` }));
        });

        it('expired token → 401 "The token has expired"', async () => {
          const short = await generateToken(t, CLIENT, { expiresIn: 300 });
          passed(route, await callRoute(t, route, CLIENT, { Authorization: `Bearer ${short}` }));
          t.clock.advance(301_000);
          const res = await callRoute(t, route, CLIENT, { Authorization: `Bearer ${short}` });
          assert.equal(res.status, 401);
          assert.equal(res.headers['www-authenticate'], EXPIRED);
          assertRefusal(route, res);
        });

        it('regenerated → the old token gets "The token has been revoked", the new one works', async () => {
          const fresh = await generateToken(t);
          const res = await callRoute(t, route, CLIENT, { Authorization: `Bearer ${token}` });
          assert.equal(res.status, 401);
          assert.equal(res.headers['www-authenticate'], REVOKED);
          assertRefusal(route, res);
          passed(route, await callRoute(t, route, CLIENT, { Authorization: `Bearer ${fresh}` }));
        });

        it('regenerated with previousTokenGraceSeconds → the old token works until the grace ends', async () => {
          const fresh = await generateToken(t, CLIENT, { previousTokenGraceSeconds: 120 });
          // A delete route passes once per profile: the profiles are seeded again before each call.
          const again = () => (route.method === 'delete' ? seedProfiles(t.store) : Promise.resolve());
          passed(route, await callRoute(t, route, CLIENT, { Authorization: `Bearer ${token}` }));
          await again();
          passed(route, await callRoute(t, route, CLIENT, { Authorization: `Bearer ${fresh}` }));
          t.clock.advance(119_000);
          await again();
          passed(route, await callRoute(t, route, CLIENT, { Authorization: `Bearer ${token}` }));
          t.clock.advance(2_000);
          const res = await callRoute(t, route, CLIENT, { Authorization: `Bearer ${token}` });
          assert.equal(res.status, 401);
          assert.equal(res.headers['www-authenticate'], REVOKED);
          await again();
          passed(route, await callRoute(t, route, CLIENT, { Authorization: `Bearer ${fresh}` }));
        });

        it('DELETE revokes: no token works until a new one is generated', async () => {
          const del = await t.http.delete(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('admin'));
          assert.equal(del.status, 204);
          const res = await callRoute(t, route, CLIENT, { Authorization: `Bearer ${token}` });
          assert.equal(res.status, 401);
          assert.equal(res.headers['www-authenticate'], REVOKED);
          assertRefusal(route, res);
          const fresh = await generateToken(t);
          passed(route, await callRoute(t, route, CLIENT, { Authorization: `Bearer ${fresh}` }));
        });

        it('never reads the token from the query string or the body', async () => {
          const withToken: ProfileRoute = {
            ...route,
            path: (c) => {
              const path = route.path(c);
              return `${path}${path.includes('?') ? '&' : '?'}access_token=${token}&token=${token}`;
            },
            ...(route.body !== undefined
              ? {
                  body: route.label.startsWith('update')
                    ? `${route.body}&access_token=${token}`
                    : `access_token=${token}`,
                }
              : {}),
          };
          const res = await callRoute(t, withToken);
          assert.equal(res.status, 401);
          assert.equal(res.headers['www-authenticate'], REALM);
          assertRefusal(route, res);
        });

        it('an unknown client is 404 before the gate', async () => {
          const res = await callRoute(t, route, 'nobody', { Authorization: `Bearer ${token}` });
          assert.equal(res.status, 404);
          assert.equal(res.headers['www-authenticate'], undefined);
        });
      });
    });
  }

  it('auth.denied events are counted in the audit log, without the token', async () => {
    t = await startApp({ requireAuth: true });
    const token = await generateToken(t);
    await callRoute(t, PROFILE_ROUTES[6]!);
    await callRoute(t, PROFILE_ROUTES[6]!, CLIENT, { Authorization: 'Bearer garbage' });
    await generateToken(t);
    await callRoute(t, PROFILE_ROUTES[6]!, CLIENT, { Authorization: `Bearer ${token}` });
    const res = await t.http.get(`/${CLIENT}/target/authentication/audit`).set('Authorization', adminAuth('observer'));
    assert.equal(res.status, 200);
    const denied = (res.body.events as Array<{ action: string; details: { count: number } }>).filter(
      (e) => e.action === 'auth.denied',
    );
    const total = denied.reduce((sum, e) => sum + e.details.count, 0);
    assert.equal(total, 3);
    assert.ok(!res.text.includes(token));
  });
});
