#!/usr/bin/env node
// Runs the extension-host suite (test/host) inside a real VS Code against a demo server:
// - with VSCODE_EXECUTABLE set: that desktop VS Code, through @vscode/test-electron;
// - otherwise: VS Code 1.100's server from code-server, driven by headless Chromium.
// Writes the suite's totals to $MOCHA_STATS_FILE (as the root test runner expects) and exits
// non-zero when a test failed or the suite did not run.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import {
  TEST_KEYS,
  buildExtension,
  copyFixtureWorkspace,
  ensureVscodeServer,
  extensionDir,
  launchBrowser,
  makeRunRoot,
  readJson,
  startDemoServer,
  startVscodeServer,
  workbenchUrl,
} from './harness.mjs';

const SUITE = join(extensionDir, 'dist', 'test', 'host', 'index.js');
/** The workbench's own start-up chatter (and its failed look-ups on this offline machine). */
const WORKBENCH_NOISE =
  /ENOTFOUND|\[Service Worker\]|Creating a socket|connection token|ChatSessionStore|builtin extensions cache/;
const SUITE_TIMEOUT_MS = Number(process.env.PROFILEGATE_HOST_SUITE_TIMEOUT_MS ?? 300_000);

async function runInCodeServer(root, folder) {
  ensureVscodeServer();
  const server = await startVscodeServer(root);
  const browser = await launchBrowser(root);
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    let settle;
    const exited = new Promise((resolveExit) => (settle = resolveExit));
    await page.exposeFunction('codeAutomationExit', (code) => settle(Number(code)));
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = Array.isArray(args) ? format(...args) : String(args);
      if (WORKBENCH_NOISE.test(text)) return;
      (type === 'error' ? process.stderr : process.stdout).write(`${text}\n`);
    });
    const remote = (path) => `vscode-remote://127.0.0.1:${server.port}${path}`;
    await page.goto(
      workbenchUrl(server, folder, [
        ['extensionDevelopmentPath', remote(extensionDir)],
        ['extensionTestsPath', remote(SUITE)],
      ]),
    );
    const timeout = new Promise((resolveTimeout) =>
      setTimeout(() => resolveTimeout('timeout'), SUITE_TIMEOUT_MS).unref(),
    );
    const code = await Promise.race([exited, timeout]);
    if (code === 'timeout') {
      console.error(`The extension-host suite did not finish within ${SUITE_TIMEOUT_MS / 1000} s`);
      console.error(server.output().slice(-4000));
      return 1;
    }
    return code;
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
  }
}

async function runInDesktopVscode(root, folder) {
  const { runTests } = await import('@vscode/test-electron');
  try {
    await runTests({
      vscodeExecutablePath: process.env.VSCODE_EXECUTABLE,
      extensionDevelopmentPath: extensionDir,
      extensionTestsPath: SUITE,
      launchArgs: [
        folder,
        '--disable-extensions',
        '--disable-workspace-trust',
        `--user-data-dir=${join(root, 'vscode-user')}`,
        `--extensions-dir=${join(root, 'ext')}`,
      ],
    });
    return 0;
  } catch (error) {
    console.error(String(error));
    return 1;
  }
}

async function main() {
  buildExtension();
  const { root, cleanup } = makeRunRoot('profilegate-vscode-host-');
  const demo = await startDemoServer(root);
  const statsFile = join(root, 'host-stats.json');
  let code = 1;
  try {
    const folder = copyFixtureWorkspace(root);
    writeFileSync(
      join(folder, '.profilegate-test.json'),
      JSON.stringify({
        serverUrl: demo.url,
        client: 'demo',
        adminKey: TEST_KEYS.admin,
        editorKey: TEST_KEYS.editor,
        unreachableServerUrl: 'http://127.0.0.1:1',
        statsFile,
        // PROFILEGATE_HOST_GREP: run only the tests whose titles match (as mocha --grep).
        grep: process.env.PROFILEGATE_HOST_GREP || undefined,
      }),
    );
    const host = process.env.VSCODE_EXECUTABLE
      ? 'desktop VS Code (@vscode/test-electron)'
      : 'VS Code 1.100 (code-server)';
    console.log(`Extension-host suite in ${host}; demo server ${demo.url}`);
    code = process.env.VSCODE_EXECUTABLE ? await runInDesktopVscode(root, folder) : await runInCodeServer(root, folder);
  } finally {
    await demo.stop();
  }
  const stats = readJson(statsFile);
  if (process.env.MOCHA_STATS_FILE) {
    // No report means the suite never ran: count that as one failure, never as a pass.
    writeFileSync(process.env.MOCHA_STATS_FILE, JSON.stringify(stats ?? { passed: 0, failed: 1, skipped: 0 }));
  }
  if (stats === undefined) console.error('The extension-host suite wrote no report (it did not run)');
  if (code === 0 && (stats === undefined || stats.failed > 0)) code = 1;
  if (code === 0 || process.env.PROFILEGATE_KEEP_TEST_DIRS !== '1') cleanup();
  else console.error(`Kept ${root} for inspection`);
  process.exit(code);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  if (process.env.MOCHA_STATS_FILE) {
    writeFileSync(process.env.MOCHA_STATS_FILE, JSON.stringify({ passed: 0, failed: 1, skipped: 0 }));
  }
  process.exit(1);
});
