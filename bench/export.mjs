// Figure 13 of the benchmarks: the export of every profile of a client (API.md 5) through the
// demo server (a child process, SQLite store) over loopback, read and thrown away as it arrives:
//   rows/s of a CSV export (two passes: the attribute names, then the rows) and of an NDJSON one,
//   against the floor of reading the same rows straight from the file with better-sqlite3;
//   the server's peak RSS over both (VmHWM, and VmRSS sampled every 20 ms): must stay < 300 MB.
// The profiles are written straight into the SQLite file (the store's own schema and encoding),
// not through the API: building them is not what is measured.
//   node bench/export.mjs [--json] [--rows N]   (default 200,000; the documented figure: --rows 1000000)
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BATCH_ATTRIBUTES,
  BENCH_ADMIN_KEY,
  BENCH_CLIENT,
  argValue,
  emitJson,
  progress,
  rssOf,
  startDemo,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const core = require('../packages/core/dist/src/index.js');
const { encodeAttributes } = require('../packages/core/dist/src/store/sqlite-rows.js');
const Database = require('better-sqlite3');

const ROWS = Number(argValue('--rows', 200_000));
const CLIENT = BENCH_CLIENT;
const MB = 1024 * 1024;

/** Writes ROWS profiles of 10 attributes (some values needing CSV quotes) into a new store file. */
async function buildStore(path) {
  await new core.SqliteStore(path).close(); // the schema, at the current version
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    'INSERT INTO profiles (client, pc_id, third_party_id, attributes, modified_at) VALUES (?, ?, ?, ?, ?)',
  );
  const now = Date.UTC(2026, 10, 22);
  const write = db.transaction((from, to) => {
    for (let i = from; i < to; i++) {
      const attributes = {};
      BATCH_ATTRIBUTES.forEach((name, j) => {
        attributes[name] = {
          value: j === 2 ? `City ${i % 977}, "Old Town"` : `${name}-${(i * 31 + j) % 100_003}`,
          modifiedAt: now,
        };
      });
      insert.run(CLIENT, `pc-${String(i).padStart(9, '0')}`, `crm-${i}`, encodeAttributes(attributes, now), now);
    }
  });
  for (let at = 0; at < ROWS; at += 100_000) write(at, Math.min(ROWS, at + 100_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** The floor: every row read from the file in pcId order, attributes parsed, nothing sent. */
function floorRead(path) {
  const db = new Database(path, { readonly: true });
  const t0 = performance.now();
  let rows = 0;
  for (const row of db
    .prepare('SELECT pc_id, attributes FROM profiles WHERE client = ? ORDER BY pc_id')
    .iterate(CLIENT)) {
    JSON.parse(row.attributes);
    rows++;
  }
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return { rows, seconds };
}

/** One export over HTTP, its body counted and dropped: rows (lines), bytes, seconds. */
async function exportOnce(url, format) {
  const t0 = performance.now();
  const res = await fetch(`${url}/${CLIENT}/target/profiles/export?format=${format}`, {
    headers: { Authorization: `Bearer ${BENCH_ADMIN_KEY}` },
  });
  if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`);
  let bytes = 0;
  let lines = 0;
  for await (const chunk of res.body) {
    bytes += chunk.length;
    // No value holds a line break here, so every \n ends a row.
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const rows = format === 'csv' ? lines - 1 : lines;
  if (rows !== ROWS) throw new Error(`${format} export held ${rows} rows, not ${ROWS}`);
  return { rows, bytes, seconds };
}

const data = mkdtempSync(join(tmpdir(), 'profilegate-bench-export-'));
try {
  const path = join(data, 'profiles.db');
  progress(`writing ${ROWS.toLocaleString('en-US')} profiles into ${path}`);
  const b0 = performance.now();
  await buildStore(path);
  progress(`written in ${((performance.now() - b0) / 1000).toFixed(1)} s`);
  const floor = floorRead(path);

  const server = await startDemo({ data });
  const { url, child } = server;
  let result;
  try {
    const atRest = rssOf(child.pid);
    let peakRss = atRest?.rss ?? NaN;
    const sampler = setInterval(() => {
      const now = rssOf(child.pid);
      if (now && now.rss > peakRss) peakRss = now.rss;
    }, 20);
    progress('exporting as CSV');
    const csv = await exportOnce(url, 'csv');
    progress('exporting as NDJSON');
    const ndjson = await exportOnce(url, 'ndjson');
    clearInterval(sampler);
    const hwm = rssOf(child.pid)?.hwm ?? NaN;
    result = {
      rows: ROWS,
      attributes: BATCH_ATTRIBUTES.length,
      csvRowsPerSecond: csv.rows / csv.seconds,
      csvSeconds: csv.seconds,
      csvMB: csv.bytes / MB,
      ndjsonRowsPerSecond: ndjson.rows / ndjson.seconds,
      ndjsonSeconds: ndjson.seconds,
      ndjsonMB: ndjson.bytes / MB,
      floorRowsPerSecond: floor.rows / floor.seconds,
      floorSeconds: floor.seconds,
      ratioCsvToFloor: csv.rows / csv.seconds / (floor.rows / floor.seconds),
      rssAtRestMB: (atRest?.rss ?? NaN) / MB,
      peakRssMB: Math.max(hwm, peakRss) / MB,
    };
  } finally {
    await server.stop();
  }
  const r = result;
  console.log(
    `Export of ${r.rows.toLocaleString('en-US')} profiles × ${r.attributes} attributes over HTTP (SQLite):\n` +
      `  CSV:    ${Math.round(r.csvRowsPerSecond).toLocaleString('en-US')} rows/s (${r.csvSeconds.toFixed(1)} s, ${r.csvMB.toFixed(0)} MB)\n` +
      `  NDJSON: ${Math.round(r.ndjsonRowsPerSecond).toLocaleString('en-US')} rows/s (${r.ndjsonSeconds.toFixed(1)} s, ${r.ndjsonMB.toFixed(0)} MB)\n` +
      `  floor, better-sqlite3 iterate() + JSON.parse in one process: ${Math.round(r.floorRowsPerSecond).toLocaleString('en-US')} rows/s\n` +
      `  server peak RSS: ${r.peakRssMB.toFixed(0)} MB (at rest ${r.rssAtRestMB.toFixed(0)} MB; target < 300 MB)`,
  );
  emitJson(r);
} finally {
  rmSync(data, { recursive: true, force: true });
}
