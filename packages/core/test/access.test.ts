/**
 * ProfileAccess, the access decision of API.md 2.0 without any web framework: the table of
 * Require Authentication off/on × what the request carries × whether the refusal is audited.
 */
import assert from 'node:assert/strict';
import { ProfileAccess, type ProfileAccessGrant, type ProfileAccessOptions } from '../src/access';
import { AuditLog } from '../src/audit';
import { OptionsError } from '../src/options';
import { MemoryStore } from '../src/store/memory';
import type { Store } from '../src/store/types';
import { TokenError } from '../src/tokens/bearer';
import { KeyRing, generateSigningKey } from '../src/tokens/keys';
import { TokenService } from '../src/tokens/service';

const START = Date.UTC(2026, 10, 22, 10, 0, 0, 0);
const CLIENT = 'acme';
const REALM = 'Bearer realm="profile-api"';

/** One client with Require Authentication as given and a ProfileAccess on a fixed clock. */
async function setup(requireAuthentication: boolean) {
  let now = START;
  const clock = () => now;
  const store = new MemoryStore();
  const signingKeys = new KeyRing([generateSigningKey(START)]);
  await store.putSettings(CLIENT, { requireAuthentication });
  const access = new ProfileAccess({ store, signingKeys, clock, cacheMs: 60_000 });
  const generate = async (grace = 0) =>
    (await access.tokens.generate(CLIENT, { actor: 'ops', expiresInSeconds: 300, previousTokenGraceSeconds: grace }))
      .accessToken;
  const denials = async () => {
    await access.audit.flush();
    return (await store.listAudit(CLIENT, 100)).filter((event) => event.action === 'auth.denied');
  };
  return { store, access, generate, denials, advance: (ms: number) => (now += ms) };
}

type Setup = Awaited<ReturnType<typeof setup>>;

interface Row {
  label: string;
  /** The Authorization header the request carries (after arranging the token state). */
  header: (s: Setup) => Promise<string | undefined>;
  /** With Require Authentication on: the refusal (status, reason, WWW-Authenticate), or the grant. */
  on: { status: number; reason: string; challenge: RegExp } | { grace: boolean };
}

const ROWS: Row[] = [
  {
    label: 'no header',
    header: async () => undefined,
    on: { status: 401, reason: 'missing', challenge: new RegExp(`^${REALM}$`) },
  },
  {
    label: 'malformed header (Basic)',
    header: async () => 'Basic dXNlcjpwYXNz',
    on: { status: 400, reason: 'invalid_request', challenge: /error="invalid_request"/ },
  },
  {
    label: 'bad token (not a JWT)',
    header: async () => 'Bearer garbage',
    on: { status: 401, reason: 'malformed', challenge: /error="invalid_token"/ },
  },
  {
    label: 'token of another server',
    header: async (s) => {
      const other = new TokenService({ store: new MemoryStore(), keys: new KeyRing([generateSigningKey(START)]) });
      const { accessToken } = await other.generate(CLIENT, { actor: 'ops' });
      other.dispose();
      await s.generate();
      return `Bearer ${accessToken}`;
    },
    on: { status: 401, reason: 'bad_signature', challenge: /error="invalid_token"/ },
  },
  {
    label: 'expired token',
    header: async (s) => {
      const token = await s.generate();
      s.advance(301_000);
      return `Bearer ${token}`;
    },
    on: { status: 401, reason: 'expired', challenge: /error_description="The token has expired"/ },
  },
  {
    label: 'revoked token',
    header: async (s) => {
      const token = await s.generate();
      await s.access.tokens.revoke(CLIENT, 'ops');
      return `Bearer ${token}`;
    },
    on: { status: 401, reason: 'revoked', challenge: /error_description="The token has been revoked"/ },
  },
  {
    label: 'replaced token, grace over',
    header: async (s) => {
      const token = await s.generate();
      await s.generate(60);
      s.advance(61_000);
      return `Bearer ${token}`;
    },
    on: { status: 401, reason: 'revoked', challenge: /error_description="The token has been revoked"/ },
  },
  {
    label: 'replaced token in its grace period',
    header: async (s) => {
      const token = await s.generate();
      await s.generate(60);
      s.advance(30_000);
      return `Bearer ${token}`;
    },
    on: { grace: true },
  },
  {
    label: 'valid token',
    header: async (s) => `Bearer ${await s.generate()}`,
    on: { grace: false },
  },
];

