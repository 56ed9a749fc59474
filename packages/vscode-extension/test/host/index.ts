/**
 * The extension-host suite's entry: VS Code (code-server's, or a desktop one through
 * @vscode/test-electron) loads this module inside the extension host and awaits `run()`.
 * It runs mocha over `*.host.js` beside it, writes `{passed, failed, skipped}` to the `statsFile`
 * named in the workspace's `.profilegate-test.json`, and rejects when a test failed.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';
import { loadTestConfig } from './config';

/** Runs the suite; resolves when every test passed. */
export async function run(): Promise<void> {
  // The extension host forwards console.log's arguments unformatted ("✔ %s" would show as is).
  Mocha.reporters.Base.consoleLog = (...args: unknown[]) => console.log(format(...args));
  const config = loadTestConfig();
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  if (config.grep !== undefined && config.grep !== '') mocha.grep(config.grep);
  const files = readdirSync(__dirname)
    .filter((name) => name.endsWith('.host.js'))
    .sort();
  for (const name of files) mocha.addFile(join(__dirname, name));

  const stats = { passed: 0, failed: 0, skipped: 0 };
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', () => stats.passed++);
    runner.on('fail', () => stats.failed++);
    runner.on('pending', () => stats.skipped++);
  });
  if (files.length === 0) stats.failed++;
  writeFileSync(config.statsFile, JSON.stringify(stats));
  if (files.length === 0) throw new Error(`No *.host.js test file in ${__dirname}`);
  if (stats.failed > 0) throw new Error(`${stats.failed} extension-host test(s) failed`);
}
