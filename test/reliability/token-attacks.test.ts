/**
 * Reliability, token attacks (issue 8): each attack of the issue against every profile route of
 * the real demo server (a child process), as a system-level repeat of core's token unit tests.
 * Every forged or stale token must get 401 invalid_token and change nothing; a token crafted with
 * the server's own key and the right claims passes, which proves each refusal is the attack's.
 */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
// The module object itself (not an import namespace copy), so a spy replaces what the middleware calls.
import nodeCrypto = require('node:crypto');
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import jwt from 'jsonwebtoken';
import sinon from 'sinon';
import { adminKeyAuthenticator } from '@profilegate/middleware';
import { fingerprint, openReadOnly } from './support/db';
import {
  ADMIN_KEY,
  Admin,
  json,
  send,
  settingsPath,
  sleep,
  startDemo,
  tokenPath,
  waitForBatch,
  type DemoChild,
} from './support/demo';
import { tally } from './support/summary';

const section = tally('token attacks', __filename);
const CLIENT = 'acme';
const OTHER = 'globex';
const EXPIRED = 'The token has expired';
const REVOKED = 'The token has been revoked';

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWT with any header and payload, HMAC-SHA256 signed with any secret. */
function hs256(header: object, payload: object, secret: crypto.KeyObject | string | Buffer): string {
  const data = `${b64(header)}.${b64(payload)}`;
  return `${data}.${crypto.createHmac('sha256', secret).update(data).digest('base64url')}`;
}