describe('ProfileAccess: the access decision (API.md 2.0)', () => {
  for (const method of ['check', 'recheck'] as const) {
    describe(method, () => {
      for (const row of ROWS) {
        it(`Require Authentication off, ${row.label}: open, nothing audited`, async () => {
          const s = await setup(false);
          const grant = await s.access[method](CLIENT, await row.header(s));
          assert.deepEqual(grant, { authenticated: false });
          assert.deepEqual(await s.denials(), []);
          s.access.dispose();
        });

        const { on } = row;
        if ('grace' in on) {
          it(`Require Authentication on, ${row.label}: passes with the verified token, nothing audited`, async () => {
            const s = await setup(true);
            const grant: ProfileAccessGrant = await s.access[method](CLIENT, await row.header(s));
            assert.equal(grant.authenticated, true);
            if (!grant.authenticated) return;
            assert.equal(grant.token.client, CLIENT);
            assert.equal(grant.token.graceUntil !== null, on.grace);
            assert.deepEqual(await s.denials(), []);
            s.access.dispose();
          });
        } else {
          it(`Require Authentication on, ${row.label}: ${on.status} ${on.reason}, the denial audited`, async () => {
            const s = await setup(true);
            const header = await row.header(s);
            await assert.rejects(s.access[method](CLIENT, header), (error: unknown) => {
              assert.ok(error instanceof TokenError, String(error));
              assert.equal(error.status, on.status);
              assert.equal(error.reason, on.reason);
              assert.match(error.headers['WWW-Authenticate'] ?? '', on.challenge);
              return true;
            });
            const denials = await s.denials();
            assert.equal(denials.length, 1);
            assert.equal(denials[0]!.actor, 'anonymous');
            assert.deepEqual(denials[0]!.details['reasons'], { [on.reason]: 1 });
            assert.doesNotMatch(JSON.stringify(denials[0]), /eyJ/, 'the audit never holds the token');
            s.access.dispose();
          });
        }
      }
    });
  }

  describe("checkCached, then check when it cannot decide (the gate's synchronous fast path, issue 18)", () => {
    /** checkCached's decision, or check's when checkCached answers undefined. */
    async function decide(access: ProfileAccess, header: string | undefined): Promise<ProfileAccessGrant> {
      return access.checkCached(CLIENT, header) ?? (await access.check(CLIENT, header));
    }

    for (const row of ROWS) {
      it(`Require Authentication on, ${row.label}: the same decision as check, a refusal audited once`, async () => {
        const s = await setup(true);
        const header = await row.header(s);
        // Warm the caches the way an earlier request with this header does.
        const first = await s.access.check(CLIENT, header).catch((error: unknown) => error);
        const before = (await s.denials()).reduce(
          (n, e) => n + Number(Object.values(e.details['reasons'] as object)[0]),
          0,
        );
        const second = await decide(s.access, header).catch((error: unknown) => error);
        if (first instanceof TokenError) {
          assert.ok(second instanceof TokenError, `granted what check refused: ${String(second)}`);
          assert.equal(second.reason, first.reason);
          assert.equal(second.status, first.status);
          const after = (await s.denials()).reduce(
            (n, e) => n + Number(Object.values(e.details['reasons'] as object)[0]),
            0,
          );
          assert.equal(after, before + 1, 'the refusal is counted once');
        } else {
          assert.deepEqual(second, first);
        }
        s.access.dispose();
      });
    }

    it('decides a valid token from the caches alone once they are warm, and nothing before', async () => {
      const s = await setup(true);
      const header = `Bearer ${await s.generate()}`;
      const fresh = new ProfileAccess({ store: s.store, signingKeys: new KeyRing([generateSigningKey(START)]) });
      assert.equal(fresh.checkCached(CLIENT, header), undefined, 'nothing cached yet: undecided');
      fresh.dispose();
      assert.equal(s.access.checkCached(CLIENT, header), undefined, 'the setting is not cached yet');
      const granted = await s.access.check(CLIENT, header);
      assert.deepEqual(s.access.checkCached(CLIENT, header), granted);
      s.advance(60_001);
      assert.equal(s.access.checkCached(CLIENT, header), undefined, 'a cache past cacheMs is not used');
      s.access.dispose();
    });

    it('Require Authentication off: open from the cached setting, whatever the header', async () => {
      const s = await setup(false);
      assert.equal(s.access.checkCached(CLIENT, 'Basic x'), undefined);
      await s.access.check(CLIENT, undefined);
      assert.deepEqual(s.access.checkCached(CLIENT, 'Basic x'), { authenticated: false });
      s.access.dispose();
    });
  });

  /** The store as an instance sees it that never hears of changes made elsewhere. */
  function deaf(store: Store): Store {
    return new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'onChange') return () => () => undefined;
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  it('check uses the cached setting; recheck reads the store (a switch made on another instance)', async () => {
    const store = new MemoryStore();
    await store.putSettings(CLIENT, { requireAuthentication: false });
    const access = new ProfileAccess({
      store: deaf(store),
      signingKeys: new KeyRing([generateSigningKey(START)]),
      clock: () => START,
      cacheMs: 60_000,
    });
    assert.deepEqual(await access.check(CLIENT, undefined), { authenticated: false });
    await store.putSettings(CLIENT, { requireAuthentication: true });
    assert.deepEqual(await access.check(CLIENT, undefined), { authenticated: false }, 'cached');
    await assert.rejects(access.recheck(CLIENT, undefined), (error: unknown) => (error as TokenError).status === 401);
    access.dispose();
  });

  it('shares its audit log when given one', async () => {
    const store = new MemoryStore();
    const audit = new AuditLog({ store, clock: () => START });
    const access = new ProfileAccess({ store, signingKeys: new KeyRing([generateSigningKey(START)]), audit });
    assert.equal(access.audit, audit);
    access.dispose();
  });
});

