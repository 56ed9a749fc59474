// Reporter of `npm run test:reliability`: mocha's spec output (and the totals file of
// mocha-stats-reporter), then one line per section: "cases tried N, failures N". The test files
// count their cases into a registry on globalThis (test/reliability/support/summary.ts); a failed
// test also counts as a failure of its section, so a test that broke before counting still shows.
'use strict';
const path = require('node:path');
const Mocha = require('mocha');
const StatsReporter = require('./mocha-stats-reporter.cjs');

const SECTIONS = ['fuzz', 'token attacks', 'crash safety', 'concurrency', 'load', 'secrets', 'hostile shapes'];
const { EVENT_RUN_BEGIN, EVENT_RUN_END, EVENT_TEST_FAIL } = Mocha.Runner.constants;

class ReliabilityReporter extends StatsReporter {
  constructor(runner, options) {
    super(runner, options);
    const failedTests = new Map();
    let started = Date.now();
    runner.once(EVENT_RUN_BEGIN, () => (started = Date.now()));
    // A failed test or hook: remember its file, to charge it to a section.
    runner.on(EVENT_TEST_FAIL, (test) => {
      const file = test.file ?? test.parent?.file;
      if (file) failedTests.set(path.resolve(file), (failedTests.get(path.resolve(file)) ?? 0) + 1);
    });
    runner.once(EVENT_RUN_END, () => {
      const registry = globalThis[Symbol.for('profilegate.reliability')] ?? { sections: {}, mode: '?', seed: '?' };
      const minutes = ((Date.now() - started) / 60000).toFixed(1);
      const lines = [`Reliability summary (${registry.mode} run, seed ${registry.seed}, ${minutes} min):`];
      let allFailures = 0;
      for (const name of SECTIONS) {
        const entry = registry.sections[name] ?? { cases: 0, failures: 0, files: [], notes: [] };
        const testFailures = entry.files.reduce((sum, file) => sum + (failedTests.get(path.resolve(file)) ?? 0), 0);
        const failures = Math.max(entry.failures, testFailures);
        allFailures += failures;
        lines.push(`  ${name.padEnd(14)} cases tried ${entry.cases}, failures ${failures}`);
        for (const note of entry.notes) lines.push(`  ${''.padEnd(14)} ${note}`);
      }
      lines.push(allFailures === 0 ? 'Every section: zero failures.' : `${allFailures} failure(s) in total.`);
      console.log(`\n${lines.join('\n')}`);
    });
  }
}

module.exports = ReliabilityReporter;
