// Command-palette end-to-end test: the packaged .vsix installed in a real VS Code (1.100, the
// web workbench of code-server), driven like a person would in headless Chromium: F1, the
// command's title, the admin-key password box, the modal's button. Then the files on disk and
// the server are checked. Run by `npm test` (see scripts/run-tests.mjs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  TEST_KEYS,
  copyFixtureWorkspace,
  ensureVscodeServer,
  extensionDir,
  launchBrowser,
  makeRunRoot,
  startDemoServer,
  startVscodeServer,
  waitFor,
  workbenchUrl,
} from '../../scripts/harness.mjs';

const require = createRequire(import.meta.url);
const { startAdobeEmulation } = require('@profilegate/middleware/testing');
/** The emulation's clock: fixed, so Adobe's token lifetime reads the same every run. */
const ADOBE_NOW = Date.parse('2026-11-22T10:00:00Z');
const VSIX = join(extensionDir, 'profilegate.vsix');
const GENERATE_TITLE = 'Profilegate: Generate New Profile Authentication Token';
/** Every file under `folder` holding `token` (relative, `/`-separated). */
function filesHolding(folder, token) {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(join(folder, dir), { withFileTypes: true })) {
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (readFileSync(join(folder, path)).includes(token)) found.push(path);
    }
  };
  walk('');
  return found.sort();
}

