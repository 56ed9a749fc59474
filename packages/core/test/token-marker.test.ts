import assert from 'node:assert/strict';
import { PROFILE_TOKEN_LIMITS, isLikelyTokenOfClient, tokenMarkerOf } from '@profilegate/client';
import { MemoryStore } from '../src/store/memory';
import { KeyRing, generateSigningKey } from '../src/tokens/keys';
import { TOKEN_LIMITS, TokenService } from '../src/tokens/service';

// The client's scanner finds tokens by the start of their payload (tokenMarkerOf): that start is
// the order in which core's mintToken writes the claims, so the two packages are tested together.
describe('tokens minted by core, as the client recognises them', () => {
  it('every token the service mints for a client holds its marker, and not that of another', async () => {
    const service = new TokenService({ store: new MemoryStore(), keys: new KeyRing([generateSigningKey(Date.now())]) });
    try {
      for (const client of ['demo', 'acme-shop', 'a', 'ab', 'abc']) {
        const token = (await service.generate(client, { actor: 'test' })).accessToken;
        assert.ok(token.includes(tokenMarkerOf(client)), client);
        assert.ok(!token.includes(tokenMarkerOf(`${client}x`)), `${client}x`);
        assert.ok(isLikelyTokenOfClient(token, client), client);
      }
    } finally {
      service.dispose();
    }
  });
});

describe('token limits, as the client checks flags against them (issue 20)', () => {
  it("the client's PROFILE_TOKEN_LIMITS are core's TOKEN_LIMITS", () => {
    assert.deepEqual({ ...PROFILE_TOKEN_LIMITS }, { ...TOKEN_LIMITS });
  });
});