describe('reliability: token attacks on every profile route of the demo server', function () {
  this.timeout(120_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'profilegate-attacks-'));
  let server: DemoChild;
  let admin: Admin;
  let db: Database.Database;
  let token: string;
  let key: crypto.KeyObject;
  let kid: string;
  let batchId: string;
  let pcId: string;

  before(async () => {
    server = await startDemo({ dataDir, clients: [CLIENT, OTHER] });
    admin = new Admin(server.url);
    // A new client starts with Require Authentication on (API.md 3.2); make sure.
    assert.equal(json(await admin.call('GET', settingsPath(CLIENT)))['requireAuthentication'], true);
    token = await admin.generate(CLIENT);
    const file = JSON.parse(readFileSync(join(dataDir, 'signing-keys.json'), 'utf8')) as {
      keys: Array<{ kid: string; secret: string }>;
    };
    kid = file.keys[0]!.kid;
    key = crypto.createSecretKey(Buffer.from(file.keys[0]!.secret, 'base64url'));
    const seeded = await send(`${server.url}/m2/${CLIENT}/v2/profile/batchUpdate`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/csv', Accept: 'application/json', Authorization: `Bearer ${token}` },
      body: 'thirdPartyId,tier\nu1,gold\n',
    });
    batchId = json<{ batchId: string }>(seeded).batchId;
    await waitForBatch(json<{ batchStatus: string }>(seeded).batchStatus, { Authorization: `Bearer ${token}` });
    const profile = await send(`${server.url}/rest/v1/profiles/thirdPartyId/u1?client=${CLIENT}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(profile.status, 200, profile.text);
    pcId = json<{ visitorId: string }>(profile).visitorId;
    db = openReadOnly(join(dataDir, 'profiles.db'));
  });
  after(async () => {
    db?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The eight profile routes of API.md 2, each trying to write `attacked` to u1 or to read it. */
  const routes = () => [
    ['POST', `/m2/${CLIENT}/v2/profile/batchUpdate`, 'thirdPartyId,attacked\nu1,yes\n', 'text/csv'],
    [
      'POST',
      `/m2/${CLIENT}/profile/batchUpdate`,
      'batch=thirdPartyId,attacked\nu1,yes\n',
      'application/x-www-form-urlencoded',
    ],
    ['GET', `/m2/${CLIENT}/v2/profile/batchStatus?batchId=${batchId}`],
    ['GET', `/m2/${CLIENT}/profile/batchStatus?batchId=${batchId}`],
    ['GET', `/m2/${CLIENT}/profile/update?mbox3rdPartyId=u1&profile.attacked=yes`],
    [
      'POST',
      `/m2/${CLIENT}/profile/update`,
      'mbox3rdPartyId=u1&profile.attacked=yes',
      'application/x-www-form-urlencoded',
    ],
    ['GET', `/rest/v1/profiles/thirdPartyId/u1?client=${CLIENT}`],
    ['GET', `/rest/v1/profiles/${encodeURIComponent(pcId)}?client=${CLIENT}`],
  ];

  /** Sends `authorization` to every route: each must be 401 invalid_token (with `description`), storing nothing. */
  async function refusedEverywhere(authorization: string, description?: string, status = 401): Promise<void> {
    const before = fingerprint(db, CLIENT);
    const cases = section.cases();
    for (const [method, path, body, type] of routes()) {
      await cases.run(`${method} ${path}`, async () => {
        const answer = await send(`${server.url}${path}`, {
          method,
          headers: {
            Authorization: authorization,
            Accept: 'application/json',
            ...(type ? { 'Content-Type': type } : {}),
          },
          ...(body ? { body } : {}),
        });
        assert.equal(answer.status, status, answer.text);
        const challenge = String(answer.headers['www-authenticate']);
        const error = status === 400 ? 'invalid_request' : 'invalid_token';
        assert.ok(challenge.startsWith(`Bearer realm="profile-api", error="${error}"`), challenge);
        if (description) assert.ok(challenge.endsWith(`error_description="${description}"`), challenge);
      });
    }
    await cases.run('nothing stored', () =>
      assert.equal(fingerprint(db, CLIENT), before, 'a refused request stored something'),
    );
    cases.done();
  }

  /** Sends `authorization` to a read route: it must pass. */
  async function accepted(authorization: string): Promise<void> {
    await section.check(async () => {
      const answer = await send(`${server.url}/rest/v1/profiles/thirdPartyId/u1?client=${CLIENT}`, {
        headers: { Authorization: authorization },
      });
      assert.equal(answer.status, 200, `${authorization.slice(0, 30)}…: ${answer.text}`);
    });
  }

  const jti = () => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (overrides: Record<string, unknown> = {}) => {
    const all: Record<string, unknown> = {
      iss: 'profilegate',
      aud: 'profile_api',
      sub: CLIENT,
      jti: jti(),
      iat: now(),
      exp: now() + 3600,
      ...overrides,
    };
    for (const name of Object.keys(all)) if (all[name] === undefined) delete all[name];
    return all;
  };
  const ours = () => ({ alg: 'HS256', typ: 'JWT', kid });

  it('control: the current token, and one crafted with our key and the right claims, pass', async () => {
    await accepted(`Bearer ${token}`);
    await accepted(`Bearer ${hs256(ours(), claims(), key)}`);
  });

  it('alg none (unsigned, with a kid, in other spellings, with the real signature kept)', async () => {
    const payload = b64(claims());
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      await refusedEverywhere(`Bearer ${b64({ alg, typ: 'JWT' })}.${payload}.`);
      await refusedEverywhere(`Bearer ${b64({ alg, typ: 'JWT', kid })}.${payload}.`);
    }
    await refusedEverywhere(`Bearer ${b64({ alg: 'none', kid })}.${token.split('.')[1]}.${token.split('.')[2]}`);
  });

  it('HS256 signed with another key (our kid, an unknown kid, no kid, a path as kid)', async () => {
    const other = crypto.randomBytes(32);
    for (const header of [
      ours(),
      { alg: 'HS256', kid: 'unknownkid00' },
      { alg: 'HS256' },
      { alg: 'HS256', kid: '../signing-keys.json' },
    ]) {
      await refusedEverywhere(`Bearer ${hs256(header, claims(), other)}`);
    }
  });

  it('RS256, and its public key used as the HMAC secret (algorithm confusion), and an embedded jwk', async () => {
    const pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await refusedEverywhere(`Bearer ${jwt.sign(claims(), pair.privateKey, { algorithm: 'RS256', keyid: kid })}`);
    await refusedEverywhere(`Bearer ${hs256(ours(), claims(), pem)}`);
    await refusedEverywhere(
      `Bearer ${hs256(ours(), claims(), pair.publicKey.export({ type: 'spki', format: 'der' }))}`,
    );
    const jwk = pair.publicKey.export({ format: 'jwk' });
    await refusedEverywhere(
      `Bearer ${jwt.sign(claims(), pair.privateKey, { algorithm: 'RS256', header: { alg: 'RS256', jwk } as never })}`,
    );
  });

  it('expired (a second ago, and exactly now), signed with our key and the current jti', async () => {
    await refusedEverywhere(`Bearer ${hs256(ours(), claims({ exp: now() - 1 }), key)}`, EXPIRED);
    await refusedEverywhere(`Bearer ${hs256(ours(), claims({ iat: now() - 100, exp: now() - 3600 }), key)}`, EXPIRED);
  });

  it('nbf in the future, no exp, exp not a number', async () => {
    await refusedEverywhere(`Bearer ${hs256(ours(), claims({ nbf: now() + 3600 }), key)}`);
    await refusedEverywhere(`Bearer ${hs256(ours(), claims({ exp: undefined }), key)}`);
    await refusedEverywhere(`Bearer ${hs256(ours(), claims({ exp: String(now() + 3600) }), key)}`);
  });

  it('wrong iss, aud or sub (other values, missing, other case, arrays)', async () => {
    for (const overrides of [
      { iss: 'evil' },
      { iss: undefined },
      { iss: 'Profilegate' },
      { aud: 'profile_api_x' },
      { aud: undefined },
      { aud: ['other'] },
      { sub: OTHER },
      { sub: undefined },
      { sub: 'ACME' },
      { jti: undefined },
      { jti: 'not-the-current-one' },
    ]) {
      await refusedEverywhere(`Bearer ${hs256(ours(), claims(overrides), key)}`);
    }
  });

  it('tampered payload or header with the old signature, and the same signature spelt differently', async () => {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const original = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    for (const change of [
      { exp: (original['exp'] as number) + 86_400 * 365 },
      { sub: OTHER },
      { jti: 'x'.repeat(22) },
      { extra: 1 },
    ]) {
      await refusedEverywhere(`Bearer ${header}.${b64({ ...original, ...change })}.${signature}`);
    }
    await refusedEverywhere(`Bearer ${b64({ alg: 'HS256', typ: 'JWT', kid, x: 1 })}.${payload}.${signature}`);
    // The last character of a 32-byte base64url signature carries 2 unused bits: flipping one
    // decodes to the same bytes, but it is not the token that was issued.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(signature.at(-1)!);
    const twin = signature.slice(0, -1) + alphabet[last ^ 1]!;
    assert.deepEqual(Buffer.from(twin, 'base64url'), Buffer.from(signature, 'base64url'));
    await refusedEverywhere(`Bearer ${header}.${payload}.${twin}`);
    await refusedEverywhere(`Bearer ${header}.${payload}.${signature}=`);
  });

  it("another client's token", async () => {
    const other = await admin.generate(OTHER);
    await refusedEverywhere(`Bearer ${other}`);
  });

  it('a replaced token: works during its grace period, refused as revoked after it', async () => {
    const old = token;
    token = await admin.generate(CLIENT, { previousTokenGraceSeconds: 1 });
    await accepted(`Bearer ${old}`);
    await accepted(`Bearer ${token}`);
    await sleep(1300);
    await refusedEverywhere(`Bearer ${old}`, REVOKED);
    await accepted(`Bearer ${token}`);
    const older = token;
    token = await admin.generate(CLIENT); // no grace: the replaced token fails at once
    await refusedEverywhere(`Bearer ${older}`, REVOKED);
  });

  it('a revoked token (and every token, until a new one is generated)', async () => {
    const revoked = token;
    assert.equal((await admin.call('DELETE', tokenPath(CLIENT))).status, 204);
    await refusedEverywhere(`Bearer ${revoked}`, REVOKED);
    await refusedEverywhere(`Bearer ${hs256(ours(), claims(), key)}`, REVOKED);
    token = await admin.generate(CLIENT);
    await accepted(`Bearer ${token}`);
  });

  it('an 8 KB token: a validly signed one with the current jti, and noise', async () => {
    const big = hs256(ours(), claims({ pad: 'x'.repeat(6000) }), key);
    assert.ok(big.length >= 8000, `${big.length} characters`);
    await refusedEverywhere(`Bearer ${big}`);
    await refusedEverywhere(`Bearer ${'A'.repeat(8192)}`);
  });

  it('tokens are never read from the query string or the body', async () => {
    await section.check(async () => {
      const answer = await send(
        `${server.url}/rest/v1/profiles/thirdPartyId/u1?client=${CLIENT}&access_token=${token}`,
      );
      assert.equal(answer.status, 401);
      const posted = await send(`${server.url}/m2/${CLIENT}/profile/update?mbox3rdPartyId=u1&profile.attacked=yes`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `access_token=${token}`,
      });
      assert.equal(posted.status, 401);
    });
  });

  it('odd white space and case in "Bearer": the scheme in any case and spaces pass; anything else is refused', async () => {
    for (const header of [
      `bearer ${token}`,
      `BEARER ${token}`,
      `BeArEr ${token}`,
      `Bearer    ${token}`,
      `  Bearer ${token}  `,
      `Bearer ${token}\t`,
    ]) {
      await accepted(header);
    }
    for (const header of [
      `Bearer\t${token}`,
      `Bearer:${token}`,
      `Bearer: ${token}`,
      `Bearer "${token}"`,
      `Bearer ${token} ${token}`,
      `Bearer ${token},`,
      `Bearer\u00a0${token}`,
      `Bearer${token}`,
      `Token ${token}`,
      `${token}`,
    ]) {
      await refusedEverywhere(header, undefined, 400);
    }
    for (const header of [`Bearer ${token.toUpperCase()}`, `Bearer ${token}=`, `Bearer ${token}.`]) {
      await refusedEverywhere(header);
    }
  });

  describe('admin keys', () => {
    it('are compared in constant time: every key, as SHA-256 digests, whatever the candidate', async () => {
      const keys = [
        { key: ADMIN_KEY, role: 'admin' as const },
        { key: 'second-admin-key-0123456789', role: 'observer' as const },
        { key: 'x'.repeat(200), role: 'approver' as const },
      ];
      const authenticate = adminKeyAuthenticator(keys);
      const spy = sinon.spy(nodeCrypto, 'timingSafeEqual');
      try {
        const cases = section.cases();
        for (const [candidate, expected] of [
          [ADMIN_KEY, 'admin-key-1'],
          ['x'.repeat(200), 'admin-key-3'],
          [ADMIN_KEY.slice(0, -1), null],
          [`${ADMIN_KEY}0`, null],
          [ADMIN_KEY.replace(/.$/, '?'), null],
          ['short-key', null],
          ['y'.repeat(5000), null],
        ] as const) {
          await cases.run(`candidate of ${candidate.length} characters`, async () => {
            spy.resetHistory();
            const actor = await authenticate({ headers: { authorization: `Bearer ${candidate}` } } as never);
            assert.equal(actor?.id ?? null, expected);
            assert.equal(spy.callCount, keys.length, 'compared with every key, no early exit');
            for (const [a, b] of spy.args)
              assert.deepEqual([a.byteLength, b.byteLength], [32, 32], 'digests, so lengths do not leak');
          });
        }
        cases.done();
      } finally {
        spy.restore();
      }
    });

    it('near misses of the admin key, and a profile token, are refused on every admin route', async () => {
      const cases = section.cases();
      const candidates = [
        ADMIN_KEY.slice(0, -1),
        `${ADMIN_KEY}0`,
        ADMIN_KEY.toUpperCase(),
        ADMIN_KEY.replace(/.$/, '?'),
        token,
        'A'.repeat(8192),
      ];
      for (const candidate of candidates) {
        for (const [method, path] of [
          ['GET', tokenPath(CLIENT)],
          ['POST', tokenPath(CLIENT)],
          ['DELETE', tokenPath(CLIENT)],
          ['GET', settingsPath(CLIENT)],
          ['PUT', settingsPath(CLIENT)],
          ['GET', `/${CLIENT}/target/authentication/audit`],
        ] as const) {
          await cases.run(`${method} ${path} with a near miss of ${candidate.length} characters`, async () => {
            const answer = await send(`${server.url}${path}`, {
              method,
              headers: { Authorization: `Bearer ${candidate}` },
            });
            assert.equal(answer.status, 401, answer.text);
            assert.equal(json(answer)['httpStatus'], 401);
          });
        }
      }
      await cases.run('the profile token still works: nothing was changed', () => accepted(`Bearer ${token}`));
      await cases.run('the admin key is not a profile token', async () => {
        const answer = await send(`${server.url}/rest/v1/profiles/thirdPartyId/u1?client=${CLIENT}`, {
          headers: { Authorization: `Bearer ${ADMIN_KEY}` },
        });
        assert.equal(answer.status, 401);
      });
      cases.done();
    });
  });
});
