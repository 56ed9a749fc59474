// Figure 1: requests/s of an Express route behind the bearer gate (requireProfileToken, Require
// Authentication on, a valid token) against the same route with no gate, and with the gate but
// Require Authentication off; and, in the same rounds, the same route behind express-jwt and
// behind express-oauth2-jwt-bearer verifying an equivalent HS256 token (independent anchors). The
// server (bench/gate-server.mjs) is its own process; autocannon drives it from this one over
// loopback, in windows of 1.5 s: each route's window sits between two of the bare route's, and its
// ratio is the median over the rounds of its requests/s over the mean of those two (a steady drift
// of the machine's speed cancels out); requests/s are medians of the windows.
//
// The anchor is the bare route sent the same request as the gated one, Authorization header
// included: a client of a bearer-gated API sends its token whether or not the route checks it,
// so the ratio is the gate's own cost. Receiving the header costs the server too (reading a
// ~250-byte header value, and the load generator sharing the 2 cores writes it): the bare route
// without it is printed as an extra row, and so is the route behind a middleware that only calls
// next(): the floor for any middleware (Express's own cost of one more layer). The server's CPU
// time per request is printed beside, a cross-check that moves less with the load generator.
//   node bench/gate-overhead.mjs [--json] [--rounds N] [--seconds S]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argValue, cpuMsOf, emitJson, median, progress, startServer } from './lib.mjs';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const { SqliteStore, TokenService, loadOrCreateKeyRing } = require('../packages/core/dist/src/index.js');

const ROUNDS = Number(argValue('--rounds', 10));
const SECONDS = Number(argValue('--seconds', 1.5));
const CONNECTIONS = 16;

/** Store and signing keys for the server: client `on` (gate on, one token) and `off`. */
async function prepare(data) {
  const store = new SqliteStore(join(data, 'profiles.db'));
  try {
    const keys = await loadOrCreateKeyRing(join(data, 'signing-keys.json'));
    await store.putSettings('on', { requireAuthentication: true });
    await store.putSettings('off', { requireAuthentication: false });
    const tokens = new TokenService({ store, keys });
    const { accessToken } = await tokens.generate('on', { actor: 'bench' });
    tokens.dispose();
    // The anchors' token: the same claims, signed with jsonwebtoken and a secret of their own.
    // 32 random bytes as base64url text; both libraries take the text's UTF-8 bytes as the key.
    const secret = Buffer.from(randomBytes(32).toString('base64url'));
    writeFileSync(join(data, 'anchor-secret'), secret, { mode: 0o600 });
    const anchorToken = require('jsonwebtoken').sign({ sub: 'on', jti: 'bench' }, secret, {
      algorithm: 'HS256',
      issuer: 'profilegate',
      audience: 'profile_api',
      expiresIn: 3600,
    });
    return { accessToken, anchorToken };
  } finally {
    await store.close();
  }
}

/** Requests/s of one route for `seconds`, and the server's CPU µs per request meanwhile. */
function load(url, headers, seconds, pid) {
  const cpuBefore = cpuMsOf(pid);
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds, headers }, (error, result) => {
      if (error) reject(error);
      else if (result.non2xx > 0 || result.errors > 0) {
        reject(new Error(`${url}: ${result.non2xx} answers not 2xx, ${result.errors} errors`));
      } else {
        const cpuMs = cpuMsOf(pid) - cpuBefore;
        resolve({ rps: result.requests.total / result.duration, cpuUs: (cpuMs * 1000) / result.requests.total });
      }
    });
  });
}

