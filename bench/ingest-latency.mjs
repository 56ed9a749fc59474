// Fetch latency while a 500,000-row batch is applied, against the real demo server (a child
// process, SQLite store), driven from this process over loopback. Also prints rows/s end to end.
//   node bench/ingest-latency.mjs [--json] [--rows N]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const rowsArg = process.argv.indexOf('--rows');
const ROWS = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 500_000;
const ADMIN = 'bench-admin-key-0123456789abcdef';
const data = mkdtempSync(join(tmpdir(), 'profilegate-bench-'));
const server = spawn(
  process.execPath,
  [new URL('../packages/middleware/dist/src/demo/main.js', import.meta.url).pathname],
  {
    env: { ...process.env, PORT: '0', PROFILEGATE_DATA: data, PROFILEGATE_ADMIN_KEYS: `${ADMIN}:admin:bench` },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const url = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (chunk) => {
    out += chunk;
    const match = /listening on (http:\/\/\S+)/.exec(out);
    if (match) resolve(match[1]);
  });
  server.once('exit', (code) => reject(new Error(`demo server exited ${code}`)));
});

try {
  const admin = { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' };
  await fetch(`${url}/demo/target/authentication/settings`, {
    method: 'PUT',
    headers: admin,
    body: JSON.stringify({ requireAuthentication: false }),
  });
  const lines = ['batch=thirdPartyId,a1,a2,a3,a4,a5,a6,a7,a8,a9,a10'];
  for (let i = 0; i < ROWS; i++) lines.push(`u${i},v${i}-1,v2,v3,v4,v5,v6,v7,v8,v9,value+with+spaces%2C${i}`);
  const body = lines.join('\n') + '\n';
  // One profile to fetch while the batch is applied.
  await fetch(`${url}/m2/demo/v2/profile/batchUpdate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'batch=thirdPartyId,a1\nprobe,1\n',
  });
  await new Promise((r) => setTimeout(r, 200));

  const started = performance.now();
  const posted = await fetch(`${url}/m2/demo/v2/profile/batchUpdate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body,
  }).then((r) => r.json());
  const acceptedMs = performance.now() - started;
  const latencies = [];
  let status = 'incomplete';
  while (status === 'incomplete') {
    const t0 = performance.now();
    const res = await fetch(`${url}/rest/v1/profiles/thirdPartyId/probe?client=demo`);
    await res.arrayBuffer();
    latencies.push(performance.now() - t0);
    status = (await fetch(posted.batchStatus, { headers: { Accept: 'application/json' } }).then((r) => r.json()))
      .status;
    await new Promise((r) => setTimeout(r, 10));
  }
  const totalMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  const result = {
    bench: 'ingest-latency',
    rows: ROWS,
    bodyMB: Buffer.byteLength(body) / 2 ** 20,
    status,
    acceptedSeconds: acceptedMs / 1000,
    totalSeconds: totalMs / 1000,
    rowsPerSecond: ROWS / (totalMs / 1000),
    fetches: latencies.length,
    p50ms: pct(50),
    p99ms: pct(99),
    maxms: latencies.at(-1),
  };
  console.log(
    `${ROWS} rows (${result.bodyMB.toFixed(1)} MB): accepted in ${result.acceptedSeconds.toFixed(1)} s, ${status} after ${result.totalSeconds.toFixed(1)} s (${Math.round(result.rowsPerSecond)} rows/s end to end)`,
  );
  console.log(
    `profile fetches during the batch: ${latencies.length}, p50 ${result.p50ms.toFixed(1)} ms, p99 ${result.p99ms.toFixed(1)} ms, max ${result.maxms?.toFixed(1)} ms`,
  );
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(data, { recursive: true, force: true });
}
