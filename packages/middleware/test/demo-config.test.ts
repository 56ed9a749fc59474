import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { DemoConfigError, loadDemoConfig } from '../src/demo/config';

const CWD = resolve('/srv/app');
const KEY = 'k3y-0123456789abcdef';

/** Asserts that loading `env` throws a DemoConfigError naming `variable` and matching `pattern`. */
function refuses(env: NodeJS.ProcessEnv, variable: string, pattern: RegExp): Error {
  let caught: unknown;
  try {
    loadDemoConfig(env, CWD);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof DemoConfigError, `expected a DemoConfigError, got ${String(caught)}`);
  assert.equal(caught.variable, variable);
  assert.ok(caught.message.startsWith(`${variable}: `), caught.message);
  assert.match(caught.message, pattern);
  return caught;
}

describe('loadDemoConfig', () => {
  it('has the defaults of API.md section 4', () => {
    assert.deepEqual(loadDemoConfig({}, CWD), {
      port: 8080,
      host: '127.0.0.1',
      dataDir: resolve(CWD, 'data'),
      clients: ['demo'],
      adminKeys: null,
      store: { kind: 'sqlite', path: resolve(CWD, 'data', 'profiles.db') },
      bodyIdleTimeoutMs: 30_000,
      signingKeys: null,
      bulkRateLimit: { max: 10, windowMs: 60_000 },
    });
  });

  it('turns the bulk rate limit on by default; PROFILEGATE_BULK_RATE_LIMIT sets or removes it (issue 15.5)', () => {
    const limit = (value: string) => loadDemoConfig({ PROFILEGATE_BULK_RATE_LIMIT: value }, CWD).bulkRateLimit;
    assert.deepEqual(limit('5/30'), { max: 5, windowMs: 30_000 });
    assert.deepEqual(limit(' 100 / 3600 '), { max: 100, windowMs: 3_600_000 });
    assert.equal(limit('off'), null);
    for (const bad of ['0/60', '5', '5/0', 'x/60', '5/60s', '-1/60', '5/99999999'])
      refuses({ PROFILEGATE_BULK_RATE_LIMIT: bad }, 'PROFILEGATE_BULK_RATE_LIMIT', /batches\/seconds/);
  });

  it('treats blank variables as unset', () => {
    const env = {
      PORT: '',
      HOST: ' ',
      PROFILEGATE_DATA: '',
      PROFILEGATE_CLIENTS: '',
      PROFILEGATE_ADMIN_KEYS: '',
      PROFILEGATE_STORE: '',
      PROFILEGATE_BODY_IDLE_TIMEOUT_MS: '',
      PROFILEGATE_SIGNING_KEYS: ' ',
    };
    assert.deepEqual(loadDemoConfig(env, CWD), loadDemoConfig({}, CWD));
  });

  describe('PORT', () => {
    it('accepts 0 to 65535', () => {
      assert.equal(loadDemoConfig({ PORT: '0' }, CWD).port, 0);
      assert.equal(loadDemoConfig({ PORT: '3000' }, CWD).port, 3000);
      assert.equal(loadDemoConfig({ PORT: '65535' }, CWD).port, 65535);
    });
    for (const bad of ['65536', '-1', '80.5', 'http', '1e3', '0x50', '123456']) {
      it(`refuses ${JSON.stringify(bad)}`, () => {
        refuses({ PORT: bad }, 'PORT', /whole number from 0 to 65535/);
      });
    }
  });

  describe('HOST', () => {
    it('accepts IP addresses and host names', () => {
      assert.equal(loadDemoConfig({ HOST: '0.0.0.0' }, CWD).host, '0.0.0.0');
      assert.equal(loadDemoConfig({ HOST: '::1' }, CWD).host, '::1');
      assert.equal(loadDemoConfig({ HOST: '[::1]' }, CWD).host, '::1');
      assert.equal(loadDemoConfig({ HOST: 'localhost' }, CWD).host, 'localhost');
      assert.equal(loadDemoConfig({ HOST: 'api.internal.example' }, CWD).host, 'api.internal.example');
    });
    for (const bad of ['http://localhost', 'local host', 'host:80', '-bad', 'a_b']) {
      it(`refuses ${JSON.stringify(bad)}`, () => {
        refuses({ HOST: bad }, 'HOST', /not an IP address or host name/);
      });
    }
  });

  describe('PROFILEGATE_DATA', () => {
    it('resolves a relative folder from cwd and keeps an absolute one', () => {
      assert.equal(loadDemoConfig({ PROFILEGATE_DATA: 'state' }, CWD).dataDir, resolve(CWD, 'state'));
      assert.equal(loadDemoConfig({ PROFILEGATE_DATA: '/var/lib/pg' }, CWD).dataDir, resolve('/var/lib/pg'));
    });
    it('moves the default database with it', () => {
      assert.deepEqual(loadDemoConfig({ PROFILEGATE_DATA: '/var/lib/pg' }, CWD).store, {
        kind: 'sqlite',
        path: resolve('/var/lib/pg', 'profiles.db'),
      });
    });
  });

  describe('PROFILEGATE_CLIENTS', () => {
    it('reads a comma-separated list, trimming spaces and dropping repeats and empty entries', () => {
      assert.deepEqual(loadDemoConfig({ PROFILEGATE_CLIENTS: 'acme, demo-2 ,,acme,' }, CWD).clients, [
        'acme',
        'demo-2',
      ]);
    });
    for (const bad of ['Acme', '-acme', 'ac_me', 'a'.repeat(65), 'acme,b c']) {
      it(`refuses ${JSON.stringify(bad.slice(0, 20))}`, () => {
        refuses({ PROFILEGATE_CLIENTS: bad }, 'PROFILEGATE_CLIENTS', /is not a client code; .*a-z, 0-9 and "-"/);
      });
    }
    it('refuses a list without any code', () => {
      refuses({ PROFILEGATE_CLIENTS: ' , ,' }, 'PROFILEGATE_CLIENTS', /at least one client code/);
    });
  });

  describe('PROFILEGATE_ADMIN_KEYS', () => {
    it('reads key:role and key:role:actorId entries', () => {
      const keys = loadDemoConfig(
        { PROFILEGATE_ADMIN_KEYS: `${KEY}:admin:ops, ${KEY}-2:approver,${KEY}-3:sysadmin:root` },
        CWD,
      ).adminKeys;
      assert.deepEqual(keys, [
        { key: KEY, role: 'admin', actorId: 'ops' },
        { key: `${KEY}-2`, role: 'approver' },
        { key: `${KEY}-3`, role: 'sysadmin', actorId: 'root' },
      ]);
    });
    it('accepts every role', () => {
      for (const role of ['observer', 'editor', 'approver', 'publisher', 'admin', 'sysadmin']) {
        assert.equal(loadDemoConfig({ PROFILEGATE_ADMIN_KEYS: `${KEY}:${role}` }, CWD).adminKeys![0]!.role, role);
      }
    });

    const cases: Array<[string, string, RegExp]> = [
      ['a key without a role', `${KEY}`, /entry 1 must be key:role or key:role:actorId/],
      ['too many parts', `${KEY}:admin:ops:extra`, /entry 1 must be key:role or key:role:actorId/],
      ['a short key', 'short-key:admin', /key of entry 1 is shorter than 16 characters/],
      ['a key with a space', 'key with spaces 0123:admin', /white space/],
      [
        'an unknown role',
        `${KEY}:owner`,
        /role of entry 1 must be one of observer, editor, approver, publisher, admin, sysadmin/,
      ],
      ['a bad actor id', `${KEY}:admin:o p`, /actorId of entry 1 must be 1 to 64 characters/],
      ['a repeated key', `${KEY}:admin,${KEY}:editor`, /key of entry 2 is listed twice/],
      ['no entry', ' , ', /at least one key:role/],
    ];
    for (const [what, value, pattern] of cases) {
      it(`refuses ${what} without echoing the key`, () => {
        const error = refuses({ PROFILEGATE_ADMIN_KEYS: value }, 'PROFILEGATE_ADMIN_KEYS', pattern);
        assert.ok(!error.message.includes(KEY), 'the message must not contain the key');
        assert.ok(!error.message.includes('short-key'), 'the message must not contain the key');
        assert.ok(!error.message.includes('spaces 0123'), 'the message must not contain the key');
      });
    }
    it('does not echo a piece of a key that contains a colon', () => {
      const error = refuses(
        { PROFILEGATE_ADMIN_KEYS: `${KEY}:s3cr3tpart:ops` },
        'PROFILEGATE_ADMIN_KEYS',
        /role of entry 1/,
      );
      assert.ok(!error.message.includes('s3cr3tpart'));
    });
  });

  describe('PROFILEGATE_SIGNING_KEYS', () => {
    const secret = 'S3CRET'.repeat(8);
    const keyFile = (keys: unknown[]) => JSON.stringify({ keys });

    it('takes the JSON of a key file', () => {
      const value = keyFile([{ kid: 'abcdefgh', secret, createdAt: 1 }]);
      assert.equal(loadDemoConfig({ PROFILEGATE_SIGNING_KEYS: value }, CWD).signingKeys, value);
      assert.equal(loadDemoConfig({ PROFILEGATE_SIGNING_KEYS: ` ${value}\n` }, CWD).signingKeys, value);
    });
    const bad: Array<[string, string, RegExp]> = [
      ['not JSON', `{"keys":[{"kid":"abcdefgh","secret":"${secret}"`, /not valid \(not JSON\)/],
      ['no keys', '{"keys":[]}', /at least one key/],
      ['a short secret', keyFile([{ kid: 'abcdefgh', secret: 'S3CRETS3CRET', createdAt: 1 }]), /shorter than 32 bytes/],
      [
        'a secret that is not base64url',
        keyFile([{ kid: 'abcdefgh', secret: `${secret}+/=`, createdAt: 1 }]),
        /base64url/,
      ],
      ['only a pending key', keyFile([{ kid: 'abcdefgh', secret, createdAt: 1, pending: true }]), /no key can sign/],
      ['a file path', '/etc/profilegate/signing-keys.json', /not JSON.*JSON of a signing key file/],
    ];
    for (const [what, value, pattern] of bad) {
      it(`refuses ${what}, never repeating the value`, () => {
        const error = refuses({ PROFILEGATE_SIGNING_KEYS: value }, 'PROFILEGATE_SIGNING_KEYS', pattern);
        assert.ok(!error.message.includes('S3CRET'), error.message);
      });
    }
  });

  describe('PROFILEGATE_STORE', () => {
    it('reads sqlite:<path>, resolving it from cwd', () => {
      assert.deepEqual(loadDemoConfig({ PROFILEGATE_STORE: 'sqlite:db/p.db' }, CWD).store, {
        kind: 'sqlite',
        path: resolve(CWD, 'db/p.db'),
      });
      assert.deepEqual(loadDemoConfig({ PROFILEGATE_STORE: 'sqlite:/tmp/p.db' }, CWD).store, {
        kind: 'sqlite',
        path: resolve('/tmp/p.db'),
      });
      assert.deepEqual(loadDemoConfig({ PROFILEGATE_STORE: 'sqlite:///tmp/p.db' }, CWD).store, {
        kind: 'sqlite',
        path: resolve('/tmp/p.db'),
      });
    });
    it('reads postgres:// URLs with an optional ?schema=, and refuses bad ones without repeating them', () => {
      assert.deepEqual(loadDemoConfig({ PROFILEGATE_STORE: 'postgres://u:pw@db:5432/pg' }, CWD).store, {
        kind: 'postgres',
        url: 'postgres://u:pw@db:5432/pg',
        schema: 'public',
      });
      assert.deepEqual(loadDemoConfig({ PROFILEGATE_STORE: 'postgresql://db/pg?schema=tenant_a' }, CWD).store, {
        kind: 'postgres',
        url: 'postgresql://db/pg',
        schema: 'tenant_a',
      });
      for (const url of ['postgres://u:pw-secret@db/pg?schema=pg_x', 'postgres://u:pw-secret@db/pg?schema=A;drop']) {
        const error = refuses({ PROFILEGATE_STORE: url }, 'PROFILEGATE_STORE', /schema= must be/);
        assert.ok(!error.message.includes('pw-secret'));
      }
    });
    it('refuses other schemes and an empty or in-memory sqlite path', () => {
      refuses({ PROFILEGATE_STORE: 'mysql://db' }, 'PROFILEGATE_STORE', /must be sqlite:<path/);
      refuses({ PROFILEGATE_STORE: './profiles.db' }, 'PROFILEGATE_STORE', /must be sqlite:<path/);
      refuses({ PROFILEGATE_STORE: 'sqlite:' }, 'PROFILEGATE_STORE', /needs the path of a database file/);
      refuses({ PROFILEGATE_STORE: 'sqlite::memory:' }, 'PROFILEGATE_STORE', /needs the path of a database file/);
    });
  });

  describe('PROFILEGATE_BODY_IDLE_TIMEOUT_MS', () => {
    it('accepts a whole number of milliseconds from 1 to 2147483647', () => {
      assert.equal(loadDemoConfig({ PROFILEGATE_BODY_IDLE_TIMEOUT_MS: '1' }, CWD).bodyIdleTimeoutMs, 1);
      assert.equal(loadDemoConfig({ PROFILEGATE_BODY_IDLE_TIMEOUT_MS: '120000' }, CWD).bodyIdleTimeoutMs, 120_000);
      assert.equal(
        loadDemoConfig({ PROFILEGATE_BODY_IDLE_TIMEOUT_MS: '2147483647' }, CWD).bodyIdleTimeoutMs,
        2_147_483_647,
      );
    });
    it('refuses anything else, naming the unit', () => {
      for (const raw of ['0', '-5', '1.5', '30s', '2147483648', 'abc']) {
        refuses(
          { PROFILEGATE_BODY_IDLE_TIMEOUT_MS: raw },
          'PROFILEGATE_BODY_IDLE_TIMEOUT_MS',
          /whole number of milliseconds from 1 to 2147483647/,
        );
      }
    });
  });
});
