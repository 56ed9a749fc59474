/**
 * The pieces behind "the token is checked again once a batch body has been received" (API.md
 * 3.1): a verification that reads the store itself, and a batch that can be refused after its
 * body was read and before it is recorded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sinon from 'sinon';
import { ProfileService } from '../src/profile-service';
import { MemoryStore } from '../src/store/memory';
import type { Store } from '../src/store/types';
import { TokenError, type TokenErrorReason } from '../src/tokens/bearer';
import { KeyRing, generateSigningKey } from '../src/tokens/keys';
import { TokenService } from '../src/tokens/service';

const START = Date.UTC(2026, 10, 22, 10, 0, 0, 0);

async function refused(promise: Promise<unknown>, reason: TokenErrorReason): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TokenError, `expected TokenError ${reason}, got ${String(error)}`);
    assert.equal(error.reason, reason);
    return true;
  });
}

/** The store as an instance sees it that never hears of changes made elsewhere (a NOTIFY that did not arrive). */
function deaf(store: Store): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'onChange') return () => () => undefined;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('TokenService.verifyFresh', () => {
  let now = START;
  const clock = () => now;
  let here: TokenService;
  let elsewhere: TokenService;
  beforeEach(() => {
    now = START;
    const store = new MemoryStore();
    const keys = new KeyRing([generateSigningKey(START)]);
    // This instance caches token state for a minute and never hears of changes.
    here = new TokenService({ store: deaf(store), keys, clock, stateCacheMs: 60_000 });
    elsewhere = new TokenService({ store, keys, clock });
  });
  afterEach(() => {
    here.dispose();
    elsewhere.dispose();
  });

  it('sees a revocation made elsewhere that the cached verify does not see yet', async () => {
    const { accessToken } = await elsewhere.generate('demo', { actor: 'ops' });
    await here.verify('demo', accessToken);
    await elsewhere.revoke('demo', 'ops');
    await here.verify('demo', accessToken); // the cached state predates the revocation
    await refused(here.verifyFresh('demo', accessToken), 'revoked');
  });

  it('sees a replacement made elsewhere, and honours its grace period', async () => {
    const first = await elsewhere.generate('demo', { actor: 'ops' });
    await here.verify('demo', first.accessToken);
    const second = await elsewhere.generate('demo', { actor: 'ops', previousTokenGraceSeconds: 60 });
    const graced = await here.verifyFresh('demo', first.accessToken);
    assert.equal(graced.graceUntil, START + 60_000);
    await here.verifyFresh('demo', second.accessToken);
    await elsewhere.generate('demo', { actor: 'ops' });
    await refused(here.verifyFresh('demo', second.accessToken), 'revoked');
  });

  it('refuses what verify refuses: another client, an expired token, a forged one', async () => {
    const { accessToken } = await elsewhere.generate('demo', { actor: 'ops', expiresInSeconds: 300 });
    assert.equal((await here.verifyFresh('demo', accessToken)).client, 'demo');
    await refused(here.verifyFresh('other', accessToken), 'wrong_client');
    await refused(here.verifyFresh('demo', `${accessToken.slice(0, -4)}AAAA`), 'bad_signature');
    now += 300_000;
    await refused(here.verifyFresh('demo', accessToken), 'expired');
  });
});

describe('ProfileService.submitBatch beforeAccept', () => {
  let spoolDir: string;
  beforeEach(() => {
    spoolDir = mkdtempSync(join(tmpdir(), 'profilegate-recheck-spool-'));
  });
  afterEach(() => rmSync(spoolDir, { recursive: true, force: true }));

  async function* body(events: string[]): AsyncGenerator<Buffer> {
    yield Buffer.from('thirdPartyId,tier\nr1,gold\n');
    yield Buffer.from('r2,silver\n');
    events.push('body read');
  }

  it('runs once the whole body was read; its refusal records no batch, stores nothing and removes the spool', async () => {
    const store = new MemoryStore();
    const createBatch = sinon.spy(store, 'createBatch');
    const service = new ProfileService({ store, clock: () => START, spoolDir });
    const events: string[] = [];
    const refusal = new TokenError('revoked');
    await assert.rejects(
      service.submitBatch('demo', 'v2', body(events), 'csv', {
        beforeAccept: async () => {
          events.push('checked');
          throw refusal;
        },
      }),
      (error: unknown) => error === refusal,
    );
    assert.deepEqual(events, ['body read', 'checked']);
    assert.equal(await store.getProfile('demo', { kind: 'thirdPartyId', id: 'r1' }), null);
    assert.equal(createBatch.callCount, 0, 'no batch is recorded');
    assert.deepEqual(readdirSync(spoolDir), []);
  });

  it('accepts the batch when the check passes', async () => {
    const store = new MemoryStore();
    const service = new ProfileService({ store, clock: () => START, spoolDir });
    const events: string[] = [];
    const { batch, applied } = await service.submitBatch('demo', 'v2', body(events), 'csv', {
      beforeAccept: async () => {
        events.push('checked');
      },
    });
    assert.deepEqual(events, ['body read', 'checked', 'checked']);
    assert.equal((await applied).status, 'complete');
    assert.equal(batch.batchSize, 2);
    assert.notEqual(await store.getProfile('demo', { kind: 'thirdPartyId', id: 'r2' }), null);
  });

  it('checks again once the batch is recorded (recording may wait): a refusal then stores nothing, the record reads stuck', async () => {
    const store = new MemoryStore();
    const service = new ProfileService({ store, clock: () => START, spoolDir });
    let checks = 0;
    const refusal = new TokenError('revoked');
    await assert.rejects(
      service.submitBatch('demo', 'v2', body([]), 'csv', {
        beforeAccept: async () => {
          if (++checks === 2) throw refusal; // revoked while the batch was being recorded
        },
      }),
      (error: unknown) => error === refusal,
    );
    await service.drain();
    assert.equal(checks, 2);
    assert.equal(await store.getProfile('demo', { kind: 'thirdPartyId', id: 'r1' }), null);
    assert.deepEqual(readdirSync(spoolDir), []);
  });
});
