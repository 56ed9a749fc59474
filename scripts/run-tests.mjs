#!/usr/bin/env node
// `npm test`: type-check, lint, then every test suite; ends with one line `N passed, N failed`
// that totals them all (CI reads that line). A failing check counts as one failure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
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
const extension = join(root, 'packages', 'vscode-extension');

check('type-check', bin('tsc'), ['-b']);
check('eslint', bin('eslint'), ['.']);
check('prettier', bin('prettier'), ['--check', '.']);
suite('mocha', bin('mocha'), []);
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
