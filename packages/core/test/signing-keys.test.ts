/**
 * Signing keys shared by instances (issue 14, point 7): a ring replaced while running, the key
 * file's pending and retired keys, fingerprints in the store, the start-up check and live reload.
 */
import assert from 'node:assert/strict';
import { createSecretKey, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryStore } from '../src/store/memory';
import type { SigningKeyRecord } from '../src/store/types';
import { TokenError } from '../src/tokens/bearer';
import { SigningKeyMismatchError, agreeOnSigningKeys, signingKeyFingerprint } from '../src/tokens/key-agreement';
import {
  activateSigningKey,
  addSigningKey,
  loadOrCreateKeyRing,
  parseSigningKeys,
  readSigningKeyFile,
  retireSigningKey,
  rotateSigningKey,
  type SigningKeySet,
} from '../src/tokens/key-file';
import { KeyRing, generateSigningKey, type SigningKey } from '../src/tokens/keys';
import { openSigningKeys, type LiveSigningKeys } from '../src/tokens/live-keys';
import { TokenService } from '../src/tokens/service';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
const clock = () => NOW;

interface FileKey {
  kid: string;
  secret?: string;
  createdAt?: number;
  pending?: boolean;
  retiredAt?: number;
}

const fileKey = (key: SigningKey): FileKey => ({
  kid: key.kid,
  secret: key.key.export().toString('base64url'),
  createdAt: key.createdAt,
  ...(key.pending ? { pending: true } : {}),
});
const text = (keys: FileKey[]) => JSON.stringify({ keys });
const secretOf = (key: SigningKey) => key.key.export().toString('base64url');

/** Lets pending callbacks (store change listeners, queued reloads reading files) run until `condition`. */
async function settle(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  assert.ok(condition(), 'the condition never came true');
}

describe('KeyRing.replace', () => {
  it('swaps every key at once; a set that is not valid leaves the ring as it was', () => {
    const a = generateSigningKey(1);
    const b = generateSigningKey(2);
    const ring = new KeyRing([a]);
    ring.replace([a, b]);
    assert.equal(ring.active(), b);
    ring.replace([b]);
    assert.equal(ring.get(a.kid), undefined);
    assert.throws(() => ring.replace([]), /at least one/);
    assert.throws(() => ring.replace([a, a]), /already/);
    assert.deepEqual(ring.all(), [b]);
  });

  it('never gives a known kid another secret, even after the kid left the ring', () => {
    const a = generateSigningKey(1);
    const b = generateSigningKey(2);
    const ring = new KeyRing([a, b]);
    ring.replace([b]);
    const forged = { ...a, key: createSecretKey(randomBytes(32)) };
    assert.throws(() => ring.replace([b, forged]), /another secret/);
    assert.deepEqual(ring.all(), [b]);
    ring.replace([b, a]); // the same secret may come back
  });

  it('a pending key verifies but does not sign while a key in use is left', () => {
    const a = generateSigningKey(1);
    const next = { ...generateSigningKey(2), pending: true };
    const ring = new KeyRing([a, next]);
    assert.equal(ring.active(), a);
    assert.equal(ring.get(next.kid), next);
    ring.replace([next]); // the key in use was retired before the new one was activated
    assert.equal(ring.active(), next);
  });
});

