#!/usr/bin/env node
// Screenshots of the rotation flow for the README (images/*.png), taken the way the palette e2e
// test drives VS Code: the packaged .vsix in VS Code 1.100 (code-server's web workbench), headless
// Chromium, a demo server, the fixture workspace. No file holding a token is opened, so no
// picture shows one. Needs a build (`npx tsc -b`), chromium and the cached VS Code server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  TEST_KEYS,
  cacheDir,
  copyFixtureWorkspace,
  ensureVscodeServer,
  extensionDir,
  launchBrowser,
  makeRunRoot,
  startDemoServer,
  startVscodeServer,
  workbenchUrl,
} from './harness.mjs';

const require = createRequire(import.meta.url);
const out = join(extensionDir, 'images');
const VIEWPORT = { width: 1100, height: 720 };

ensureVscodeServer();
const pack = spawnSync('npm', ['run', 'package', '--silent'], { cwd: extensionDir, stdio: 'inherit' });
assert.equal(pack.status, 0, 'npm run package failed');

const run = makeRunRoot('profilegate-screenshots-');
let demo;
let vscode;
let browser;
try {
  demo = await startDemoServer(run.root);
  const admin = (method, path, body) =>
    fetch(`${demo.url}/demo/target/authentication/${path}`, {
      method,
      headers: { authorization: `Bearer ${TEST_KEYS.admin}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((r) => r.json());
  const oldToken = (await admin('POST', 'token?authorizationScope=profile_api', { expiresIn: 86400 })).accessToken;
  const folder = copyFixtureWorkspace(run.root);
  await require(join(extensionDir, 'dist', 'test', 'fixtures', 'seed.js')).seedWorkspace(folder, oldToken);
  mkdirSync(join(folder, '.vscode'), { recursive: true });
  writeFileSync(
    join(folder, '.vscode', 'settings.json'),
    JSON.stringify({ 'profilegate.serverUrl': demo.url, 'profilegate.client': 'demo' }, null, 2),
  );
  const extDir = join(run.root, 'ext');
  mkdirSync(extDir, { recursive: true });
  const serverMain = join(cacheDir, 'node_modules/code-server/lib/vscode/out/server-main.js');
  const install = spawnSync(
    process.execPath,
    [serverMain, '--install-extension', join(extensionDir, 'profilegate.vsix'), '--extensions-dir', extDir],
    { encoding: 'utf8' },
  );
  assert.equal(install.status, 0, `installing the .vsix failed:\n${install.stdout}${install.stderr}`);

  vscode = await startVscodeServer(run.root, { extensionsDir: extDir, smokeTestDriver: false });
  browser = await launchBrowser(run.root);
  const page = browser.pages()[0] ?? (await browser.newPage());
  await page.setViewportSize(VIEWPORT);
  await page.goto(workbenchUrl(vscode, folder));
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await page.waitForSelector('.statusbar-item:has-text("No token")', { timeout: 60_000 });
  const shoot = async (name) => {
    await page.waitForTimeout(400); // animations of the widget just shown
    await page.screenshot({ path: join(out, `${name}.png`) });
    console.log(`saved images/${name}.png`);
  };
  const palette = async (title, category = 'Profilegate') => {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${category}: ${title}`);
    await page.locator('.quick-input-list .quick-input-list-row', { hasText: title }).first().waitFor();
    await page.keyboard.press('Enter');
  };

  // 0. The workspace holds a token of the client and none is stored: the offer to adopt it.
  await page
    .locator('.notifications-toasts .notification-toast', { hasText: 'This workspace holds a token' })
    .first()
    .waitFor({ state: 'visible', timeout: 30_000 });
  await shoot('adopt-offer');
  await palette('Clear All Notifications', 'Notifications');

  // 1. Generate: the admin key box, then the modal that says what stops working.
  await palette('Generate New Profile Authentication Token');
  const passwordBox = page.locator('.quick-input-widget .quick-input-box input[type="password"]');
  await passwordBox.waitFor({ state: 'visible', timeout: 20_000 });
  await passwordBox.fill(TEST_KEYS.admin);
  await page.keyboard.press('Enter');
  const generate = page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Generate New Token' }).first();
  await generate.waitFor({ state: 'visible', timeout: 20_000 });
  await shoot('rotate-confirm');

  // 2. The report, and the status bar counting down the new token.
  await generate.click();
  await page
    .locator('.notifications-toasts .notification-toast', { hasText: 'New token expires in' })
    .first()
    .waitFor({ state: 'visible', timeout: 30_000 });
  await page.waitForSelector('.statusbar-item:has-text("Token: 90 days")', { timeout: 30_000 });
  await shoot('rotate-done');

  // 3. Show Token Status: the facts and the next steps.
  await page.keyboard.press('Escape');
  await palette('Show Token Status');
  await page.locator('.quick-input-list .quick-input-list-row', { hasText: 'Generate New Token' }).first().waitFor();
  await shoot('token-status');
  await page.keyboard.press('Escape');

  // 4. The walkthrough.
  await palette('Get Started');
  await page.locator('.getting-started-step', { hasText: 'Set the server URL' }).first().waitFor({ timeout: 20_000 });
  await shoot('walkthrough');
} finally {
  await browser?.close().catch(() => {});
  await vscode?.stop();
  await demo?.stop();
  run.cleanup();
}
