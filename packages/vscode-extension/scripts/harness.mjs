// Test harness of the extension: a real VS Code (the server and browser workbench inside the npm
// package code-server, see VSCODE-TESTING.md), a demo Profilegate server, headless Chromium, and
// a fixture workspace. Used by run-host-tests.mjs (extension-host suite) and by the
// command-palette end-to-end test. Everything runs on 127.0.0.1 and lives in temp folders.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const extensionDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = resolve(extensionDir, '..', '..');
const CODE_SERVER_VERSION = '4.100.3';
const RIPGREP_CACHE = 'vscode-ripgrep-cache-1.15.11';
const RIPGREP_ARCHIVE = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';
/** Where code-server is installed once (an ignored folder; a second run skips the install). */
export const cacheDir = process.env.PROFILEGATE_VSCODE_CACHE ?? join(repoRoot, '.cache', 'vscode-test');
const serverMain = join(cacheDir, 'node_modules', 'code-server', 'lib', 'vscode', 'out', 'server-main.js');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DEMO_MAIN = join(repoRoot, 'packages', 'middleware', 'dist', 'src', 'demo', 'main.js');
export const FIXTURE_TEMPLATE = join(extensionDir, 'test', 'fixtures', 'workspace');

/** Environment for npm and the VS Code server: ripgrep's download cache and TMPDIR under the cache. */
function cacheEnv() {
  return {
    ...process.env,
    TMPDIR: join(cacheDir, 'tmp'),
    npm_config_nodedir: '/usr',
    npm_config_yes: 'true',
    npm_config_unsafe_perm: 'true',
  };
}