const data = mkdtempSync(join(tmpdir(), 'profilegate-gate-'));
let server;
try {
  const { accessToken: token, anchorToken } = await prepare(data);
  server = await startServer(new URL('gate-server.mjs', import.meta.url).pathname, { args: [data] });
  const routes = {
    bare: { path: '/bare', headers: { Authorization: `Bearer ${token}` } },
    bareNoHeader: { path: '/bare', headers: {} },
    noop: { path: '/noop', headers: { Authorization: `Bearer ${token}` } },
    gated: { path: '/gated', headers: { Authorization: `Bearer ${token}` } },
    gatedOff: { path: '/gated-off', headers: { Authorization: `Bearer ${token}` } },
    expressJwt: { path: '/express-jwt', headers: { Authorization: `Bearer ${anchorToken}` } },
    oauth2Bearer: { path: '/oauth2-jwt-bearer', headers: { Authorization: `Bearer ${anchorToken}` } },
  };
  // A refused token would show up as non-2xx answers; check once before measuring.
  for (const name of ['gated', 'expressJwt', 'oauth2Bearer']) {
    const check = await fetch(`${server.url}${routes[name].path}`, { headers: routes[name].headers });
    if (check.status !== 200) throw new Error(`${routes[name].path} answered ${check.status} to a valid token`);
  }
  progress('warming up');
  const pid = server.child.pid;
  for (const route of Object.values(routes)) await load(`${server.url}${route.path}`, route.headers, 1, pid);

  const names = Object.keys(routes);
  const others = names.filter((name) => name !== 'bare');
  const rps = Object.fromEntries(names.map((name) => [name, []]));
  const cpu = Object.fromEntries(names.map((name) => [name, []]));
  const ratios = Object.fromEntries(others.map((name) => [name, []]));
  const measure = async (name) => {
    const got = await load(`${server.url}${routes[name].path}`, routes[name].headers, SECONDS, pid);
    rps[name].push(got.rps);
    cpu[name].push(got.cpuUs);
    return got;
  };
  for (let round = 0; round < ROUNDS; round++) {
    // Every route is measured between two windows of the bare route, and compared with their
    // mean: the machine's speed drifts between windows, and bracketing cancels a steady drift.
    // The order rotates every round, so no route always comes first or last.
    const order = others.map((_, i) => others[(i + round) % others.length]);
    let before = await measure('bare');
    for (const name of order) {
      const { rps: routeRps } = await measure(name);
      const after = await measure('bare');
      ratios[name].push(routeRps / ((before.rps + after.rps) / 2));
      before = after;
    }
    progress(
      `round ${round + 1}/${ROUNDS}: ` +
        order.map((name) => `${name} ${(100 * ratios[name].at(-1)).toFixed(1)}%`).join(', ') +
        ' of the bare route around it',
    );
  }
  const result = {
    bench: 'gate-overhead',
    connections: CONNECTIONS,
    rounds: ROUNDS,
    secondsPerWindow: SECONDS,
    bareRps: median(rps.bare),
    bareNoHeaderRps: median(rps.bareNoHeader),
    noopRps: median(rps.noop),
    gatedRps: median(rps.gated),
    gatedOffRps: median(rps.gatedOff),
    expressJwtRps: median(rps.expressJwt),
    oauth2BearerRps: median(rps.oauth2Bearer),
    ratioGated: median(ratios.gated),
    ratioBareNoHeader: median(ratios.bareNoHeader),
    ratioNoop: median(ratios.noop),
    ratioGatedOff: median(ratios.gatedOff),
    ratioExpressJwt: median(ratios.expressJwt),
    ratioOauth2Bearer: median(ratios.oauth2Bearer),
    // Load-independent cross-check: server CPU time per request (from /proc), medians.
    bareCpuUs: median(cpu.bare),
    bareNoHeaderCpuUs: median(cpu.bareNoHeader),
    noopCpuUs: median(cpu.noop),
    gatedCpuUs: median(cpu.gated),
    gatedOffCpuUs: median(cpu.gatedOff),
    expressJwtCpuUs: median(cpu.expressJwt),
    oauth2BearerCpuUs: median(cpu.oauth2Bearer),
  };
  console.log(
    `anchor: bare Express route, same request        ${Math.round(result.bareRps)} requests/s ` +
      '(Authorization header sent, not checked)',
  );
  console.log(
    `gated route (Require Authentication on, token) ${Math.round(result.gatedRps)} requests/s = ` +
      `${(100 * result.ratioGated).toFixed(1)}% of bare (target >= 95%)`,
  );
  console.log(
    `gated route (Require Authentication off)       ${Math.round(result.gatedOffRps)} requests/s = ` +
      `${(100 * result.ratioGatedOff).toFixed(1)}% of bare`,
  );
  console.log(
    `anchors: express-jwt ${Math.round(result.expressJwtRps)} requests/s (${(100 * result.ratioExpressJwt).toFixed(1)}% of bare), ` +
      `express-oauth2-jwt-bearer ${Math.round(result.oauth2BearerRps)} requests/s (${(100 * result.ratioOauth2Bearer).toFixed(1)}% of bare)`,
  );
  console.log(
    `extra: route behind a no-op middleware         ${Math.round(result.noopRps)} requests/s = ` +
      `${(100 * result.ratioNoop).toFixed(1)}% of bare (what one more Express layer costs)`,
  );
  console.log(
    `extra: bare route, no Authorization header     ${Math.round(result.bareNoHeaderRps)} requests/s = ` +
      `${(100 * result.ratioBareNoHeader).toFixed(1)}% of bare with it`,
  );
  console.log(
    `server CPU per request: bare ${result.bareCpuUs.toFixed(0)} µs (no header ${result.bareNoHeaderCpuUs.toFixed(0)} µs), gated ${result.gatedCpuUs.toFixed(0)} µs, ` +
      `gate off ${result.gatedOffCpuUs.toFixed(0)} µs, no-op middleware ${result.noopCpuUs.toFixed(0)} µs, express-jwt ${result.expressJwtCpuUs.toFixed(0)} µs, ` +
      `express-oauth2-jwt-bearer ${result.oauth2BearerCpuUs.toFixed(0)} µs`,
  );
  emitJson(result);
} finally {
  await server?.stop();
  rmSync(data, { recursive: true, force: true });
}