describe('ProfileAccess options', () => {
  const good = (): ProfileAccessOptions => ({
    store: new MemoryStore(),
    signingKeys: new KeyRing([generateSigningKey(START)]),
  });
  const BAD: Array<[string, (o: ProfileAccessOptions) => unknown, string]> = [
    ['no options', () => undefined, 'options'],
    ['store missing', (o) => ({ ...o, store: undefined }), 'store'],
    ['store not a Store', (o) => ({ ...o, store: { getSettings() {} } }), 'store'],
    ['signingKeys a string', (o) => ({ ...o, signingKeys: 'secret' }), 'signingKeys'],
    ['cacheMs negative', (o) => ({ ...o, cacheMs: -1 }), 'cacheMs'],
    ['cacheMs fractional', (o) => ({ ...o, cacheMs: 1.5 }), 'cacheMs'],
    ['cacheMs null', (o) => ({ ...o, cacheMs: null }), 'cacheMs'],
    ['clock not a function', (o) => ({ ...o, clock: 0 }), 'clock'],
    ['audit not an AuditLog', (o) => ({ ...o, audit: {} }), 'audit'],
  ];
  for (const [label, change, option] of BAD) {
    it(`throws OptionsError naming ${option}: ${label}`, () => {
      assert.throws(
        () => new ProfileAccess(change(good()) as ProfileAccessOptions),
        (error: unknown) =>
          error instanceof OptionsError &&
          error.option === option &&
          error.message.startsWith(`ProfileAccess: ${option} `),
      );
    });
  }

  it('names the factory an adapter gives', () => {
    assert.throws(
      () => new ProfileAccess({ ...good(), cacheMs: -1, factory: 'requireProfileToken' }),
      (error: unknown) =>
        error instanceof OptionsError &&
        error.factory === 'requireProfileToken' &&
        /^requireProfileToken: cacheMs must be a whole number of milliseconds >= 0/.test(error.message),
    );
  });
});
