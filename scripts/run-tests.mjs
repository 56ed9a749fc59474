#!/usr/bin/env node
// `npm test`: type-check, lint, then every test suite; ends with one line `N passed, N failed`
// that totals them all (CI reads that line). A failing check counts as one failure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules', '.bin', name);
const statsDir = mkdtempSync(join(tmpdir(), 'profilegate-test-'));
let passed = 0;
let failed = 0;
let skipped = 0;

function run(label, command, args, env = {}) {
  console.log(`\n=== ${label}: ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status === 0;
}

function check(label, command, args) {
  if (run(label, command, args)) passed++;
  else {
    failed++;
    console.log(`*** ${label} failed`);
  }
}

function suite(label, command, args, env = {}) {
  const statsFile = join(statsDir, `${label.replace(/\W+/g, '-')}.json`);
  const ok = run(label, command, args, { ...env, MOCHA_STATS_FILE: statsFile });
  if (!existsSync(statsFile)) {
    failed++;
    console.log(`*** ${label} ended without a report (exit ${ok ? 0 : 'non-zero'})`);
    return;
  }
  const stats = JSON.parse(readFileSync(statsFile, 'utf8'));
  passed += stats.passed;
  failed += stats.failed;
  skipped += stats.skipped;
  if (!ok && stats.failed === 0) {
    failed++;
    console.log(`*** ${label} exited non-zero with no failed test`);
  }
}

/** Why the browser suites cannot run here, or null. Under CI a missing browser is a failure, not a skip. */
function browserMissing() {
  if (existsSync(CHROMIUM)) return null;
  return `${CHROMIUM} is missing (install the Debian package chromium, as .ci/run does)`;
}

function browserSuite(label, command, args) {
  const missing = browserMissing();
  if (missing && !process.env.CI) {
    skipped++;
    console.log(`\n=== ${label}: skipped: ${missing}`);
    return;
  }
  suite(label, command, args);
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// The unit suites again with the wall clock 400 days ahead (Debian's faketime, libfaketime), so a
// test that depends on today's date (a literal expiry, the real clock read beside a fixed one)
// fails on the day it is written. Only the wall clock moves: the monotonic clock that Node's
// timers use stays real. Child processes (the CLI's) inherit the shift. Left out: the admin page's
// browser test (Chromium does not load pages under libfaketime), the 500,000-row batch (a volume
// test, a minute on a loaded machine; its dates are the other batch tests'), and test/ (several
// demo servers on PostgreSQL, an integration suite).
const CLOCK_SHIFT_DAYS = 400;
const FAKETIME = ['-m', '--exclude-monotonic', '-f', `+${CLOCK_SHIFT_DAYS}d`];
const SHIFTED_SPEC = [
  'packages/client/dist/test/**/*.test.js',
  'packages/core/dist/test/**/*.test.js',
  'packages/middleware/dist/test/**/*.test.js',
  'packages/cli/dist/test/**/*.test.js',
  'packages/vscode-extension/dist/test/unit/**/*.test.js',
];
const SHIFTED_IGNORE = [
  'packages/middleware/dist/test/admin-page.test.js',
  'packages/middleware/dist/test/big-batch.test.js',
];

// The middleware supports Express 4.17+ and 5 (a peer dependency). The first pass runs everything on
// the repo's Express 5; this suite runs the middleware's tests again on Express 4 (the express4
// alias, through scripts/express-major.cjs). Measured on this 2-core machine, the middleware's suite
// takes about 11 s without the two files the moved clock leaves out too (the browser test and the
// 500,000-row volume test, about 20 s more; the router code they go through is the others'), so a
// pass of its own, independent of faketime, costs little. express-major.test.js fails when the
// choice did not take effect, so the two passes cannot both run Express 5.
const EXPRESS_4_SPEC = ['packages/middleware/dist/test/**/*.test.js'];
const EXPRESS_4_LABEL =
  'middleware on Express 4 (a pass of its own, ~11 s, that needs no faketime; without the browser and 500,000-row tests)';

/** A mocha config file in the stats folder: the root config's options with these spec, ignore and require lists. */
function mochaConfig(name, options) {
  const config = JSON.parse(readFileSync(join(root, '.mocharc.json'), 'utf8'));
  const configFile = join(statsDir, `mocharc-${name}.json`);
  writeFileSync(configFile, JSON.stringify({ ...config, ...options }));
  return configFile;
}

/** Why the clock cannot be moved here, or null. */
function faketimeMissing() {
  const probe = spawnSync(
    'faketime',
    [...FAKETIME, process.execPath, '-e', 'process.stdout.write(String(Date.now()))'],
    {
      encoding: 'utf8',
    },
  );
  if (probe.error || probe.status !== 0) {
    return `faketime does not run (${probe.error?.message ?? probe.stderr.trim()}; install the Debian package faketime, as .ci/run does)`;
  }
  const aheadDays = (Number(probe.stdout) - Date.now()) / 86_400_000;
  if (!(aheadDays > CLOCK_SHIFT_DAYS - 1)) return `faketime did not move the clock (${aheadDays} days ahead)`;
  return null;
}

/** The unit suites under the moved clock, with the root mocha config's options. Under CI a missing faketime is a failure. */
function shiftedClockSuite(label) {
  const missing = faketimeMissing();
  if (missing) {
    if (process.env.CI) {
      failed++;
      console.log(`\n=== ${label}: *** failed: ${missing}`);
    } else {
      skipped++;
      console.log(`\n=== ${label}: skipped: ${missing}`);
    }
    return;
  }
  const configFile = mochaConfig('shifted', { spec: SHIFTED_SPEC, ignore: SHIFTED_IGNORE });
  suite(label, 'faketime', [...FAKETIME, bin('mocha'), '--config', configFile], { PROFILEGATE_EXPRESS: '5' });
}

/** The middleware's tests with `require('express')` giving Express 4. */
function express4Suite(label) {
  const hook = join(root, 'scripts', 'express-major.cjs');
  const configFile = mochaConfig('express4', { spec: EXPRESS_4_SPEC, ignore: SHIFTED_IGNORE, require: [hook] });
  suite(label, bin('mocha'), ['--config', configFile], { PROFILEGATE_EXPRESS: '4' });
}
/**
 * The packages as an outside user installs them (test/packaging/tarballs.test.ts): `npm pack` of
 * every publishable workspace, installed into fresh apps in a temporary folder (offline from the
 * npm cache where it can), the CLI run there, a strict TypeScript consumer type-checked, the
 * middleware serving requests on Express 4 and 5. A pass of its own, left out of the root
 * .mocharc.json: about 2 minutes here, half of it the CLI app compiling better-sqlite3 (through core).
 */
function tarballSuite(label) {
  const configFile = mochaConfig('tarballs', { spec: ['test/dist/packaging/**/*.test.js'], ignore: [] });
  suite(label, bin('mocha'), ['--config', configFile]);
}
const extension = join(root, 'packages', 'vscode-extension');

check('type-check', bin('tsc'), ['-b']);
check('eslint', bin('eslint'), ['.']);
check('prettier', bin('prettier'), ['--check', '.']);
suite('mocha', bin('mocha'), [], { PROFILEGATE_EXPRESS: '5' });
shiftedClockSuite(`unit (clock +${CLOCK_SHIFT_DAYS} days)`);
express4Suite(EXPRESS_4_LABEL);
tarballSuite('tarballs (npm pack, fresh installs, Express 4 and 5, strict TypeScript consumer)');
browserSuite('vscode-extension-host', process.execPath, [join(extension, 'scripts', 'run-host-tests.mjs')]);
browserSuite('vscode-command-palette', bin('mocha'), [
  '--no-config',
  '--exit',
  '--reporter',
  join(root, 'scripts', 'mocha-stats-reporter.cjs'),
  join(extension, 'test', 'e2e', 'palette.e2e.mjs'),
]);

rmSync(statsDir, { recursive: true, force: true });
if (skipped > 0) console.log(`(${skipped} skipped; each prints its reason above)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
