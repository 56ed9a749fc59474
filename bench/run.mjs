#!/usr/bin/env node
// `npm run bench`: runs every benchmark in this folder (each prints its figures beside its
// anchor), collects the JSON line each prints last with --json, and writes bench/results.json.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

const benches = ['token-verify.mjs', 'ingest-latency.mjs'];
const results = {
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  at: new Date().toISOString(),
  benches: {},
};
let failed = false;
for (const bench of benches) {
  console.log(`\n=== ${bench}`);
  const run = spawnSync(process.execPath, [new URL(bench, import.meta.url).pathname, '--json'], { encoding: 'utf8' });
  const lines = run.stdout.trimEnd().split('\n');
  const json = lines.pop();
  console.log(lines.join('\n'));
  if (run.status !== 0 || !json?.startsWith('{')) {
    console.error(run.stderr);
    failed = true;
    continue;
  }
  results.benches[bench.replace(/\.mjs$/, '')] = JSON.parse(json);
}
writeFileSync(new URL('results.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');
console.log('\nWrote bench/results.json');
process.exit(failed ? 1 : 0);
