// The server side of bench/gate-overhead.mjs (run as its own process): one Express app with the
// same small JSON route six times: bare; behind a middleware that only calls next(); behind
// requireProfileToken() for a client whose Require Authentication is on, and for one where it is
// off; and, as independent anchors, behind
// express-jwt and behind express-oauth2-jwt-bearer's auth(), each verifying an equivalent HS256
// token (same claims checked: algorithm, issuer, audience, expiry) with a secret (32 random bytes
// as base64url text) read from `<data folder>/anchor-secret`. The data folder (store, signing keys, anchor secret) is prepared
// by the load generator, which keeps the tokens.
//   node bench/gate-server.mjs <data folder>
import { readFileSync } from 'node:fs';
import { createSecretKey } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const express = require('express');
const { SqliteStore, loadOrCreateKeyRing } = require('../packages/core/dist/src/index.js');
const { requireProfileToken } = require('../packages/middleware/dist/src/index.js');

const data = process.argv[2];
const store = new SqliteStore(join(data, 'profiles.db'));
const signingKeys = await loadOrCreateKeyRing(join(data, 'signing-keys.json'));
const app = express();
app.disable('x-powered-by');
const handler = (_req, res) => {
  res.json({
    ok: true,
    offers: [
      { id: 'spring-sale', weight: 0.7 },
      { id: 'free-shipping', weight: 0.3 },
    ],
  });
};
app.get('/bare', handler);
// The floor for any middleware: one that only calls next() (Express's cost of one more layer).
app.get('/noop', (_req, _res, next) => next(), handler);
app.get('/gated', requireProfileToken({ store, signingKeys, client: 'on' }), handler);
app.get('/gated-off', requireProfileToken({ store, signingKeys, client: 'off' }), handler);
const anchorSecret = readFileSync(join(data, 'anchor-secret'));
const { expressjwt } = require('express-jwt');
app.get(
  '/express-jwt',
  expressjwt({
    secret: createSecretKey(anchorSecret),
    algorithms: ['HS256'],
    issuer: 'profilegate',
    audience: 'profile_api',
  }),
  handler,
);
const { auth } = require('express-oauth2-jwt-bearer');
app.get(
  '/oauth2-jwt-bearer',
  auth({
    secret: anchorSecret.toString('utf8'),
    tokenSigningAlg: 'HS256',
    issuer: 'profilegate',
    audience: 'profile_api',
  }),
  handler,
);
const server = app.listen(0, '127.0.0.1', () => {
  console.log(`gate bench server listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => store.close().then(() => process.exit(0)));
});
