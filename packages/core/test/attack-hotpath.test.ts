// Attacks on the gate hot-path changes (84ffcdc, 352cdf1): the one-entry header memo in
// extractBearerToken must never change an answer, even for the very first header a process reads.
import assert from 'node:assert/strict';
import path from 'node:path';

type Bearer = typeof import('../src/tokens/bearer');
type Access = typeof import('../src/access');

/** A fresh copy of the core modules (module-level state as in a process that has read no header yet). */
function freshCore(): {
  bearer: Bearer;
  access: Access;
  memory: typeof import('../src/store/memory');
  keys: typeof import('../src/tokens/keys');
} {
  const src = path.resolve(__dirname, '../src');
  // Load fresh copies, then put the shared ones back, so that other tests keep one copy of each class.
  const saved = Object.entries(require.cache).filter(([id]) => id.startsWith(src + path.sep));
  for (const [id] of saved) delete require.cache[id];
  try {
    return {
      bearer: require('../src/tokens/bearer') as Bearer,
      access: require('../src/access') as Access,
      memory: require('../src/store/memory'),
      keys: require('../src/tokens/keys'),
    };
  } finally {
    for (const [id, module] of saved) require.cache[id] = module;
  }
}

function reasonOf(fn: () => unknown): string {
  try {
    return `token ${JSON.stringify(fn())}`;
  } catch (error) {
    return `refused ${(error as { reason?: string }).reason}`;
  }
}

describe('attack: extractBearerToken memo before any header was accepted', () => {
  it('refuses a null header (invalid_request) before and after a header was accepted', () => {
    const { bearer } = freshCore();
    // Before 84ffcdc/352cdf1: typeof null !== 'string' -> 400 invalid_request.
    const refusal = () => reasonOf(() => bearer.extractBearerToken(null as unknown as string));
    assert.equal(refusal(), 'refused invalid_request');
    bearer.extractBearerToken('Bearer abc');
    assert.equal(refusal(), 'refused invalid_request');
  });

  it('ProfileAccess.check answers a null header 400 invalid_request, not 401 malformed', async () => {
    const { access, memory, keys } = freshCore();
    const store = new memory.MemoryStore();
    await store.putSettings('acme', { requireAuthentication: true });
    const signingKeys = new keys.KeyRing([keys.generateSigningKey(Date.now())]);
    const gate = new access.ProfileAccess({ store, signingKeys, cacheMs: 60_000 });
    try {
      await assert.rejects(gate.check('acme', null as unknown as string), (error: { reason?: string }) => {
        assert.equal(error.reason, 'invalid_request');
        return true;
      });
    } finally {
      gate.dispose();
    }
  });
});
