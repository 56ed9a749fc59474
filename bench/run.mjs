#!/usr/bin/env node
// `npm run bench`: runs every benchmark of this folder, each in its own process (progress on
// stderr as it goes), then prints one table, each figure beside its anchor measured in the same
// run (admin-latency and revocation have absolute targets: no anchor ratio), and writes
// bench/results.json with the machine it ran on.
//   node bench/run.mjs [--only gate-overhead,ingest,ingest-postgres,rotation,token-verify,admin-latency,revocation,export] [--scale]
//     [--export-rows N]   (profiles of the export benchmark; default 200,000, the documented figure 1,000,000)
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { argValue, machine } from './lib.mjs';

// `--scale` adds the opt-in PostgreSQL scale benchmark (10 million profiles, several minutes).
const BENCHES = [
  'gate-overhead',
  'ingest',
  'ingest-postgres',
  'rotation',
  'token-verify',
  'admin-latency',
  'revocation',
  'export',
  ...(process.argv.includes('--scale') ? ['scale'] : []),
];
const only = argValue('--only', null)?.split(',');
const started = performance.now();
const info = machine();

/** Extra arguments of one benchmark, from run.mjs's own. */
function argsOf(name) {
  const exportRows = argValue('--export-rows', null);
  return name === 'export' && exportRows !== null ? ['--rows', exportRows] : [];
}

