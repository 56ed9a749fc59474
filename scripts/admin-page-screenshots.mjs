#!/usr/bin/env node
// Screenshots of the admin page for the README: starts the demo server on a free port with a
// throw-away data folder, makes some history (a token, a settings change, a refused request),
// signs in through the page and saves docs/images/admin-page-{desktop,phone,new-token}.png.
// Needs a build (`npx tsc -b`) and Debian's chromium (CHROMIUM=/path to use another one).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { loadDemoConfig } from '../packages/middleware/dist/src/demo/config.js';
import { startDemoServer } from '../packages/middleware/dist/src/demo/server.js';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'docs', 'images');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const args = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const data = mkdtempSync(join(tmpdir(), 'profilegate-shots-'));
const adminKey = randomBytes(24).toString('base64url');
const config = loadDemoConfig(
  { PORT: '0', PROFILEGATE_DATA: data, PROFILEGATE_CLIENTS: 'demo', PROFILEGATE_ADMIN_KEYS: `${adminKey}:admin:ops` },
  root,
);
const server = await startDemoServer(config, { log: (line) => console.error(line) });
let browser;
try {
  const admin = (method, path, body) =>
    fetch(`${server.url}/demo/target/authentication/${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((res) => {
      if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}`);
    });
  // Some history for the "Recent activity" card.
  await admin('POST', 'token?authorizationScope=profile_api', { expiresIn: 30 * 86_400 });
  await fetch(`${server.url}/rest/v1/profiles/thirdPartyId/u1?client=demo`); // refused: no token
  await admin('PUT', 'settings', { requireAuthentication: false });
  await admin('PUT', 'settings', { requireAuthentication: true });

  // launch() gives the browser a fresh, temporary profile of its own.
  browser = await chromium.launch({ executablePath, args, headless: true });
  const shoot = async (name, contextOptions) => {
    const context = await browser.newContext(contextOptions);
    const page = await context.newPage();
    await page.goto(`${server.url}/demo/target/admin`);
    await page.getByLabel('Admin key').fill(adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Recent activity' }).waitFor();
    if (name === 'desktop') {
      // Generate through the page, then hide the one-time token: the picture shows no usable token.
      await page.getByRole('button', { name: 'Generate New Profile Authentication Token' }).click();
      await page.getByRole('button', { name: 'Generate new token' }).click();
      // The one-time box and its help text, the token itself blurred: no picture shows a usable token.
      const box = page.locator('#new-token');
      await box.waitFor();
      await page.locator('#new-token-value').evaluate((field) => (field.style.filter = 'blur(5px)'));
      await box.screenshot({ path: join(out, 'admin-page-new-token.png') });
      console.log('saved docs/images/admin-page-new-token.png');
      await page.getByRole('button', { name: 'I have copied it' }).click();
    }
    await page.locator('#activity li').first().waitFor();
    await page.screenshot({ path: join(out, `admin-page-${name}.png`), fullPage: true });
    await context.close();
    console.log(`saved docs/images/admin-page-${name}.png`);
  };
  await shoot('desktop', { viewport: { width: 1280, height: 800 } });
  await shoot('phone', { viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
} finally {
  await browser?.close();
  await server.close();
  rmSync(data, { recursive: true, force: true });
}