/** Installs code-server into the cache folder unless the same version is already there. */
export function ensureVscodeServer(log = console.log) {
  const marker = join(cacheDir, `installed-code-server-${CODE_SERVER_VERSION}`);
  if (existsSync(marker) && existsSync(serverMain)) return;
  for (const tool of ['rg', CHROMIUM]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      throw new Error(`${tool} is missing; install the Debian packages chromium and ripgrep (see .ci/run)`);
    }
  }
  log(`Installing code-server ${CODE_SERVER_VERSION} (VS Code 1.100) into ${cacheDir}; about a minute, once`);
  mkdirSync(join(cacheDir, 'tmp', RIPGREP_CACHE), { recursive: true });
  // @vscode/ripgrep would download rg; it looks in its download cache first, seeded here with Debian's rg.
  const rgDir = dirname(spawnSync('sh', ['-c', 'command -v rg'], { encoding: 'utf8' }).stdout.trim());
  const tar = spawnSync('tar', ['czf', join(cacheDir, 'tmp', RIPGREP_CACHE, RIPGREP_ARCHIVE), '-C', rgDir, 'rg']);
  if (tar.status !== 0) throw new Error(`could not seed the ripgrep cache: ${tar.stderr}`);
  writeFileSync(
    join(cacheDir, 'package.json'),
    JSON.stringify(
      { name: 'profilegate-vscode-test-cache', private: true, allowScripts: { 'code-server': true } },
      null,
      2,
    ),
  );
  const npm = spawnSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--save-exact', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`],
    { cwd: cacheDir, env: cacheEnv(), stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (npm.status !== 0 || !existsSync(serverMain))
    throw new Error(`installing code-server failed (exit ${npm.status})`);
  writeFileSync(marker, new Date().toISOString());
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Polls `probe` until it returns a truthy value or the time is up. */
export async function waitFor(probe, { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Admin keys of the demo server the tests run against (an admin and an editor). */
export const TEST_KEYS = {
  admin: 'harness-admin-key-0123456789abcdef',
  editor: 'harness-editor-key-0123456789abcdef',
};

/** Starts the demo server (SQLite in a temp folder) as a child process; resolves when it listens. */
export async function startDemoServer(root) {
  const dataDir = join(root, 'server-data');
  const child = spawn(process.execPath, [DEMO_MAIN], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      PROFILEGATE_DATA: dataDir,
      PROFILEGATE_CLIENTS: 'demo,other',
      PROFILEGATE_ADMIN_KEYS: `${TEST_KEYS.admin}:admin:harness-admin,${TEST_KEYS.editor}:editor:harness-editor`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the demo server exited before listening:\n${output}`);
      return /listening on (http:\/\/\S+)/.exec(output)?.[1];
    },
    { what: 'the demo server' },
  );
  return {
    url,
    output: () => output,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

/** Copies the fixture workspace template to a fresh folder. */
export function copyFixtureWorkspace(root) {
  const folder = join(root, 'workspace');
  cpSync(FIXTURE_TEMPLATE, folder, { recursive: true });
  return folder;
}

/**
 * Starts VS Code's server (web workbench + extension host) in its own process group, with all
 * state under `root`. `extensionsDir` may hold an installed .vsix; `smokeTestDriver` enables the
 * test payload of the URL.
 */
export async function startVscodeServer(root, { extensionsDir = join(root, 'ext'), smokeTestDriver = true } = {}) {
  const port = await freePort();
  const dirs = {
    data: join(root, 'vscode-server-data'),
    user: join(root, 'vscode-user'),
    ext: extensionsDir,
    xdgConfig: join(root, 'xdg-config'),
    xdgData: join(root, 'xdg-data'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  mkdirSync(join(dirs.user, 'User'), { recursive: true });
  writeFileSync(
    join(dirs.user, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'security.workspace.trust.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoUpdate': false,
      'extensions.autoCheckUpdates': false,
      'update.mode': 'none',
    }),
  );
  const args = [
    serverMain,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--without-connection-token',
    '--accept-server-license-terms',
    '--disable-telemetry',
    '--disable-workspace-trust',
    '--server-data-dir',
    dirs.data,
    '--user-data-dir',
    dirs.user,
    '--extensions-dir',
    dirs.ext,
    // Needed for the payload that runs a suite in the extension host; it also makes the workbench
    // refuse modal dialogs, so the command-palette test (which clicks them) starts without it.
    ...(smokeTestDriver ? ['--enable-smoke-test-driver'] : []),
  ];
  const child = spawn(process.execPath, args, {
    detached: true,
    env: {
      ...cacheEnv(),
      XDG_CONFIG_HOME: dirs.xdgConfig,
      XDG_DATA_HOME: dirs.xdgData,
      VSCODE_AGENT_FOLDER: dirs.data,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`VS Code's server exited:\n${output}`);
      try {
        return (await fetch(`${base}/version`)).status < 500;
      } catch {
        return false;
      }
    },
    { what: "VS Code's server" },
  );
  return {
    base,
    port,
    dirs,
    output: () => output,
    stop: async () => {
      // The whole group: a browser session leaves its extension host running otherwise.
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return;
      }
      await waitFor(() => child.exitCode !== null || child.signalCode !== null, {
        timeoutMs: 5000,
        what: "VS Code's server to stop",
      }).catch(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      });
    },
  };
}

/** Launches headless Debian Chromium through playwright-core. */
export async function launchBrowser(root) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing; install the Debian package chromium`);
  const { chromium } = await import('playwright-core');
  const userDataDir = join(root, 'chromium-profile');
  mkdirSync(userDataDir, { recursive: true });
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return context;
}

/** The workbench URL that opens `folder`, optionally with a smoke-test payload. */
export function workbenchUrl(server, folder, payload) {
  const url = new URL(server.base);
  url.searchParams.set('folder', folder);
  if (payload) url.searchParams.set('payload', JSON.stringify(payload));
  return url.href;
}

/** A fresh temp root for one harness run; `cleanup` removes it. */
export function makeRunRoot(prefix) {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Builds the extension bundle (esbuild) when it is missing or older than its sources. */
export function buildExtension() {
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: extensionDir, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('building the extension bundle failed');
}

/** Reads a JSON file, or undefined when it does not exist. */
export function readJson(path) {
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}