function run(name) {
  return new Promise((resolve) => {
    const script = new URL(`${name}.mjs`, import.meta.url).pathname;
    const child = spawn(process.execPath, [script, '--json', ...argsOf(name)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => {
      const lines = out.trimEnd().split('\n');
      const json = lines.at(-1)?.startsWith('{') ? lines.pop() : undefined;
      console.log(lines.join('\n'));
      resolve(code === 0 && json ? JSON.parse(json) : null);
    });
  });
}

const fmt = {
  rps: (v) => `${Math.round(v).toLocaleString('en-US')} req/s`,
  rows: (v) => `${Math.round(v).toLocaleString('en-US')} rows/s`,
  ms: (v) => `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`,
  mb: (v) => `${Math.round(v)} MB`,
  us: (v) => `${v < 10 ? v.toFixed(2) : v.toFixed(0)} µs`,
  x: (v) => `${v < 10 ? v.toFixed(2) : v.toFixed(0)}×`,
  pct: (v) => `${(100 * v).toFixed(1)}%`,
};

/** The table rows of one benchmark's result: figure, value, anchor, ratio, target, met. */
function rowsOf(name, r) {
  switch (name) {
    case 'gate-overhead':
      return [
        {
          figure: 'Gate: route behind requireProfileToken, auth on, valid token',
          value: fmt.rps(r.gatedRps),
          anchor: `same route and request (Authorization sent), no gate: ${fmt.rps(r.bareRps)}`,
          ratio: fmt.pct(r.ratioGated),
          target: '>= 95%',
          met: r.ratioGated >= 0.95,
        },
        {
          figure: 'Gate, against other bearer middleware (same route, same rounds)',
          value: fmt.rps(r.gatedRps),
          anchor: `express-jwt: ${fmt.rps(r.expressJwtRps)}; express-oauth2-jwt-bearer: ${fmt.rps(r.oauth2BearerRps)}`,
          ratio: `${fmt.x(r.gatedRps / r.expressJwtRps)} / ${fmt.x(r.gatedRps / r.oauth2BearerRps)}`,
          target: '',
          met: null,
        },
        {
          figure: 'Gate: same, Require Authentication off',
          value: fmt.rps(r.gatedOffRps),
          anchor: `same route and request, no gate: ${fmt.rps(r.bareRps)}`,
          ratio: fmt.pct(r.ratioGatedOff),
          target: '',
          met: null,
        },
        {
          figure: 'Extra: route behind a no-op middleware (one more Express layer)',
          value: fmt.rps(r.noopRps),
          anchor: `same route and request, no middleware: ${fmt.rps(r.bareRps)}`,
          ratio: fmt.pct(r.ratioNoop),
          target: '',
          met: null,
        },
        {
          figure: 'Extra: bare route, no Authorization header (what receiving the token costs)',
          value: fmt.rps(r.bareNoHeaderRps),
          anchor: `same route, header sent: ${fmt.rps(r.bareRps)}`,
          ratio: fmt.pct(r.ratioBareNoHeader),
          target: '',
          met: null,
        },
      ];
    case 'ingest':
      return [
        {
          figure: `Bulk ingest: ${r.rows.toLocaleString('en-US')} rows × ${r.attributes} attributes (${r.bodyMB.toFixed(1)} MB form), v2 until complete`,
          value: `${fmt.rows(r.rowsPerSecond)} (${r.totalSeconds.toFixed(1)} s)`,
          anchor: `floor: plain JSON-column upsert, parsing the body line by line: ${fmt.rows(r.floorParsedRowsPerSecond)} (${r.floorParsedSeconds.toFixed(1)} s)`,
          ratio: fmt.pct(r.ratioToFloorParsed),
          target: '>= 60%',
          met: r.ratioToFloorParsed >= 0.6,
        },
        {
          figure: 'Bulk ingest against the database alone',
          value: fmt.rows(r.rowsPerSecond),
          anchor: `floor: the same upsert, rows decoded beforehand: ${fmt.rows(r.floorDbRowsPerSecond)} (${r.floorDbSeconds.toFixed(1)} s)`,
          ratio: fmt.pct(r.ratioToFloorDb),
          target: '',
          met: null,
        },
        {
          figure: '  extra (not independent): against SqliteStore’s own schema and statement',
          value: fmt.rows(r.rowsPerSecond),
          anchor: `same-schema upserts, one transaction: ${fmt.rows(r.rawRowsPerSecond)} (${r.rawSeconds.toFixed(1)} s)`,
          ratio: fmt.pct(r.ratioToRaw),
          target: '',
          met: null,
        },
        {
          figure: `Profile fetches while that batch is applied (${r.fetches}): p50 / p99`,
          value: `${fmt.ms(r.p50ms)} / ${fmt.ms(r.p99ms)}`,
          anchor: `same fetches, no batch: ${fmt.ms(r.idleP50ms)} / ${fmt.ms(r.idleP99ms)}`,
          ratio: `p99 ${fmt.x(r.p99ms / r.idleP99ms)}`,
          target: 'p99 < 100 ms',
          met: r.p99ms < 100,
        },
        {
          figure: 'Peak RSS of the server while ingesting that batch',
          value: fmt.mb(r.peakRssMB),
          anchor: `server at rest: ${fmt.mb(r.rssBeforeMB)}`,
          ratio: fmt.x(r.peakRssMB / r.rssBeforeMB),
          target: '< 300 MB',
          met: r.peakRssMB < 300,
        },
      ];
    case 'ingest-postgres':
      return [
        {
          figure: `Bulk ingest on PostgreSQL: ${r.rows.toLocaleString('en-US')} rows, v2 until complete`,
          value: `${fmt.rows(r.rowsPerSecond)} (${r.totalSeconds.toFixed(1)} s)`,
          anchor: `floor: set-based upsert, 10,000 rows a statement, parsing included: ${fmt.rows(r.floorRowsPerSecond)} (${r.floorSeconds.toFixed(1)} s)`,
          ratio: fmt.pct(r.ratioToFloor),
          target: '>= 50%',
          met: r.ratioToFloor >= 0.5,
        },
      ];
    case 'rotation':
      return [
        {
          figure: `Token rotation: updateTokenInFiles, ${r.files.toLocaleString('en-US')} files / ${Math.round(r.megabytes)} MB, ${r.copies} copies (whole processes, interleaved)`,
          value: fmt.ms(r.updaterMs),
          anchor: `rg -F -l finding them: ${fmt.ms(r.ripgrepMs)}`,
          ratio: fmt.x(r.ratio),
          target: '<= 2×',
          met: r.ratio <= 2,
        },
        {
          figure: 'Token rotation, the same job with standard tools',
          value: fmt.ms(r.updaterMs),
          anchor: `rg -l | xargs sed -i, then sync of the files: ${fmt.ms(r.sedMs)}`,
          ratio: fmt.x(r.sedRatio),
          target: '',
          met: null,
        },
        {
          figure: 'Token rotation without the native prefilter (PROFILEGATE_NATIVE_SCAN=0)',
          value: fmt.ms(r.javascriptOnlyMs),
          anchor: `rg -F -l finding them: ${fmt.ms(r.ripgrepMs)}`,
          ratio: fmt.x(r.javascriptOnlyRatio),
          target: '',
          met: null,
        },
      ];
    case 'token-verify':
      return [
        {
          figure: 'Token verify, uncached (HMAC + store read each time)',
          value: fmt.us(r.uncached),
          anchor: `bare HMAC-SHA256, the faster of digest as text + constant-time compare (${fmt.us(r.bareHmacText)}) and as bytes + timingSafeEqual (${fmt.us(r.bareHmacBytes)}): ${fmt.us(r.bareHmac)}`,
          ratio: fmt.x(r.uncachedToHmac),
          target: '<= 2×',
          met: r.uncachedToHmac <= 2,
        },
        {
          figure: 'Token verify, uncached, against a JWT library',
          value: fmt.us(r.uncached),
          anchor: `jsonwebtoken.verify, KeyObject secret: ${fmt.us(r.keyObject)}`,
          ratio: fmt.x(r.uncachedToKeyObject),
          target: '',
          met: null,
        },
        {
          figure: 'Token verify, cached (verified-token and state caches)',
          value: fmt.us(r.cached),
          anchor: `jsonwebtoken.verify, KeyObject secret: ${fmt.us(r.keyObject)}`,
          ratio: fmt.x(r.cachedToKeyObject),
          target: '',
          met: null,
        },
        {
          figure: '  extra (a weak anchor): jsonwebtoken.verify with a string secret',
          value: fmt.us(r.stringSecret),
          anchor: 'tries the string as a PEM key first',
          ratio: '',
          target: '',
          met: null,
        },
      ];
    case 'admin-latency': {
      const kinds = [
        ['postToken', 'POST token'],
        ['deleteToken', 'DELETE token'],
        ['putSettings', 'PUT settings'],
      ];
      const pair = (f) => (f.count === 0 ? 'no sample' : `${fmt.ms(f.p50ms)} / ${fmt.ms(f.p99ms)}`);
      return [
        {
          figure:
            `Admin writes while the ${r.rows.toLocaleString('en-US')}-row batch is applied ` +
            `(${r.samplesInWindow} sent in its ${r.batchWindowSeconds.toFixed(1)} s${r.errors ? `, ${r.errors} failed` : ''}): p50 / p99`,
          value: pair(r.overall),
          anchor: `same writes, no batch: ${pair(r.idle.overall)}`,
          ratio: '',
          target: 'p99 < 100 ms',
          met: r.met,
        },
        ...kinds.map(([key, label]) => ({
          figure: `  of which ${label} (${r[key].count}): p50 / p99`,
          value: pair(r[key]),
          anchor: `same writes, no batch: ${pair(r.idle[key])}`,
          ratio: '',
          target: '',
          met: null,
        })),
        {
          figure:
            `Single updates of a profile outside the batch, during it (${r.singleUpdatesDuring.count}` +
            `${r.singleUpdatesDuring.errors ? `, ${r.singleUpdatesDuring.errors} failed` : ''}): p50 / p99 / max`,
          value:
            r.singleUpdatesDuring.count === 0
              ? 'no sample'
              : `${pair(r.singleUpdatesDuring)} / ${fmt.ms(r.singleUpdatesDuring.maxms)}`,
          anchor: 'wait at most for the batch merge',
          ratio: '',
          target: '',
          met: null,
        },
      ];
    }
    case 'revocation': {
      const row = (label, x, target) =>
        x.measured
          ? {
              figure:
                `Revocation: DELETE token answered → first 401, ${label}; ${x.trials} trials` +
                `${x.refusedTrials < x.trials ? `, ${x.trials - x.refusedTrials} never refused` : ''}` +
                `, ${x.acceptedAfterAnswer} probes accepted after the answer: p50 / max`,
              value: x.refusedTrials
                ? `${fmt.ms(x.p50FromAnsweredMs)} / ${fmt.ms(x.maxFromAnsweredMs)}`
                : 'never refused',
              anchor: x.refusedTrials
                ? `from DELETE sent: ${fmt.ms(x.p50FromSentMs)} / ${fmt.ms(x.maxFromSentMs)}`
                : '',
              ratio: '',
              target,
              met: x.met,
            }
          : {
              figure: `Revocation: DELETE token answered → first 401, ${label}`,
              value: `not measured: ${x.reason}`,
              anchor: '',
              ratio: '',
              target,
              met: null,
            };
      return [row('one instance (SQLite)', r.single, '< 100 ms'), row('A → B on PostgreSQL', r.cross, '< 1 s')];
    }
    case 'scale':
      return [
        {
          figure: `Scale: profile fetches at ${r.big.toLocaleString('en-US')} profiles (PostgreSQL, ${r.requests} sequential): p50 / p99`,
          value: `${fmt.ms(r.atBig.fetchP50)} / ${fmt.ms(r.atBig.fetchP99)}`,
          anchor: `same at ${r.small.toLocaleString('en-US')} profiles: ${fmt.ms(r.at10k.fetchP50)} / ${fmt.ms(r.at10k.fetchP99)}`,
          ratio: `p99 ${fmt.x(r.fetchP99Ratio)}`,
          target: 'p99 <= 1.5×',
          met: r.fetchP99Ratio <= 1.5,
        },
        {
          figure: `Scale: single updates at ${r.big.toLocaleString('en-US')} profiles: p50 / p99`,
          value: `${fmt.ms(r.atBig.updateP50)} / ${fmt.ms(r.atBig.updateP99)}`,
          anchor: `same at ${r.small.toLocaleString('en-US')} profiles: ${fmt.ms(r.at10k.updateP50)} / ${fmt.ms(r.at10k.updateP99)}`,
          ratio: `p99 ${fmt.x(r.updateP99Ratio)}`,
          target: 'p99 <= 1.5×',
          met: r.updateP99Ratio <= 1.5,
        },
      ];
    case 'export':
      return [
        {
          figure: `Export: ${r.rows.toLocaleString('en-US')} profiles × ${r.attributes} attributes as CSV over HTTP (SQLite, two passes)`,
          value: `${fmt.rows(r.csvRowsPerSecond)} (${r.csvSeconds.toFixed(1)} s)`,
          anchor: `floor: better-sqlite3 iterate() + JSON.parse, nothing sent: ${fmt.rows(r.floorRowsPerSecond)}`,
          ratio: fmt.pct(r.ratioCsvToFloor),
          target: '',
          met: null,
        },
        {
          figure: '  the same as NDJSON (one pass)',
          value: `${fmt.rows(r.ndjsonRowsPerSecond)} (${r.ndjsonSeconds.toFixed(1)} s)`,
          anchor: '',
          ratio: '',
          target: '',
          met: null,
        },
        {
          figure: 'Peak RSS of the server over both exports',
          value: fmt.mb(r.peakRssMB),
          anchor: `server at rest: ${fmt.mb(r.rssAtRestMB)}`,
          ratio: fmt.x(r.peakRssMB / r.rssAtRestMB),
          target: '< 300 MB',
          met: r.peakRssMB < 300,
        },
      ];
    default:
      return [];
  }
}

const results = { machine: info, command: 'npm run bench', benches: {}, table: [] };
let failed = false;
for (const name of BENCHES.filter((b) => !only || only.includes(b))) {
  console.log(`\n=== ${name} (${((performance.now() - started) / 1000).toFixed(0)} s so far)`);
  const result = await run(name);
  if (!result) {
    console.error(`${name} failed`);
    failed = true;
    continue;
  }
  results.benches[name] = result;
  results.table.push(...rowsOf(name, result));
}
results.seconds = Math.round((performance.now() - started) / 1000);

const columns = ['figure', 'value', 'anchor', 'ratio', 'target', 'met'];
const cell = (row, column) =>
  column === 'met' ? (row.met === null ? '' : row.met ? 'yes' : 'NO') : String(row[column] ?? '');
const widths = columns.map((c) => Math.max(c.length, ...results.table.map((row) => cell(row, c).length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(
  `\nMachine: ${info.cpuModel}, ${info.cores} cores, ${info.memoryGiB} GiB, Node ${info.node}, ${info.platform}; ` +
    `load average ${info.loadAverage1m} at the start; ${info.date}`,
);
console.log(line(columns));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of results.table) console.log(line(columns.map((c) => cell(row, c))));
writeFileSync(new URL('results.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');
console.log(`\nWrote bench/results.json (${results.seconds} s in all)`);
process.exit(failed ? 1 : 0);
