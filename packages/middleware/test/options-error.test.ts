/**
 * One options style (issue 17): every factory of this package checks its options when it is
 * called and throws OptionsError (from @profilegate/core), whose message starts with the factory
 * and the option as the caller spelled it, never an internal name.
 */
import { strict as assert } from 'node:assert';
import { KeyRing, MemoryStore, generateSigningKey, type Store } from '@profilegate/core';
import { OptionsError, adminKeyAuthenticator, profileApi, profileTracker, requireProfileToken } from '../src';
import { CLIENT, authenticateAdmin } from './helpers';

const store = new MemoryStore();
const signingKeys = new KeyRing([generateSigningKey(Date.UTC(2026, 10, 22))]);

/** [factory call, the message's start]. */
const CASES: Array<[string, () => unknown, string]> = [
  [
    'profileApi cacheMs',
    () => profileApi({ clients: [CLIENT], store, signingKeys, authenticateAdmin, cacheMs: -1 }),
    'profileApi: cacheMs ',
  ],
  [
    'profileApi clock',
    () => profileApi({ clients: [CLIENT], store, signingKeys, authenticateAdmin, clock: 5 as never }),
    'profileApi: clock ',
  ],
  [
    'requireProfileToken cacheMs',
    () => requireProfileToken({ store, signingKeys, client: CLIENT, cacheMs: -1 }),
    'requireProfileToken: cacheMs ',
  ],
  [
    'requireProfileToken cacheMs not a number',
    () => requireProfileToken({ store, signingKeys, client: CLIENT, cacheMs: '1s' as never }),
    'requireProfileToken: cacheMs ',
  ],
  [
    'requireProfileToken signingKeys',
    () => requireProfileToken({ store, signingKeys: 'secret' as never, client: CLIENT }),
    'requireProfileToken: signingKeys ',
  ],
  [
    'requireProfileToken store',
    () => requireProfileToken({ store: {} as Store, signingKeys, client: CLIENT }),
    'requireProfileToken: store ',
  ],
  [
    'requireProfileToken client',
    () => requireProfileToken({ store, signingKeys, client: 'Not Valid' }),
    'requireProfileToken: client ',
  ],
  ['requireProfileToken no options', () => requireProfileToken(undefined as never), 'requireProfileToken: options '],
  ['profileTracker client', () => profileTracker({ store, client: 'Bad Client' }), 'profileTracker: client '],
  ['profileTracker store', () => profileTracker({ store: {} as Store, client: CLIENT }), 'profileTracker: store '],
  [
    'profileTracker ecidCookieName',
    () => profileTracker({ store, client: CLIENT, ecidCookieName: 'a b' }),
    'profileTracker: ecidCookieName ',
  ],
  [
    'profileTracker ecidQueryParameter',
    () => profileTracker({ store, client: CLIENT, ecidQueryParameter: 'profile.x' }),
    'profileTracker: ecidQueryParameter ',
  ],
  [
    'profileTracker onError',
    () => profileTracker({ store, client: CLIENT, onError: 'log' as never }),
    'profileTracker: onError ',
  ],
  ['adminKeyAuthenticator keys', () => adminKeyAuthenticator([]), 'adminKeyAuthenticator: keys '],
  [
    'adminKeyAuthenticator a short key',
    () =>
      adminKeyAuthenticator([
        { key: 'x'.repeat(20), role: 'admin' },
        { key: 'short', role: 'admin' },
      ]),
    'adminKeyAuthenticator: keys[1].key ',
  ],
];

describe('OptionsError names the factory and the option as the caller spelled it', () => {
  for (const [label, call, start] of CASES) {
    it(label, () => {
      assert.throws(call, (error: unknown) => {
        assert.ok(error instanceof OptionsError, `expected OptionsError, got ${String(error)}`);
        assert.ok(error instanceof TypeError, 'an OptionsError is a TypeError');
        assert.ok(error.message.startsWith(start), `"${error.message}" should start with "${start}"`);
        assert.doesNotMatch(error.message, /TokenService|stateCacheMs/);
        return true;
      });
    });
  }
});
