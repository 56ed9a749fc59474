#!/usr/bin/env node
// `npm run test:reliability`: builds, then runs only the reliability suite (test/reliability) in
// its long mode, ending with each section's "cases tried N, failures N". Set
// PROFILEGATE_RELIABILITY_SEED to replay an earlier run's random choices.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules', '.bin', name);
const started = Date.now();

const build = spawnSync(bin('tsc'), ['-b'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('test:reliability: the build failed; fix the type errors above first');
  process.exit(1);
}
const mocha = spawnSync(
  bin('mocha'),
  [
    '--no-config',
    '--exit',
    '--timeout',
    '900000',
    '--reporter',
    join(root, 'scripts', 'reliability-reporter.cjs'),
    'test/dist/reliability/*.test.js',
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, PROFILEGATE_RELIABILITY: 'long' } },
);
console.log(`test:reliability took ${((Date.now() - started) / 60000).toFixed(1)} min`);
process.exit(mocha.status ?? 1);