async function admin(demo, method, path, body) {
  const response = await fetch(`${demo.url}/demo/target/authentication/${path}`, {
    method,
    headers: { authorization: `Bearer ${TEST_KEYS.admin}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${path} answered ${response.status}`);
  return response.json();
}

/**
 * The text of the notification holding `text`: its toast, or, when VS Code shows none (seen after
 * a modal dialog closes just before the notification arrives: it then goes straight to the
 * notification center, the bell showing a dot), the notification center's entry. Either way the
 * user has the message; the test reads it where VS Code put it.
 */
async function notificationText(page, text, what) {
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
  try {
    await toast.waitFor({ state: 'visible', timeout: 20_000 });
    return await toast.innerText();
  } catch {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill('>Notifications: Show Notifications');
    await page.locator('.quick-input-list .quick-input-list-row', { hasText: 'Show Notifications' }).first().waitFor();
    await page.keyboard.press('Enter');
    const entry = page.locator('.notifications-center .notification-list-item', { hasText: text }).first();
    await entry.waitFor({ state: 'visible', timeout: 40_000 }).catch((error) => {
      throw new Error(
        `${error.message}\nno notification "${text}" as a toast or in the notification center; ${what()}`,
      );
    });
    return entry.innerText();
  }
}

function fetchProfileStatus(demo, token) {
  return fetch(`${demo.url}/rest/v1/profiles/thirdPartyId/e2e-visitor?client=demo`, {
    headers: { authorization: `Bearer ${token}` },
  }).then((r) => r.status);
}

describe('VS Code extension: command palette (headless Chromium, VS Code 1.100)', function () {
  this.timeout(240_000);
  let run;
  let demo;
  let vscode;
  let browser;
  let folder;
  let oldToken;
  let seeded;
  let adobe;

  before(async () => {
    ensureVscodeServer();
    const pack = spawnSync('npm', ['run', 'package', '--silent'], { cwd: extensionDir, stdio: 'inherit' });
    assert.equal(pack.status, 0, 'npm run package failed');
    assert.ok(existsSync(VSIX), `${VSIX} was not produced`);

    run = makeRunRoot('profilegate-vscode-e2e-');
    demo = await startDemoServer(run.root);
    oldToken = (await admin(demo, 'POST', 'token?authorizationScope=profile_api', { expiresIn: 86400 })).accessToken;

    folder = copyFixtureWorkspace(run.root);
    const fixture = require(join(extensionDir, 'dist', 'test', 'fixtures', 'seed.js'));
    await fixture.seedWorkspace(folder, oldToken);
    // The fixture's own account of what a rotation must change and leave alone, checked against the disk.
    const changes = fixture.expectedChanges();
    const leftAlone = [...fixture.LEFT_ALONE.excluded, fixture.LEFT_ALONE.binary, fixture.LEFT_ALONE.tooLarge];
    seeded = { rewritten: Object.keys(changes).sort(), untouched: leftAlone, totals: fixture.expectedTotals() };
    assert.deepEqual(filesHolding(folder, oldToken), [...seeded.rewritten, ...leftAlone].sort());
    for (const kind of [/\.env$/, /\.json$/, /\.ya?ml$/, /\.sh$/]) {
      assert.ok(
        seeded.rewritten.some((file) => kind.test(file)),
        `the fixture has no ${kind} file holding the token`,
      );
    }
    mkdirSync(join(folder, '.vscode'), { recursive: true });
    const settingsFile = join(folder, '.vscode', 'settings.json');
    const settings = existsSync(settingsFile) ? JSON.parse(readFileSync(settingsFile, 'utf8')) : {};
    // Only where the server is: every other setting stays at its default, as a user has it.
    Object.assign(settings, { 'profilegate.serverUrl': demo.url, 'profilegate.client': 'demo' });
    writeFileSync(settingsFile, JSON.stringify(settings, null, 2));

    const extDir = join(run.root, 'ext');
    mkdirSync(extDir, { recursive: true });
    const serverMain = join(
      process.env.PROFILEGATE_VSCODE_CACHE ?? join(extensionDir, '..', '..', '.cache', 'vscode-test'),
      'node_modules/code-server/lib/vscode/out/server-main.js',
    );
    const install = spawnSync(
      process.execPath,
      [serverMain, '--install-extension', VSIX, '--extensions-dir', extDir, '--accept-server-license-terms'],
      { encoding: 'utf8' },
    );
    assert.equal(install.status, 0, `installing the .vsix failed:\n${install.stdout}${install.stderr}`);

    vscode = await startVscodeServer(run.root, { extensionsDir: extDir, smokeTestDriver: false });
    browser = await launchBrowser(run.root);
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || !browser) return;
    // A picture of the workbench says more than a timeout: keep one outside the run folder.
    const shot = join(tmpdir(), `profilegate-palette-e2e-${Date.now()}.png`);
    const page = browser.pages()[0];
    const toasts = await page
      ?.locator('.notifications-toasts')
      .innerText({ timeout: 1000 })
      .catch(() => '');
    if (toasts) console.log(`Notifications at the failure:\n${toasts}`);
    await page
      ?.screenshot({ path: shot })
      .then(() => console.log(`Screenshot of the failure: ${shot}`))
      .catch(() => {});
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await vscode?.stop();
    await demo?.stop();
    await adobe?.close();
    run?.cleanup();
  });

  it('F1 → Generate New Profile Authentication Token → admin key → "Generate New Token" rotates the token and rewrites the project', async () => {
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(workbenchUrl(vscode, folder));
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    // The extension activates on start-up; wait for its status-bar item before using the palette.
    await page.waitForSelector('.statusbar-item:has-text("token")', { timeout: 60_000 }).catch(() => {});

    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${GENERATE_TITLE}`);
    await page
      .locator('.quick-input-list .quick-input-list-row', { hasText: 'Generate New Profile Authentication Token' })
      .first()
      .waitFor();
    await page.keyboard.press('Enter');

    // No admin key is stored yet: the extension asks for it in a password box.
    const passwordBox = page.locator('.quick-input-widget .quick-input-box input[type="password"]');
    await passwordBox.waitFor({ state: 'visible', timeout: 20_000 });
    await passwordBox.fill(TEST_KEYS.admin);
    await page.keyboard.press('Enter');

    // The modal warns that the current token stops working; its button generates the new one.
    const generateButton = page.locator('.monaco-dialog-box a.monaco-button, .monaco-dialog-box .monaco-button', {
      hasText: 'Generate New Token',
    });
    await generateButton.first().waitFor({ state: 'visible', timeout: 20_000 });
    await generateButton.first().click();

    const message = await notificationText(page, 'New token expires in', () => 'the server was asked for a new token');
    const counts = /New token expires in 90 days\. Updated (\d+) cop(?:y|ies) in (\d+) files?\./.exec(message);
    assert.ok(counts, `unexpected notification: ${message}`);
    assert.ok(!message.includes(oldToken), 'the notification shows the old token in full');

    // The server has a new token, and the old one is refused at once.
    const current = (await admin(demo, 'GET', 'token?authorizationScope=profile_api')).accessToken;
    assert.notEqual(current, oldToken);
    assert.ok(!message.includes(current), 'the notification shows the new token in full');
    assert.equal(await fetchProfileStatus(demo, oldToken), 401);
    assert.notEqual(await fetchProfileStatus(demo, current), 401);

    // Saves reach the disk shortly after the edit: poll the files.
    const { rewritten, untouched } = seeded;
    const stale = () => rewritten.filter((file) => !readFileSync(join(folder, file), 'utf8').includes(current));
    await waitFor(() => stale().length === 0, { timeoutMs: 15_000, what: 'the rewritten files on disk' }).catch(
      (error) => {
        throw new Error(`${error.message}; still without the new token: ${stale().join(', ')} (${message})`);
      },
    );
    assert.deepEqual(
      { copies: Number(counts[1]), files: Number(counts[2]) },
      seeded.totals,
      'the notification counts other copies or files than the fixture holds',
    );
    for (const file of rewritten) {
      assert.ok(!readFileSync(join(folder, file), 'utf8').includes(oldToken), `${file} still holds the old token`);
    }
    for (const file of untouched) {
      assert.ok(readFileSync(join(folder, file)).includes(oldToken), `${file} (excluded or binary) was changed`);
    }
  });

  it('with profilegate.target = adobe: F1 → Generate → client secret → "Generate New Token" rotates Adobe’s token and rewrites the project', async () => {
    adobe = await startAdobeEmulation({ now: () => ADOBE_NOW });
    const adobeOld = adobe.tokens.get('profile_api');
    const adobeFolder = copyFixtureWorkspace(join(run.root, 'adobe'));
    const fixture = require(join(extensionDir, 'dist', 'test', 'fixtures', 'seed.js'));
    await fixture.seedWorkspace(adobeFolder, adobeOld);
    mkdirSync(join(adobeFolder, '.vscode'), { recursive: true });
    // The default settings, apart from choosing the Adobe target and entering its fields.
    writeFileSync(
      join(adobeFolder, '.vscode', 'settings.json'),
      JSON.stringify(
        {
          'profilegate.target': 'adobe',
          'profilegate.adobe.tenant': adobe.tenant,
          'profilegate.adobe.clientId': adobe.clientId,
          'profilegate.adobe.imsUrl': adobe.imsUrl,
          'profilegate.adobe.adminUrl': adobe.adminUrl,
        },
        null,
        2,
      ),
    );
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(workbenchUrl(vscode, adobeFolder));
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await page.waitForSelector('.statusbar-item:has-text("Adobe Target")', { timeout: 60_000 }).catch(() => {});

    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${GENERATE_TITLE}`);
    await page
      .locator('.quick-input-list .quick-input-list-row', { hasText: 'Generate New Profile Authentication Token' })
      .first()
      .waitFor();
    await page.keyboard.press('Enter');

    // No client secret is stored yet: asked for in a password box, sent only to IMS.
    const passwordBox = page.locator('.quick-input-widget .quick-input-box input[type="password"]');
    await passwordBox.waitFor({ state: 'visible', timeout: 20_000 });
    await passwordBox.fill(adobe.clientSecret);
    await page.keyboard.press('Enter');

    const generateButton = page.locator('.monaco-dialog-box a.monaco-button, .monaco-dialog-box .monaco-button', {
      hasText: 'Generate New Token',
    });
    await generateButton.first().waitFor({ state: 'visible', timeout: 20_000 });
    await generateButton.first().click();

    const message = await notificationText(
      page,
      'New token expires in',
      () => `Adobe received: ${adobe.requests.map((r) => `${r.api} ${r.method} ${r.status}`).join(', ')}`,
    );
    assert.match(message, /New token expires in 180 days\. Updated \d+ copies in \d+ files\./);
    const adobeNew = adobe.tokens.get('profile_api');
    assert.notEqual(adobeNew, adobeOld);
    for (const secret of [adobeOld, adobeNew, adobe.clientSecret]) {
      assert.ok(!message.includes(secret), 'the notification shows a secret in full');
    }

    const stale = () =>
      seeded.rewritten.filter((file) => !readFileSync(join(adobeFolder, file), 'utf8').includes(adobeNew));
    await waitFor(() => stale().length === 0, { timeoutMs: 15_000, what: 'the rewritten files on disk' }).catch(
      (error) => {
        throw new Error(`${error.message}; still without the new token: ${stale().join(', ')} (${message})`);
      },
    );
    assert.deepEqual(filesHolding(adobeFolder, adobeOld), [...seeded.untouched].sort());
    assert.deepEqual(adobe.violations(), [], 'every Adobe request matches Adobe’s published document');
    assert.deepEqual(
      adobe.requests.map((r) => `${r.api} ${r.method} ${r.status}`),
      ['ims POST 200', 'admin GET 200', 'admin POST 201'],
    );
  });
});
