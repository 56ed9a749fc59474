// Micro-benchmark of TokenService.verify against its anchors (issue 18): jsonwebtoken.verify with
// the secret as a KeyObject (the fastest plain way to verify an HS256 JWT with a library; a string
// secret makes jsonwebtoken v9 first try it as a PEM key) and a bare HMAC (HMAC-SHA256 of
// `header.payload` with the same KeyObject and a constant-time compare: the cryptographic floor).
// jsonwebtoken with a string secret is kept as a labelled extra row. Run after `npx tsc -b`:
//   node bench/token-verify.mjs [--json]
// Prints microseconds per verify for each path and this / anchor (lower is better).
import { createRequire } from 'node:module';
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';

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
// The anchors' key: the same 32 random bytes, as a KeyObject.
const anchorKey = createSecretKey(Buffer.from(stringSecret));
jwt.verify(anchorToken, anchorKey, anchorOptions);
const [head, payload, signature] = anchorToken.split('.');
const signingInput = `${head}.${payload}`;
const signatureBytes = Buffer.from(signature, 'base64url');
/** A floor: HMAC-SHA256 of the signing input as bytes and timingSafeEqual with the signature's bytes. */
function bareHmacBytes() {
  const expected = createHmac('sha256', anchorKey).update(signingInput).digest();
  if (!timingSafeEqual(expected, signatureBytes)) throw new Error('bad signature');
}
/**
 * A floor: HMAC-SHA256 of the signing input as base64url text, compared with the signature's text
 * in constant time (no early exit). Node makes the digest's text faster than its Buffer.
 */
function bareHmacText() {
  const expected = createHmac('sha256', anchorKey).update(signingInput).digest('base64url');
  let difference = expected.length ^ signature.length;
  for (let i = 0; i < expected.length; i++) difference |= expected.charCodeAt(i) ^ signature.charCodeAt(i);
  if (difference !== 0) throw new Error('bad signature');
}
bareHmacBytes();
bareHmacText();

const results = {
  cached: await measure(() => cached.tokens.verify('demo', cached.accessToken)),
  hmac: await measure(() => hmacOnly.tokens.verify('demo', hmacOnly.accessToken)),
  uncached: await measure(() => noCache.tokens.verify('demo', noCache.accessToken)),
  keyObject: await measure(() => jwt.verify(anchorToken, anchorKey, anchorOptions)),
  bareHmacBytes: await measure(bareHmacBytes),
  bareHmacText: await measure(bareHmacText),
  stringSecret: await measure(() => jwt.verify(anchorToken, stringSecret, anchorOptions)),
};

// The anchor is the faster of the two bare HMAC checks: the floor, whichever way it is reached.
results.bareHmac = Math.min(results.bareHmacBytes, results.bareHmacText);

const rows = [
  ['TokenService.verify, cached (token + state caches)', results.cached],
  ['TokenService.verify, HMAC each time (state cached)', results.hmac],
  ['TokenService.verify, no caches (HMAC + store read)', results.uncached],
  ['anchor: jsonwebtoken.verify, KeyObject secret', results.keyObject],
  ['anchor: bare HMAC, the faster of the two below', results.bareHmac],
  ['  bare HMAC-SHA256 as bytes + timingSafeEqual', results.bareHmacBytes],
  ['  bare HMAC-SHA256 as text + constant-time compare', results.bareHmacText],
  ['extra: jsonwebtoken.verify, string secret', results.stringSecret],
];
for (const [name, us] of rows) {
  console.log(
    `${name.padEnd(52)} ${us.toFixed(2).padStart(9)} µs/verify   ` +
      `this/jsonwebtoken(KeyObject) ${(us / results.keyObject).toFixed(2)}x   this/HMAC ${(us / results.bareHmac).toFixed(2)}x`,
  );
}
if (process.argv.includes('--json')) {
  console.log(
    JSON.stringify({
      bench: 'token-verify',
      unit: 'us/op',
      ...results,
      uncachedToKeyObject: results.uncached / results.keyObject,
      uncachedToHmac: results.uncached / results.bareHmac,
      cachedToKeyObject: results.cached / results.keyObject,
    }),
  );
}
cached.tokens.dispose();
hmacOnly.tokens.dispose();
noCache.tokens.dispose();
