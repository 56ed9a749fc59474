/** One options style (issue 17): core's factories throw OptionsError naming the option as the caller spelled it. */
import assert from 'node:assert/strict';
import { AuditLog } from '../src/audit';
import { OptionChecks, OptionsError } from '../src/options';
import { MemoryStore } from '../src/store/memory';
import { KeyRing, generateSigningKey } from '../src/tokens/keys';
import { TokenService } from '../src/tokens/service';

const START = Date.UTC(2026, 10, 22, 10, 0, 0, 0);

describe('OptionsError', () => {
  it('is a TypeError whose message starts with the factory and the option', () => {
    const error = new OptionsError('profileApi', 'cacheMs', 'must be a whole number');
    assert.ok(error instanceof TypeError);
    assert.equal(error.name, 'OptionsError');
    assert.equal(error.message, 'profileApi: cacheMs must be a whole number');
    assert.equal(error.factory, 'profileApi');
    assert.equal(error.option, 'cacheMs');
  });

  it('OptionChecks.number: a missing option takes the default, null and out-of-range values are refused', () => {
    const check = new OptionChecks('f');
    assert.equal(check.number('n', undefined, { fallback: 7 }), 7);
    assert.equal(check.number('n', 0, { fallback: 7 }), 0);
    assert.equal(check.number('n', 1.5, { fallback: 7, whole: false }), 1.5);
    for (const bad of [null, -1, 1.5, Number.NaN, Infinity, '5']) {
      assert.throws(
        () => check.number('n', bad, { fallback: 7, max: 10 }),
        /^OptionsError: f: n must be a whole number from 0 to 10 \(default 7\)$/,
      );
    }
  });
});

describe('TokenService options', () => {
  it('throws OptionsError naming the option', () => {
    const store = new MemoryStore();
    const keys = new KeyRing([generateSigningKey(START)]);
    for (const [options, start] of [
      [{ store, keys, stateCacheMs: -1 }, 'TokenService: stateCacheMs '],
      [{ store, keys, verifiedCacheSize: Number.NaN }, 'TokenService: verifiedCacheSize '],
      [{ store, keys: 'secret' }, 'TokenService: keys '],
      [{ store: {}, keys }, 'TokenService: store '],
    ] as const) {
      assert.throws(
        () => new TokenService(options as never),
        (error: unknown) => error instanceof OptionsError && error.message.startsWith(start),
        start,
      );
    }
  });
});

describe('AuditLog options', () => {
  it('throws OptionsError naming the option', () => {
    const store = new MemoryStore();
    for (const [options, start] of [
      [{ store, denialSampleMs: -1 }, 'AuditLog: denialSampleMs '],
      [{ store, clock: 'now' }, 'AuditLog: clock '],
      [{ store: undefined }, 'AuditLog: store '],
    ] as const) {
      assert.throws(
        () => new AuditLog(options as never),
        (error: unknown) => error instanceof OptionsError && error.message.startsWith(start),
        start,
      );
    }
  });
});
