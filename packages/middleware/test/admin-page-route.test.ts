/** The admin page's HTTP side: what is served, with which headers, and only when asked for. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KeyRing, MemoryStore, generateSigningKey } from '@profilegate/core';
import { ADMIN_PAGE_ASSET_DIR, ADMIN_PAGE_CSP, loadAdminPageAssets } from '../src/admin-page/route';
import { OptionsError, adminKeyAuthenticator, profileApi } from '../src';
import { CLIENT, TOKEN_PATH, adminAuth, generateToken, startApp, type TestApp } from './helpers';

const PAGE = `/${CLIENT}/target/admin`;

describe('admin page route', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp({ adminPage: true });
  });
  after(() => t.close());

  it('serves the page with a strict Content-Security-Policy and no inline code', async () => {
    const res = await t.http.get(PAGE);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/html; charset=utf-8/);
    assert.equal(res.headers['content-security-policy'], ADMIN_PAGE_CSP);
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ]) {
      assert.ok(ADMIN_PAGE_CSP.split('; ').includes(directive), directive);
    }
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    const html = res.text;
    assert.match(html, /<title>Profile API settings · acme · Profilegate<\/title>/);
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /\bsrc="admin\/[a-z]+\.mjs"/, tag);
    assert.doesNotMatch(html, /\sstyle=/, 'no style attribute (style-src has no unsafe-inline)');
    assert.doesNotMatch(html, /<style\b/);
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handler');
    assert.doesNotMatch(html, /(?:src|href)="(?:https?:)?\/\//, 'nothing from another origin');
  });

  it('tells where to put a new token with commands that exist (the CLI and the VS Code extension)', async () => {
    const html = (await t.http.get(PAGE)).text;
    const help = /<p id="new-token-help"[^>]*>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '';
    assert.ok(!help.includes('profilegate rotate'), 'names a CLI command that does not exist');
    assert.match(help, /<code>profilegate token replace --new - &lt;files&gt;<\/code>/);
    assert.match(help, /<code>profilegate token generate --update &lt;files&gt;<\/code>/);
    assert.match(help, /Profilegate: Update Stored Token…/);
    assert.match(help, /Profilegate: Generate New Profile Authentication Token/);
  });

  it("serves the page's files, with their types, and nothing else", async () => {
    for (const [name, type] of [
      ['app.mjs', /^text\/javascript/],
      ['format.mjs', /^text\/javascript/],
      ['admin.css', /^text\/css/],
    ] as const) {
      const res = await t.http.get(`${PAGE}/${name}`);
      assert.equal(res.status, 200, name);
      assert.match(res.headers['content-type'], type);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    }
    for (const name of ['nope.js', '..%2Fpackage.json', 'constructor', '__proto__']) {
      const res = await t.http.get(`${PAGE}/${name}`);
      assert.equal(res.status, 404, name);
      assert.equal(res.body.errors[0].errorCode, 'NotFound');
    }
  });

  it('answers 404 for an unknown client and 400 for a bad %-escape, as admin errors', async () => {
    const unknown = await t.http.get('/nobody/target/admin');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.errors[0].errorCode, 'ClientNotFound');
    const asset = await t.http.get('/nobody/target/admin/app.mjs');
    assert.equal(asset.status, 404);
    const bad = await t.http.get('/%E0%A4%A/target/admin');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.httpStatus, 400);
  });

  it('sends …/admin/ to …/admin, where its relative URLs resolve', async () => {
    const res = await t.http.get(`${PAGE}/`);
    assert.equal(res.status, 301);
    assert.equal(new URL(res.headers.location, `http://x${PAGE}/`).pathname, PAGE);
  });

  it('works under a mount path', async () => {
    const mounted = await startApp({ adminPage: true, mount: '/settings/area' });
    try {
      const page = await mounted.http.get(`/settings/area${PAGE}`);
      assert.equal(page.status, 200);
      const script = /src="([^"]+)"/.exec(page.text)?.[1] as string;
      const resolved = new URL(script, `http://x/settings/area${PAGE}`).pathname;
      assert.equal((await mounted.http.get(resolved)).status, 200, resolved);
    } finally {
      await mounted.close();
    }
  });

  it('can learn the token rights from HEAD of the token route, which never carries the token', async () => {
    const path = TOKEN_PATH(CLIENT);
    assert.equal((await t.http.head(path).set('Authorization', adminAuth('admin'))).status, 404, 'no token yet');
    await generateToken(t);
    const admin = await t.http.head(path).set('Authorization', adminAuth('admin'));
    assert.equal(admin.status, 200);
    assert.equal(admin.text, undefined);
    assert.equal(admin.headers['cache-control'], 'no-store');
    assert.equal((await t.http.head(path).set('Authorization', adminAuth('approver'))).status, 200);
    assert.equal((await t.http.head(path).set('Authorization', adminAuth('editor'))).status, 403);
    assert.equal((await t.http.head(path).set('Authorization', adminAuth('observer'))).status, 403);
    assert.equal((await t.http.head(path)).status, 401);
  });

  it('is not served unless adminPage is true', async () => {
    const plain = await startApp();
    try {
      const res = await plain.http.get(PAGE);
      assert.equal(res.status, 404);
      assert.notEqual(res.headers['content-security-policy'], ADMIN_PAGE_CSP);
      assert.doesNotMatch(res.text, /Profile API settings/);
      assert.equal((await plain.http.get(`${PAGE}/app.mjs`)).status, 404);
    } finally {
      await plain.close();
    }
  });

  it('refuses an adminPage that is not a boolean', () => {
    assert.throws(
      () =>
        profileApi({
          clients: ['acme'],
          store: new MemoryStore(),
          signingKeys: new KeyRing([generateSigningKey(Date.now())]),
          authenticateAdmin: adminKeyAuthenticator([{ key: 'k'.repeat(16), role: 'admin' }]),
          adminPage: 'yes' as unknown as boolean,
        }),
      (error: unknown) => error instanceof OptionsError && /adminPage must be true/.test(error.message),
    );
  });

  it('ships its files: package.json lists the assets folder, every import is a served file', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { files: string[] };
    assert.ok(pkg.files.includes('assets'), 'package.json "files" must include assets');
    const served = loadAdminPageAssets();
    const onDisk = readdirSync(ADMIN_PAGE_ASSET_DIR);
    assert.deepEqual([...served.keys()].sort(), onDisk.sort(), 'every file of the folder is served, and only those');
    for (const [name, asset] of served) {
      for (const match of asset.body.toString('utf8').matchAll(/\bfrom '\.\/([^']+)'/g)) {
        assert.ok(served.has(match[1] as string), `${name} imports ${match[1]}, which is not served`);
      }
    }
  });

  it('fails at start-up, saying what to do, when its files are missing', () => {
    assert.throws(() => loadAdminPageAssets('/nonexistent/profilegate-assets'), /missing from .*reinstall/);
  });
});