describe('TokenService with a replaced ring', () => {
  it('refuses at once the tokens of a key taken out of the ring, even one it verified a moment ago', async () => {
    const old = generateSigningKey(NOW - 1000);
    const keys = new KeyRing([old]);
    const service = new TokenService({ store: new MemoryStore(), keys, clock });
    const issued = await service.generate('demo', { actor: 'ops' });
    await service.verify('demo', issued.accessToken); // now in the verified-token cache
    keys.replace([generateSigningKey(NOW)]);
    const error = await service.verify('demo', issued.accessToken).then(
      () => assert.fail('a token of a retired key was accepted'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TokenError);
    assert.equal(error.reason, 'bad_signature');
    assert.equal(await service.current('demo'), null, 'the current token cannot be shown again either');
    service.dispose();
  });

  it('signs with a key activated in the running ring, and still verifies the older key', async () => {
    const a = generateSigningKey(NOW - 1000);
    const b = { ...generateSigningKey(NOW), pending: true };
    const keys = new KeyRing([a, b]);
    const service = new TokenService({ store: new MemoryStore(), keys, clock });
    const first = await service.generate('demo', { actor: 'ops' });
    assert.equal(first.record.kid, a.kid);
    keys.replace([a, { ...b, pending: false }]);
    const second = await service.generate('demo', { actor: 'ops', previousTokenGraceSeconds: 60 });
    assert.equal(second.record.kid, b.kid);
    await service.verify('demo', first.accessToken);
    await service.verify('demo', second.accessToken);
    service.dispose();
  });
});

describe('key file: pending and retired keys', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'profilegate-keyfile-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('reads pending and retired entries; a retired entry needs no secret', () => {
    const a = generateSigningKey(1);
    const b = generateSigningKey(2);
    const set = parseSigningKeys(
      text([fileKey(a), { ...fileKey(b), pending: true }, { kid: 'gone-key-1', retiredAt: 5 }]),
      { file: '/x/keys.json' },
    );
    assert.deepEqual(
      set.keys.map((k) => [k.kid, k.pending === true]),
      [
        [a.kid, false],
        [b.kid, true],
      ],
    );
    assert.deepEqual(set.retired, [{ kid: 'gone-key-1', retiredAt: 5 }]);
  });

  const bad: Array<[string, FileKey[] | string]> = [
    ['every key pending', [{ kid: 'abcdefgh', secret: 'S'.repeat(43), createdAt: 1, pending: true }]],
    ['every key retired', [{ kid: 'abcdefgh', secret: 'S'.repeat(43), retiredAt: 1 }]],
    [
      'a pending flag that is not a boolean',
      [{ kid: 'abcdefgh', secret: 'S'.repeat(43), createdAt: 1, pending: 'yes' as unknown as boolean }],
    ],
    [
      'a retiredAt that is not a number',
      [{ kid: 'abcdefgh', secret: 'S'.repeat(43), retiredAt: 'now' as unknown as number }],
    ],
    ['not JSON', `{"keys":[{"kid":"abcdefgh","secret":"${'S'.repeat(43)}`],
  ];
  for (const [what, keys] of bad) {
    it(`refuses ${what}, naming the variable and never quoting a secret`, () => {
      const raw = typeof keys === 'string' ? keys : text(keys);
      assert.throws(
        () => parseSigningKeys(raw, { variable: 'PROFILEGATE_SIGNING_KEYS' }),
        (error: Error) => {
          assert.match(error.message, /^PROFILEGATE_SIGNING_KEYS is not valid/);
          assert.ok(!error.message.includes('SSSS'), error.message);
          return true;
        },
      );
    });
  }

  it('add, activate and retire: a two-step rotation, written atomically with mode 0600', async function () {
    const file = path.join(dir, 'keys.json');
    const first = (await loadOrCreateKeyRing(file, clock)).active();
    const kid = await addSigningKey(file, clock);
    let ring = new KeyRing((await readSigningKeyFile(file)).keys);
    assert.equal(ring.active().kid, first.kid, 'a pending key does not sign');
    assert.equal(ring.get(kid)?.pending, true);

    await activateSigningKey(file, kid, clock);
    ring = new KeyRing((await readSigningKeyFile(file)).keys);
    assert.equal(ring.active().kid, kid);
    assert.ok(ring.get(first.kid), 'the old key still verifies');

    await retireSigningKey(file, first.kid, () => NOW + 5);
    const set = await readSigningKeyFile(file);
    assert.deepEqual(
      set.keys.map((k) => k.kid),
      [kid],
    );
    assert.deepEqual(set.retired, [{ kid: first.kid, retiredAt: NOW + 5 }]);
    assert.ok(!(await fs.readFile(file, 'utf8')).includes(secretOf(first)), 'a retired key loses its secret');
    await assert.rejects(retireSigningKey(file, kid, clock), /only key .* that can sign/);
    if (process.platform !== 'win32') assert.equal((await fs.stat(file)).mode & 0o777, 0o600);

    // A rotation keeps the retired entry.
    await rotateSigningKey(file, clock);
    assert.deepEqual((await readSigningKeyFile(file)).retired, [{ kid: first.kid, retiredAt: NOW + 5 }]);
  });
});

