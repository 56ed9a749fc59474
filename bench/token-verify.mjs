// Micro-benchmark of TokenService.verify against its anchors (issue 18): jsonwebtoken.verify with
// the secret as a KeyObject (the fastest plain way to verify an HS256 JWT with a library; a string
// secret makes jsonwebtoken v9 first try it as a PEM key) and a bare HMAC (HMAC-SHA256 of
// `header.payload` with the same KeyObject and a constant-time compare: the cryptographic floor).
// jsonwebtoken with a string secret is kept as a labelled extra row. Run after `npx tsc -b`:
//   node bench/token-verify.mjs [--json]
// Prints microseconds per verify for each path and this / anchor (lower is better). The paths are
// timed in interleaved rounds, and each ratio is the median of the ratios within a round.
import { createRequire } from 'node:module';
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';

const require = createRequire(import.meta.url);
const core = '../packages/core/dist/src';
const { TokenService } = require(`${core}/tokens/service.js`);
const { KeyRing, generateSigningKey } = require(`${core}/tokens/keys.js`);
const { MemoryStore } = require(`${core}/store/memory.js`);
const jwt = require('jsonwebtoken');

const ROUNDS = 15;
const ROUND_MS = 60;

/** How many calls of an async or sync function take about ROUND_MS (after a warm-up). */
async function calibrate(fn) {
  let batch = 64;
  for (;;) {
    const ms = await timed(fn, batch);
    if (ms >= ROUND_MS / 4) return Math.max(batch, Math.ceil((batch * ROUND_MS) / ms));
    batch *= 4;
  }
}

/** Milliseconds taken by `batch` awaited calls of `fn`. */
async function timed(fn, batch) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < batch; i++) await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * µs per call of each function, measured in interleaved rounds (each round times every function
 * once, in a rotated order), so that a slow spell of the machine hits all of them alike: per
 * function, an array of ROUNDS figures, round by round.
 */
async function measureInterleaved(fns) {
  const names = Object.keys(fns);
  const batches = {};
  for (const name of names) batches[name] = await calibrate(fns[name]);
  const perRound = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length];
      perRound[name].push(((await timed(fns[name], batches[name])) * 1000) / batches[name]);
    }
  }
  return perRound;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

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

const perRound = await measureInterleaved({
  cached: () => cached.tokens.verify('demo', cached.accessToken),
  hmac: () => hmacOnly.tokens.verify('demo', hmacOnly.accessToken),
  uncached: () => noCache.tokens.verify('demo', noCache.accessToken),
  keyObject: () => jwt.verify(anchorToken, anchorKey, anchorOptions),
  bareHmacBytes,
  bareHmacText,
});
// The string-secret path costs about 100× the others: timed on its own, as an extra row.
const stringSecretRound = await calibrate(() => jwt.verify(anchorToken, stringSecret, anchorOptions));
const stringSecretUs =
  ((await timed(() => jwt.verify(anchorToken, stringSecret, anchorOptions), stringSecretRound)) * 1000) /
  stringSecretRound;

// The anchor is the faster of the two bare HMAC checks, round by round: the floor, whichever way
// it is reached.
perRound.bareHmac = perRound.bareHmacBytes.map((bytes, round) => Math.min(bytes, perRound.bareHmacText[round]));
const results = Object.fromEntries(Object.entries(perRound).map(([name, values]) => [name, median(values)]));
results.stringSecret = stringSecretUs;
/** Median over the rounds of `name`'s time over the anchor's in the same round. */
const ratioTo = (name, anchor) => median(perRound[name].map((us, round) => us / perRound[anchor][round]));

const rows = [
  ['TokenService.verify, cached (token + state caches)', 'cached'],
  ['TokenService.verify, HMAC each time (state cached)', 'hmac'],
  ['TokenService.verify, no caches (HMAC + store read)', 'uncached'],
  ['anchor: jsonwebtoken.verify, KeyObject secret', 'keyObject'],
  ['anchor: bare HMAC, the faster of the two below', 'bareHmac'],
  ['  bare HMAC-SHA256 as bytes + timingSafeEqual', 'bareHmacBytes'],
  ['  bare HMAC-SHA256 as text + constant-time compare', 'bareHmacText'],
  ['extra: jsonwebtoken.verify, string secret', 'stringSecret'],
];
// Ratios are medians of the per-round ratios (the string-secret row, timed apart: of the medians).
const ratio = (name, anchor) => (perRound[name] ? ratioTo(name, anchor) : results[name] / results[anchor]);
for (const [label, name] of rows) {
  console.log(
    `${label.padEnd(52)} ${results[name].toFixed(2).padStart(9)} µs/verify   ` +
      `this/jsonwebtoken(KeyObject) ${ratio(name, 'keyObject').toFixed(2)}x   this/HMAC ${ratio(name, 'bareHmac').toFixed(2)}x`,
  );
}
if (process.argv.includes('--json')) {
  console.log(
    JSON.stringify({
      bench: 'token-verify',
      unit: 'us/op',
      ...results,
      uncachedToKeyObject: ratioTo('uncached', 'keyObject'),
      uncachedToHmac: ratioTo('uncached', 'bareHmac'),
      cachedToKeyObject: ratioTo('cached', 'keyObject'),
    }),
  );
}
cached.tokens.dispose();
hmacOnly.tokens.dispose();
noCache.tokens.dispose();
