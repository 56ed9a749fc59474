// Micro-benchmark of TokenService.verify against its anchor, jsonwebtoken.verify with a string
// secret (what most apps write). Run after `npx tsc -b packages/core`:
//   node bench/token-verify.mjs [--json]
// Prints microseconds per verify for each path and the anchor / path ratio (higher is better).
import { createRequire } from 'node:module';
import { createSecretKey, randomBytes } from 'node:crypto';

const require = createRequire(import.meta.url);
const core = '../packages/core/dist/src';
const { TokenService } = require(`${core}/tokens/service.js`);
const { KeyRing, generateSigningKey } = require(`${core}/tokens/keys.js`);
const { MemoryStore } = require(`${core}/store/memory.js`);
const jwt = require('jsonwebtoken');

const ROUNDS = 7;
const MIN_ROUND_MS = 200;

/** Median µs per call of an async or sync function, over ROUNDS rounds of at least MIN_ROUND_MS. */
async function measure(fn) {
  // Calibrate: how many calls make one round.
  let batch = 64;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) await fn();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (ms >= MIN_ROUND_MS / 4) {
      batch = Math.max(batch, Math.ceil((batch * MIN_ROUND_MS) / ms));
      break;
    }
    batch *= 4;
  }
  const perCall = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) await fn();
    perCall.push(Number(process.hrtime.bigint() - start) / 1e3 / batch);
  }
  perCall.sort((a, b) => a - b);
  return perCall[Math.floor(ROUNDS / 2)];
}

async function service(options) {
  const store = new MemoryStore();
  const keys = new KeyRing([generateSigningKey(Date.now())]);
  const tokens = new TokenService({ store, keys, ...options });
  const { accessToken } = await tokens.generate('demo', { actor: 'bench' });
  await tokens.verify('demo', accessToken); // fail fast if the setup is wrong
  return { tokens, accessToken };
}

const cached = await service({});
const hmacOnly = await service({ verifiedCacheSize: 0 });
const noCache = await service({ verifiedCacheSize: 0, stateCacheMs: 0 });

const stringSecret = randomBytes(32).toString('base64url');
const anchorToken = jwt.sign({ sub: 'demo', jti: 'x', aud: 'profile_api', iss: 'profilegate' }, stringSecret, {
  algorithm: 'HS256',
  expiresIn: 3600,
});
const anchorOptions = { algorithms: ['HS256'], audience: 'profile_api', issuer: 'profilegate' };
jwt.verify(anchorToken, stringSecret, anchorOptions);
// Not the anchor: the library's own cost with a KeyObject, to show what the service adds to it.
const anchorKey = createSecretKey(Buffer.from(stringSecret));

const results = {
  cached: await measure(() => cached.tokens.verify('demo', cached.accessToken)),
  hmac: await measure(() => hmacOnly.tokens.verify('demo', hmacOnly.accessToken)),
  uncached: await measure(() => noCache.tokens.verify('demo', noCache.accessToken)),
  keyObject: await measure(() => jwt.verify(anchorToken, anchorKey, anchorOptions)),
  anchor: await measure(() => jwt.verify(anchorToken, stringSecret, anchorOptions)),
};

const rows = [
  ['TokenService.verify, cached (token + state caches)', results.cached],
  ['TokenService.verify, HMAC each time (state cached)', results.hmac],
  ['TokenService.verify, no caches (HMAC + store read)', results.uncached],
  ['reference: jsonwebtoken.verify, KeyObject secret', results.keyObject],
  ['anchor: jsonwebtoken.verify, string secret', results.anchor],
];
for (const [name, us] of rows) {
  const ratio = results.anchor / us;
  console.log(`${name.padEnd(52)} ${us.toFixed(2).padStart(9)} µs/verify   anchor/this ${ratio.toFixed(1)}x`);
}
if (process.argv.includes('--json')) {
  console.log(
    JSON.stringify({
      bench: 'token-verify',
      unit: 'us/op',
      ...results,
      ratioCached: results.anchor / results.cached,
      ratioHmac: results.anchor / results.hmac,
      ratioUncached: results.anchor / results.uncached,
    }),
  );
}
cached.tokens.dispose();
hmacOnly.tokens.dispose();
noCache.tokens.dispose();
