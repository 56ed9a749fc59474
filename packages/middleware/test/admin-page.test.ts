/**
 * The admin page in a real browser (Debian's headless Chromium through playwright-core), against
 * the router on 127.0.0.1: sign-in, the Require Authentication switch, generating a token, the
 * countdown, permissions, a host session, phone width, and that the page stays inside its CSP
 * and its own origin. Without Chromium the suite is skipped with a reason, and fails under CI.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeyRing, MemoryStore, generateSigningKey } from '@profilegate/core';
import express from 'express';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { profileApi } from '../src';
import {
  ACTOR_IDS,
  ADMIN_KEYS,
  CLIENT,
  SETTINGS_PATH,
  adminAuth,
  closeServer,
  generateToken,
  listen,
  startApp,
  type TestApp,
} from './helpers';

const CHROMIUM = process.env['PROFILEGATE_CHROMIUM'] ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const PAGE = `/${CLIENT}/target/admin`;
const GENERATE = 'Generate New Profile Authentication Token';
/** A profile route behind the gate: 401 when the gate refuses, 404 (no such profile) when it lets through. */
const PROFILE = `/rest/v1/profiles/thirdPartyId/nobody?client=${CLIENT}`;

describe('admin page in a browser', function () {
  // Generous: the machine may be shared; nothing here asserts on time.
  this.timeout(60_000);
  let browser: Browser;
  let t: TestApp;
  /** Every URL any page asked for, and every CSP complaint or uncaught error, across all tests. */
  const requested: string[] = [];
  const foreign: string[] = [];
  const violations: string[] = [];
  const contexts: BrowserContext[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      const reason = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set PROFILEGATE_CHROMIUM)`;
      if (process.env['CI']) throw new Error(`The browser tests cannot run under CI: ${reason}`);
      console.log(`    skipped: ${reason}`);
      this.skip();
    }
    t = await startApp({ adminPage: true, requireAuth: true, cacheMs: 0 });
    // launch() gives the browser a fresh temporary profile (user-data dir), removed on close.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  /** A page in a new context (closed after the test unless `keep`), with requests and CSP complaints recorded. */
  async function open(url = `${t.origin}${PAGE}`, options: BrowserContextOptions = {}, keep = false): Promise<Page> {
    const context = await browser.newContext(options);
    if (!keep) contexts.push(context);
    const page = await context.newPage();
    watch(page, new URL(url).origin);
    await page.goto(url);
    return page;
  }

  /** Records every request of `page` (and any that leaves `origin`), CSP complaints and uncaught errors. */
  function watch(page: Page, origin: string): void {
    page.on('request', (request) => {
      const url = request.url();
      requested.push(url);
      if (!url.startsWith('data:') && new URL(url).origin !== origin) foreign.push(url);
    });
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    page.on('pageerror', (error) => violations.push(`uncaught: ${error.message}`));
  }

  async function signIn(page: Page, key: string): Promise<void> {
    await page.getByLabel('Admin key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#activity-title').waitFor();
    await page.locator('#status:has-text("Signed in")').waitFor();
  }

  const profileStatus = async (token?: string) =>
    (await fetch(`${t.origin}${PROFILE}`, { headers: token ? { authorization: `Bearer ${token}` } : {} })).status;
  const settingsNow = async () =>
    (await t.http.get(SETTINGS_PATH(CLIENT)).set('Authorization', adminAuth('admin'))).body as {
      requireAuthentication: boolean;
      profileRetentionDays: number | null;
    };
  /** Evaluates an expression in the page (a string: this package compiles without the DOM types). */
  const run = <T = unknown>(page: Page, expression: string) => page.evaluate(expression) as Promise<T>;
  const activeId = (page: Page) => run<string | undefined>(page, 'document.activeElement?.id');
  const switchState = (page: Page) => page.locator('#require-auth').getAttribute('aria-checked');

  it('signs in with an admin key kept in sessionStorage only, and signs out', async () => {
    const page = await open();
    await page.getByLabel('Admin key').fill('not-a-valid-admin-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#sign-in-error:has-text("was not accepted")').waitFor();
    assert.equal(await activeId(page), 'admin-key');
    assert.equal(await page.locator('#settings').isHidden(), true);

    await signIn(page, ADMIN_KEYS.admin);
    const stored = await run(page, '({ session: { ...sessionStorage }, local: localStorage.length })');
    assert.deepEqual(stored, { session: { 'profilegate.adminKey': ADMIN_KEYS.admin }, local: 0 });
    await page.reload();
    await page.locator('#activity-title').waitFor();
    assert.equal(await page.locator('#sign-in').isHidden(), true, 'the key survives a reload of the tab');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin key').waitFor();
    assert.equal(await run(page, 'sessionStorage.length'), 0);
    assert.equal(await activeId(page), 'admin-key');
  });

  describe('signed in as an admin', () => {
    let page: Page;
    before(async () => {
      // One page for these tests (a reload between them keeps the key in sessionStorage): each new
      // browser page costs a renderer process.
      page = await open(undefined, { permissions: ['clipboard-read', 'clipboard-write'] }, true);
      await signIn(page, ADMIN_KEYS.admin);
    });
    after(async () => page?.context().close());

    it('turns Require Authentication off and on (the second time by keyboard only), and the profile routes follow', async () => {
      const toggle = page.getByRole('switch', { name: 'Require Authentication' });
      assert.equal(await switchState(page), 'true');
      assert.equal(await profileStatus(), 401);

      await toggle.click();
      await page.locator('#require-auth[aria-checked="false"]').waitFor();
      await page.locator('#status:has-text("Require Authentication is off")').waitFor();
      assert.equal((await settingsNow()).requireAuthentication, false);
      assert.equal(await profileStatus(), 404, 'open: the request passes the gate (the profile does not exist)');

      await run(page, 'document.activeElement?.blur()');
      let focused: string | undefined;
      for (let i = 0; i < 20 && focused !== 'require-auth'; i++) {
        await page.keyboard.press('Tab');
        focused = await activeId(page);
      }
      assert.equal(focused, 'require-auth', 'the switch is reachable with Tab');
      const outline = await run(page, 'getComputedStyle(document.activeElement).outlineStyle');
      assert.notEqual(outline, 'none', 'keyboard focus is visible');
      await page.keyboard.press('Space');
      await page.locator('#require-auth[aria-checked="true"]').waitFor();
      assert.equal((await settingsNow()).requireAuthentication, true);
      assert.equal(await profileStatus(), 401);
      await page.locator('#activity li:has-text("Turned Require Authentication on")').first().waitFor();
    });

    it('generates a token after a confirmation, shows it once with a copy button, and the old token gets 401', async () => {
      const old = await generateToken(t);
      assert.equal(await profileStatus(old), 404);
      await page.reload();
      await page.locator('#activity-title').waitFor();
      const generate = page.getByRole('button', { name: GENERATE });
      assert.match((await page.locator('#generate-warning').textContent()) ?? '', /scripts that use it will fail/);

      // Escape cancels, and focus goes back to the button.
      await generate.click();
      const dialog = page.getByRole('dialog', { name: 'Generate a new profile token?' });
      await dialog.waitFor();
      assert.equal(await activeId(page), 'confirm-cancel', 'focus moves into the dialog');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await activeId(page), 'generate');
      assert.equal(await profileStatus(old), 404, 'cancelling generated nothing');

      await generate.click();
      await page.getByRole('button', { name: 'Generate new token' }).click();
      const field = page.locator('#new-token-value');
      await field.waitFor();
      const token = await field.inputValue();
      assert.match(token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
      assert.equal(await activeId(page), 'new-token-value');
      await page.getByRole('button', { name: 'Copy' }).click();
      await page.locator('#status:has-text("copied")').waitFor();
      assert.equal(await run(page, 'navigator.clipboard.readText()'), token);

      const old401 = await fetch(`${t.origin}${PROFILE}`, { headers: { authorization: `Bearer ${old}` } });
      assert.equal(old401.status, 401);
      assert.match(old401.headers.get('www-authenticate') ?? '', /revoked/);
      assert.equal(await profileStatus(token), 404, 'the new token passes the gate');

      assert.equal(await page.locator('#expires-in').textContent(), 'Expires in: 89 days, 23 hours, 59 minutes');
      assert.equal(await page.locator('#created-by').textContent(), ACTOR_IDS.admin);
      assert.notEqual(await page.locator('#created-at').textContent(), '–');
      await page.locator('#activity li:has-text("Generated a new profile token")').first().waitFor();

      await page.getByRole('button', { name: 'I have copied it' }).click();
      await page.locator('#new-token').waitFor({ state: 'hidden' });
      assert.equal(await page.locator('#token-masked').textContent(), `${token.slice(0, 6)}…${token.slice(-4)}`);
      assert.ok(!(await page.content()).includes(token), 'the token is gone from the page');
      await page.reload();
      await page.locator('#activity-title').waitFor();
      assert.match((await page.locator('#token-masked').textContent()) ?? '', /^Hidden/);
      assert.ok(!(await page.content()).includes(token));
    });

    it('applies the chosen lifetime and grace period', async () => {
      const old = await generateToken(t);
      await page.reload();
      await page.locator('#activity-title').waitFor();
      await page.getByRole('button', { name: GENERATE }).click();
      await page.getByLabel('New token valid for').selectOption({ label: '7 days' });
      await page.getByLabel('Current token').selectOption({ label: 'Keeps working for 5 minutes' });
      await page.getByRole('button', { name: 'Generate new token' }).click();
      const field = page.locator('#new-token-value');
      await field.waitFor(); // visible once the answer is in (inputValue alone does not wait for it)
      const token = await field.inputValue();
      assert.equal(await page.locator('#expires-in').textContent(), 'Expires in: 6 days, 23 hours, 59 minutes');
      assert.equal(await profileStatus(old), 404, 'the old token still works during the grace period');
      assert.equal(await profileStatus(token), 404);
      // The replaced token is listed, masked, with when it stops (issue 14.2).
      const replaced = (await page.locator('#replaced-tokens').textContent()) ?? '';
      assert.ok(replaced.startsWith(`${old.slice(0, 6)}…${old.slice(-4)} until `), replaced);
      assert.ok(!(await page.content()).includes(old), 'the replaced token is shown in full');
      await page.locator('#activity li:has-text("the previous token kept working for 5 minutes")').first().waitFor();
      await page.getByRole('button', { name: 'I have copied it' }).click();
    });

    it('exports the profiles as CSV or NDJSON: the file downloads, and the export is in the activity', async () => {
      await t.store.updateProfile(
        CLIENT,
        { key: { kind: 'thirdPartyId', id: 'crm-export' }, attributes: { tier: 'gold, "plus"' } },
        { createMissing: true, now: Date.now() },
      );
      for (const format of ['csv', 'ndjson'] as const) {
        await page.getByLabel('Format').selectOption(format);
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('button', { name: 'Export', exact: true }).click(),
        ]);
        assert.equal(download.suggestedFilename(), `${CLIENT}-profiles.${format}`);
        const stream = await download.createReadStream();
        let text = '';
        for await (const chunk of stream) text += String(chunk);
        const served = await t.http
          .get(`/${CLIENT}/target/profiles/export?format=${format}`)
          .set('Authorization', adminAuth('admin'))
          .buffer(true)
          .parse((res, done) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
            res.on('end', () => done(null, body));
          });
        assert.equal(text, served.body);
        assert.match(text, /crm-export|gold, ""plus""/);
      }
      await page.locator('#status:has-text("Exported the profiles as NDJSON")').waitFor();
      await page.locator('#activity li:has-text("as CSV")').first().waitFor();
    });

    it('fits a 375 px wide phone screen', async () => {
      await page.setViewportSize({ width: 375, height: 740 });
      try {
        assert.ok((await run<number>(page, 'document.documentElement.scrollWidth')) <= 375, 'no sideways scrolling');
        for (const selector of ['#generate', '#require-auth', '#activity-title', '#sign-out']) {
          const box = await page.locator(selector).boundingBox();
          assert.ok(box && box.x >= 0 && box.x + box.width <= 375, `${selector} fits: ${JSON.stringify(box)}`);
        }
        assert.equal(
          await run(page, "getComputedStyle(document.querySelector('.facts')).gridTemplateColumns.split(' ').length"),
          1,
          'the token facts stack in one column',
        );
      } finally {
        await page.setViewportSize({ width: 1280, height: 720 });
      }
    });

    it('counts down to the expiry of the current token', async () => {
      const lifetime = 3 * 86_400 + 2 * 3600 + 5 * 60 + 40;
      await generateToken(t, CLIENT, { expiresIn: lifetime });
      await page.reload();
      await page.locator('#activity-title').waitFor();
      // 40 s of slack above the whole minute: the text cannot change while the test reads it.
      assert.equal(await page.locator('#expires-in').textContent(), 'Expires in: 3 days, 2 hours, 5 minutes');
      assert.equal(await page.locator('#created-by').textContent(), ACTOR_IDS.admin);
    });
  });

  it('shows an editor why the button and the switch are disabled, and sends nothing when they are pressed', async () => {
    const page = await open();
    await signIn(page, ADMIN_KEYS.editor);
    const generate = page.getByRole('button', { name: GENERATE });
    assert.equal(await generate.getAttribute('aria-disabled'), 'true');
    const reason = page.locator('#generate-reason');
    assert.equal(await reason.isVisible(), true);
    assert.match((await reason.textContent()) ?? '', /needs the approver, publisher or admin role/);
    assert.match((await generate.getAttribute('aria-describedby')) ?? '', /generate-reason/);
    assert.equal(await page.locator('#require-auth').getAttribute('aria-disabled'), 'true');
    assert.match((await page.locator('#require-auth-reason').textContent()) ?? '', /needs the admin role/);

    const writes: string[] = [];
    page.on('request', (request) => {
      if (request.method() !== 'GET' && request.method() !== 'HEAD') writes.push(request.method());
    });
    // Keyboard, as a user of a screen reader would: aria-disabled keeps both focusable.
    await generate.focus();
    await page.keyboard.press('Enter');
    await page.locator('#status:has-text("cannot generate the profile token")').waitFor();
    await page.locator('#require-auth').focus();
    await page.keyboard.press('Space');
    await page.locator('#status:has-text("cannot change the settings")').waitFor();
    assert.equal(await page.locator('#confirm').getAttribute('open'), null, 'no confirmation opens');
    assert.deepEqual(writes, []);
    assert.equal(await switchState(page), 'true');
  });

  it('shows the profile retention and lets an admin set it, clear it, and see it refused when wrong (issue 19)', async () => {
    const page = await open();
    await signIn(page, ADMIN_KEYS.admin);
    const input = page.getByLabel('Delete profiles not modified for (days)');
    const save = page.getByRole('button', { name: 'Save retention' });
    assert.equal(await input.inputValue(), '', 'empty: keep forever');
    await page.locator('#retention-current:has-text("kept forever")').waitFor();

    await input.fill('30');
    await save.click();
    await page.locator('#status:has-text("not modified for 30 days will be deleted")').waitFor();
    assert.equal((await settingsNow()).profileRetentionDays, 30);
    await page.locator('#retention-current:has-text("not modified for 30 days are deleted")').waitFor();
    await page.locator('#activity li:has-text("Set profile retention to 30 days")').first().waitFor();

    const writes: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'PUT') writes.push(request.url());
    });
    for (const wrong of ['0', '3651', '1.5']) {
      await input.fill(wrong);
      await input.press('Enter'); // submits the form, as the button does
      await page.locator('#retention-error:has-text("whole number of days from 1 to 3650")').waitFor();
      assert.equal(await input.getAttribute('aria-invalid'), 'true');
    }
    assert.deepEqual(writes, [], 'a wrong value is never sent');
    assert.equal((await settingsNow()).profileRetentionDays, 30);

    await input.fill('');
    await save.click();
    await page.locator('#status:has-text("Profiles are now kept forever")').waitFor();
    assert.equal(await page.locator('#retention-error').isVisible(), false);
    assert.equal((await settingsNow()).profileRetentionDays, null);
    assert.equal((await settingsNow()).requireAuthentication, true, 'the switch is untouched');
    await page.locator('#activity li:has-text("Set profile retention to keep forever")').first().waitFor();
  });

  it('shows an editor why the retention cannot be changed, and sends nothing on Save (issue 19)', async () => {
    await t.store.putSettings(CLIENT, { profileRetentionDays: 90 });
    try {
      const page = await open();
      await signIn(page, ADMIN_KEYS.editor);
      const input = page.getByLabel('Delete profiles not modified for (days)');
      assert.equal(await input.inputValue(), '90');
      const save = page.getByRole('button', { name: 'Save retention' });
      assert.equal(await save.getAttribute('aria-disabled'), 'true');
      assert.match((await page.locator('#retention-reason').textContent()) ?? '', /needs the admin role/);
      const writes: string[] = [];
      page.on('request', (request) => {
        if (request.method() !== 'GET' && request.method() !== 'HEAD') writes.push(request.method());
      });
      await input.fill('7');
      await save.focus();
      await page.keyboard.press('Enter');
      await page.locator('#status:has-text("cannot change the settings")').waitFor();
      assert.deepEqual(writes, []);
      assert.equal((await settingsNow()).profileRetentionDays, 90);
    } finally {
      await t.store.putSettings(CLIENT, { profileRetentionDays: null });
    }
  });

  it("shows an approver the server's reason when the switch is refused", async () => {
    const page = await open();
    await signIn(page, ADMIN_KEYS.approver);
    assert.equal(await page.getByRole('button', { name: GENERATE }).getAttribute('aria-disabled'), 'false');
    await page.getByRole('switch', { name: 'Require Authentication' }).click();
    await page.locator('#require-auth[aria-disabled="true"]').waitFor();
    assert.match(
      (await page.locator('#require-auth-reason').textContent()) ?? '',
      /Changing the settings \(Require Authentication, profile retention\) needs the admin role/,
    );
    assert.equal(await switchState(page), 'true');
    assert.equal((await settingsNow()).requireAuthentication, true);
  });

  it('shows an editor why Export is disabled, and an approver the server’s refusal; neither downloads', async () => {
    const editor = await open();
    await signIn(editor, ADMIN_KEYS.editor);
    const button = editor.getByRole('button', { name: 'Export', exact: true });
    assert.equal(await button.getAttribute('aria-disabled'), 'true');
    assert.match((await editor.locator('#export-reason').textContent()) ?? '', /cannot export the profiles/);
    const exports: string[] = [];
    editor.on('request', (request) => {
      if (request.url().includes('/profiles/export')) exports.push(request.url());
    });
    // Keyboard: aria-disabled keeps the button focusable.
    await button.focus();
    await editor.keyboard.press('Enter');
    await editor.locator('#status:has-text("cannot export the profiles")').waitFor();
    assert.deepEqual(exports, []);

    const approver = await open();
    await signIn(approver, ADMIN_KEYS.approver);
    await approver.getByRole('button', { name: 'Export', exact: true }).click();
    await approver.locator('#export[aria-disabled="true"]').waitFor();
    assert.match(
      (await approver.locator('#export-reason').textContent()) ?? '',
      /Exporting the profiles needs the admin role/,
    );
  });

  it("uses the host app's own session when authenticateAdmin reads it", async () => {
    const app = express();
    const router = profileApi({
      clients: [CLIENT],
      store: new MemoryStore(),
      signingKeys: new KeyRing([generateSigningKey(Date.now())]),
      adminPage: true,
      authenticateAdmin: (req) =>
        /(?:^|;\s*)session=alice-session-1234(?:;|$)/.test(req.headers.cookie ?? '')
          ? { id: 'alice', role: 'admin' }
          : null,
    });
    app.use(router);
    const server: Server = await listen(app);
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const page = await browser
        .newContext()
        .then(async (context) => {
          contexts.push(context);
          await context.addCookies([{ name: 'session', value: 'alice-session-1234', url: origin }]);
          return context.newPage();
        })
        .then(async (p) => {
          watch(p, origin);
          await p.goto(`${origin}${PAGE}`);
          return p;
        });
      await page.locator('#activity-title').waitFor();
      assert.equal(await page.locator('#sign-in').isHidden(), true);
      assert.equal(await page.locator('#who').textContent(), 'Signed in through this site');
      assert.equal(await page.locator('#sign-out').isHidden(), true, "the host's session is the host's to end");
      await page.getByRole('button', { name: GENERATE }).click();
      await page.getByRole('button', { name: 'Generate new token' }).click();
      await page.locator('#created-by:has-text("alice")').waitFor();
    } finally {
      await closeServer(server);
      await router.close();
    }
  });

  // Last (mocha runs a suite's own tests before its nested suites): it checks what all the others recorded.
  describe('over every test above', () => {
    it('sent no request to another origin and broke no rule of its Content-Security-Policy', () => {
      assert.ok(requested.length > 20, `requests were recorded (${requested.length})`);
      assert.deepEqual(foreign, []);
      assert.deepEqual(violations, []);
    });
  });
});