describe('signingKeyFingerprint', () => {
  it('is the same for the same key, differs between keys, and does not hold the key', () => {
    const a = generateSigningKey(1);
    const b = generateSigningKey(1);
    const copy = { ...a, key: createSecretKey(a.key.export()) };
    assert.equal(signingKeyFingerprint(a), signingKeyFingerprint(copy));
    assert.notEqual(signingKeyFingerprint(a), signingKeyFingerprint(b));
    assert.match(signingKeyFingerprint(a), /^[A-Za-z0-9_-]{22}$/);
    assert.ok(!signingKeyFingerprint(a).includes(secretOf(a).slice(0, 8)));
  });
});

describe('agreeOnSigningKeys', () => {
  const origin = { file: '/srv/b/signing-keys.json' };
  const options = { origin, registeredBy: 'b/1 with the signing key file /srv/b/signing-keys.json', now: NOW };
  const setOf = (...keys: SigningKey[]): SigningKeySet => ({ keys, retired: [] });

  it('registers the keys of the first instance, and accepts the same keys from another', async () => {
    const store = new MemoryStore();
    const a = generateSigningKey(1);
    const first = await agreeOnSigningKeys(store, setOf(a), { ...options, registeredBy: 'a/1' });
    assert.deepEqual(first.records, [
      { kid: a.kid, fingerprint: signingKeyFingerprint(a), registeredBy: 'a/1', registeredAt: NOW, retiredAt: null },
    ]);
    const copy = { ...a, key: createSecretKey(a.key.export()) };
    const second = await agreeOnSigningKeys(store, setOf(copy), options);
    assert.deepEqual(
      second.keys.map((k) => k.kid),
      [a.kid],
    );
    assert.equal(JSON.stringify(await store.listSigningKeys()).includes(secretOf(a)), false, 'never the key itself');
  });

  it('refuses, writing nothing, a kid with another secret or a set lacking a key in use', async () => {
    const store = new MemoryStore();
    const a = generateSigningKey(1);
    await agreeOnSigningKeys(store, setOf(a), {
      ...options,
      registeredBy: 'a/1 with the signing key file /srv/a/keys.json',
    });
    const before = await store.listSigningKeys();

    const forged = { ...generateSigningKey(1), kid: a.kid };
    await assert.rejects(agreeOnSigningKeys(store, setOf(forged), options), (error: Error) => {
      assert.ok(error instanceof SigningKeyMismatchError);
      assert.match(
        error.message,
        new RegExp(`Signing key ${a.kid} of the signing key file /srv/b/signing-keys\\.json`),
      );
      assert.match(error.message, /fingerprint differs/);
      assert.match(
        error.message,
        /Copy the signing key file of the instance that registered it \(a\/1 with the signing key file \/srv\/a\/keys\.json on 2026-11-22T10:00:00\.000Z\) to \/srv\/b\/signing-keys\.json/,
      );
      assert.match(error.message, /to \/srv\/b\/signing-keys\.json/);
      assert.ok(!error.message.includes(secretOf(forged)) && !error.message.includes(secretOf(a)));
      return true;
    });

    const other = generateSigningKey(2);
    await assert.rejects(agreeOnSigningKeys(store, setOf(other), options), (error: Error) => {
      assert.ok(error instanceof SigningKeyMismatchError);
      assert.match(error.message, new RegExp(`signing key ${a.kid} is in use`));
      assert.match(error.message, /does not have it/);
      return true;
    });
    assert.deepEqual(await store.listSigningKeys(), before, 'the refused keys were not registered');
  });

  it('two instances starting at once with different keys: exactly one starts', async () => {
    const store = new MemoryStore();
    const results = await Promise.allSettled([
      agreeOnSigningKeys(store, setOf(generateSigningKey(1)), options),
      agreeOnSigningKeys(store, setOf(generateSigningKey(1)), options),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    assert.equal((await store.listSigningKeys()).length, 1);
  });

  it('registers a new key beside the recorded ones; a retired entry retires the key for every instance', async () => {
    const store = new MemoryStore();
    const a = generateSigningKey(1);
    const b = { ...generateSigningKey(2), pending: true };
    await agreeOnSigningKeys(store, setOf(a), options);
    await agreeOnSigningKeys(store, setOf(a, b), options);
    assert.deepEqual((await store.listSigningKeys()).map((r) => r.kid).sort(), [a.kid, b.kid].sort());
    const active = { ...b, pending: false };
    await agreeOnSigningKeys(store, { keys: [active], retired: [{ kid: a.kid, retiredAt: 9 }] }, options);
    const records = await store.listSigningKeys();
    assert.equal(records.find((r) => r.kid === a.kid)?.retiredAt, NOW);

    // An instance that still lists the retired key leaves it out; one lacking it starts.
    const stale = await agreeOnSigningKeys(store, setOf(a, active), options);
    assert.deepEqual(
      stale.keys.map((k) => k.kid),
      [b.kid],
    );
    assert.deepEqual(stale.retiredInStore, [a.kid]);
    await assert.rejects(agreeOnSigningKeys(store, setOf(a), options), SigningKeyMismatchError);
    await assert.rejects(agreeOnSigningKeys(store, setOf(a), { ...options, held: new Set([a.kid]) }), /no key left/);
  });

  it('a lost key can be retired by id alone, so instances start again without it', async () => {
    const store = new MemoryStore();
    const lost = generateSigningKey(1);
    await agreeOnSigningKeys(store, setOf(lost), options);
    const fresh = generateSigningKey(2);
    await assert.rejects(agreeOnSigningKeys(store, setOf(fresh), options), SigningKeyMismatchError);
    await agreeOnSigningKeys(store, { keys: [fresh], retired: [{ kid: lost.kid, retiredAt: 1 }] }, options);
    await agreeOnSigningKeys(store, setOf(fresh), options);
  });

  it('on a reload, a key held now must stay; a key only others registered is reported, not refused', async () => {
    const store = new MemoryStore();
    const a = generateSigningKey(1);
    const b = generateSigningKey(2);
    await agreeOnSigningKeys(store, setOf(a, b), options);
    const held = new Set([a.kid]);
    const reload = await agreeOnSigningKeys(store, setOf(a), { ...options, held });
    assert.deepEqual(
      reload.missing.map((r: SigningKeyRecord) => r.kid),
      [b.kid],
    );
    await assert.rejects(
      agreeOnSigningKeys(store, setOf(b), { ...options, held }),
      new RegExp(`no longer has signing key ${a.kid}.*instead of deleting it`),
    );
  });
});

describe('openSigningKeys', () => {
  let dir: string;
  let opened: LiveSigningKeys[];
  let logs: string[];
  const log = (line: string) => logs.push(line);
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'profilegate-live-keys-'));
    opened = [];
    logs = [];
  });
  afterEach(async () => {
    for (const keys of opened) await keys.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const open = async (store: MemoryStore, name: string, instance = name) => {
    const keys = await openSigningKeys({ store, file: path.join(dir, name), clock, log, pollMs: 0, instance });
    opened.push(keys);
    return keys;
  };
  const write = (name: string, keys: FileKey[]) => fs.writeFile(path.join(dir, name), text(keys), { mode: 0o600 });

  it('creates the key file of the first instance; a second one with its own folder refuses, creating nothing', async () => {
    const store = new MemoryStore();
    const a = await open(store, 'a.json');
    assert.equal((await fs.stat(path.join(dir, 'a.json'))).isFile(), true);
    await assert.rejects(open(store, 'b.json'), (error: Error) => {
      assert.ok(error instanceof SigningKeyMismatchError);
      assert.ok(
        error.message.includes(`the signing key file ${path.join(dir, 'b.json')} does not exist`),
        error.message,
      );
      assert.ok(error.message.includes(a.ring.active().kid));
      assert.ok(
        error.message.includes(
          `Copy the signing key file of the instance that registered it (a.json with the signing key file ${path.join(dir, 'a.json')} on`,
        ),
        error.message,
      );
      return true;
    });
    await assert.rejects(fs.stat(path.join(dir, 'b.json')), /ENOENT/);
    assert.deepEqual(logs, []);
  });

  it('takes the keys from a variable, and names the variable when they do not match', async () => {
    const store = new MemoryStore();
    const a = generateSigningKey(1);
    const value = text([fileKey(a)]);
    const keys = await openSigningKeys({ store, variable: { name: 'PROFILEGATE_SIGNING_KEYS', value }, clock, log });
    opened.push(keys);
    assert.equal(keys.ring.active().kid, a.kid);
    const other = text([fileKey({ ...generateSigningKey(1), kid: a.kid })]);
    await assert.rejects(
      openSigningKeys({ store, variable: { name: 'PROFILEGATE_SIGNING_KEYS', value: other }, clock, log }),
      /environment variable PROFILEGATE_SIGNING_KEYS is not the key the database knows.*Set PROFILEGATE_SIGNING_KEYS to the content/,
    );
  });

  it('reloads a changed key file into the same ring: a pending key, then its activation', async () => {
    const store = new MemoryStore();
    const a = generateSigningKey(NOW - 10);
    await write('a.json', [fileKey(a)]);
    const keys = await open(store, 'a.json');
    const ring = keys.ring;
    assert.equal(await keys.reload(), 'unchanged');

    const b = generateSigningKey(NOW);
    await write('a.json', [fileKey(a), { ...fileKey(b), pending: true }]);
    assert.equal(await keys.reload(), 'reloaded');
    assert.equal(ring.active().kid, a.kid);
    assert.equal(ring.get(b.kid)?.pending, true);
    await write('a.json', [fileKey(a), fileKey(b)]);
    assert.equal(await keys.reload(), 'reloaded');
    assert.equal(ring.active().kid, b.kid);
    assert.deepEqual(logs, [
      `Signing keys reloaded from the signing key file ${path.join(dir, 'a.json')}: ${a.kid}, ${b.kid} (pending); signing with ${a.kid}`,
      `Signing keys reloaded from the signing key file ${path.join(dir, 'a.json')}: ${a.kid}, ${b.kid}; signing with ${b.kid}`,
    ]);
    assert.ok(
      (await store.listSigningKeys()).some((r) => r.kid === b.kid),
      'the new key is registered',
    );
  });

  it('keeps the keys in use on a bad reload and logs one line, once, without a secret', async () => {
    const store = new MemoryStore();
    const a = generateSigningKey(NOW);
    await write('a.json', [fileKey(a)]);
    const keys = await open(store, 'a.json');
    const secret = 'S'.repeat(43);
    await fs.writeFile(path.join(dir, 'a.json'), `{"keys":[{"kid":"abcdefgh","secret":"${secret}`);
    assert.equal(await keys.reload(), 'refused');
    assert.equal(await keys.reload(), 'refused');
    assert.equal(keys.ring.active().kid, a.kid);
    assert.equal(logs.length, 1, logs.join('\n'));
    assert.match(
      logs[0]!,
      /^Signing keys not reloaded \(still using .*\): Signing key file .*a\.json is not valid \(not JSON\)/,
    );
    assert.ok(!logs[0]!.includes('SSSS') && !logs[0]!.includes(secretOf(a)));

    // Deleting a key in use instead of retiring it is refused too.
    const b = generateSigningKey(NOW + 1);
    await write('a.json', [fileKey(b)]);
    assert.equal(await keys.reload(), 'refused');
    assert.ok(keys.ring.get(a.kid));
    assert.match(logs.at(-1)!, /no longer has signing key .* instead of deleting it/);
  });

  it("a key retired in one instance's file stops verifying on the others, whose file still has it", async () => {
    const store = new MemoryStore();
    const a = generateSigningKey(NOW - 10);
    const b = generateSigningKey(NOW);
    await write('a.json', [fileKey(a), fileKey(b)]);
    await write('b.json', [fileKey(a), fileKey(b)]);
    const one = await open(store, 'a.json');
    const two = await open(store, 'b.json');
    await write('a.json', [{ kid: a.kid, retiredAt: NOW }, fileKey(b)]);
    assert.equal(await one.reload(), 'reloaded');
    assert.equal(one.ring.get(a.kid), undefined);
    // The store announces the change; the other instance checks again by itself.
    await settle(() => two.ring.get(a.kid) === undefined);
    assert.equal(two.ring.active().kid, b.kid);
    await settle(() =>
      logs.some((line) =>
        line.includes(`Signing key ${a.kid} of the signing key file ${path.join(dir, 'b.json')} is retired`),
      ),
    );
  });

  it('drops a key retired elsewhere even while its own key file is refused', async () => {
    const store = new MemoryStore();
    const a = generateSigningKey(NOW - 10);
    const b = generateSigningKey(NOW);
    await write('a.json', [fileKey(a), fileKey(b)]);
    await write('b.json', [fileKey(a), fileKey(b)]);
    const one = await open(store, 'a.json');
    const two = await open(store, 'b.json');
    // B's file now gives b's id another secret: every reload of B is refused.
    await write('b.json', [fileKey(a), fileKey({ ...generateSigningKey(NOW), kid: b.kid })]);
    assert.equal(await two.reload(), 'refused');
    await write('a.json', [{ kid: a.kid, retiredAt: NOW }, fileKey(b)]);
    assert.equal(await one.reload(), 'reloaded');
    await settle(() => two.ring.get(a.kid) === undefined);
    assert.equal(two.ring.active().kid, b.kid);
    assert.ok(two.ring.get(b.kid)?.key.equals(b.key), 'the refused secret was not taken');
    assert.ok(
      logs.some((line) => line.startsWith(`Signing key ${a.kid} is retired in the database: no longer verifying it`)),
    );
  });

  it('warns a running instance that another one registered a key it lacks', async () => {
    const store = new MemoryStore();
    const a = generateSigningKey(NOW);
    await write('a.json', [fileKey(a)]);
    await write('b.json', [fileKey(a)]);
    await open(store, 'a.json');
    const two = await open(store, 'b.json');
    const b = { ...generateSigningKey(NOW + 1), pending: true };
    await agreeOnSigningKeys(
      store,
      { keys: [a, b], retired: [] },
      { origin: { file: 'elsewhere' }, registeredBy: 'c/3', now: NOW },
    );
    await settle(() => logs.some((line) => line.includes(`signing key ${b.kid} is in use (registered by c/3`)));
    assert.equal(two.ring.get(b.kid), undefined);
  });

  it('polls the key file', async () => {
    const store = new MemoryStore();
    const a = generateSigningKey(NOW - 10);
    await write('a.json', [fileKey(a)]);
    const keys = await openSigningKeys({ store, file: path.join(dir, 'a.json'), clock, log, pollMs: 5 });
    opened.push(keys);
    const b = generateSigningKey(NOW);
    await write('a.json', [fileKey(a), fileKey(b)]);
    for (let i = 0; i < 2000 && keys.ring.active().kid !== b.kid; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(keys.ring.active().kid, b.kid);
  });
});
