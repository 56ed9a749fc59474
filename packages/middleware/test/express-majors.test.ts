/**
 * The middleware in host apps on Express 4 and on Express 5. Each runs in a child process
 * (express-host.ts) whose `require('express')` gets that major, as in a real host app, whatever
 * major this test process runs.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CLIENT, CONTROL_MARKER, type HostReady } from './express-host';

const FIXTURE = join(__dirname, 'express-host.js');
const HOOK = join(__dirname, '..', '..', '..', '..', 'scripts', 'express-major.cjs');
const FORM = 'application/x-www-form-urlencoded';
const BATCH = 'batch=thirdPartyId,tier\nmajor-u1,gold\n';

interface Host extends HostReady {
  /** Ends the child and returns all it wrote to stderr. */
  stop(): Promise<string>;
  stderr(): string;
}

function startHost(major: '4' | '5'): Promise<Host> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', HOOK, FIXTURE], {
      // Nothing inherited through NODE_OPTIONS: neither this process's hook nor a --no-deprecation.
      env: { ...process.env, PROFILEGATE_EXPRESS: major, NODE_OPTIONS: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.once('exit', (code) => reject(new Error(`the host app exited (${code}) before listening: ${stderr}`)));
    child.once('error', reject);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const end = stdout.indexOf('\n');
      if (end === -1) return;
      const ready = JSON.parse(stdout.slice(0, end)) as HostReady;
      resolve({
        ...ready,
        stderr: () => stderr,
        stop: async () => {
          child.stdin.end();
          await exited;
          return stderr;
        },
      });
    });
  });
}

async function postBatch(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': FORM, Accept: 'application/json', ...headers },
    body: BATCH,
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text) as { batchId: string; batchStatus: string };
}

for (const major of ['4', '5'] as const) {
  describe(`a host app on Express ${major} (a child process)`, () => {
    let host: Host;
    before(async () => {
      host = await startHost(major);
    });
    after(async () => {
      await host?.stop();
    });
    const statusPath = `/api/m2/${CLIENT}/v2/profile/batchStatus?batchId=`;

    it(`runs Express ${major} in the host app and in the middleware`, () => {
      assert.match(host.hostExpress, new RegExp(`^${major}\\.`));
      assert.equal(host.middlewareExpress, host.hostExpress);
    });

    it('answers a batch with a batchStatus URL that has the port, and that very URL answers', async () => {
      for (const origin of [host.trusted, host.untrusted]) {
        assert.notEqual(new URL(origin).port, '');
        const { batchId, batchStatus } = await postBatch(`${origin}/api/m2/${CLIENT}/v2/profile/batchUpdate`);
        assert.equal(batchStatus, `${origin}${statusPath}${encodeURIComponent(batchId)}`);
        const status = await fetch(batchStatus, { headers: { Accept: 'application/json' } });
        assert.equal(status.status, 200, host.stderr());
        assert.equal(((await status.json()) as { batchId: string }).batchId, batchId);
        // The XML answer too.
        const xml = await (
          await fetch(`${origin}/api/m2/${CLIENT}/profile/batchUpdate`, {
            method: 'POST',
            headers: { 'Content-Type': FORM },
            body: BATCH,
          })
        ).text();
        assert.match(xml, new RegExp(`<batchStatus>${origin}/api/m2/${CLIENT}/profile/batchStatus\\?batchId=`));
      }
    });

    const forwarded = {
      'X-Forwarded-Host': 'api.example.test:8443, proxy.example.test:8080',
      'X-Forwarded-Proto': 'https, http',
    };

    it("builds the URL from X-Forwarded-Host/-Proto (first values) when the app trusts the proxy ('loopback')", async () => {
      const { batchId, batchStatus } = await postBatch(
        `${host.trusted}/api/m2/${CLIENT}/v2/profile/batchUpdate`,
        forwarded,
      );
      assert.equal(batchStatus, `https://api.example.test:8443${statusPath}${encodeURIComponent(batchId)}`);
      // The proxy forwards that path and query to the app: it answers.
      const url = new URL(batchStatus);
      const status = await fetch(`${host.trusted}${url.pathname}${url.search}`, { headers: forwarded });
      assert.equal(status.status, 200);
    });

    it('ignores X-Forwarded-Host/-Proto when the app does not trust proxies', async () => {
      const { batchId, batchStatus } = await postBatch(
        `${host.untrusted}/api/m2/${CLIENT}/v2/profile/batchUpdate`,
        forwarded,
      );
      assert.equal(batchStatus, `${host.untrusted}${statusPath}${encodeURIComponent(batchId)}`);
    });

    it('answers a store or authenticator that rejects with a 500 in the route’s shape, not a hang or a crash', async () => {
      const profileRoutes = [
        `/store-down/m2/${CLIENT}/v2/profile/batchStatus?batchId=${CLIENT}-1-1`,
        `/store-down/m2/${CLIENT}/profile/update?mbox3rdPartyId=u1&profile.tier=gold`,
        `/gate-down/m2/${CLIENT}/v2/profile/batchStatus?batchId=${CLIENT}-1-1`,
      ];
      for (const path of profileRoutes) {
        const res = await fetch(`${host.trusted}${path}`);
        const text = await res.text();
        assert.equal(res.status, 500, `${path}: ${text}`);
        assert.match(text, /^<response><success>false<\/success><message>Something went wrong/, path);
      }
      const batch = await fetch(`${host.trusted}/store-down/m2/${CLIENT}/v2/profile/batchUpdate`, {
        method: 'POST',
        headers: { 'Content-Type': FORM },
        body: BATCH,
      });
      assert.equal(batch.status, 500, await batch.text());
      for (const path of [
        `/store-down/rest/v1/profiles/thirdPartyId/u1?client=${CLIENT}`,
        `/gate-down/rest/v1/profiles/pc-1?client=${CLIENT}`,
      ]) {
        const res = await fetch(`${host.trusted}${path}`);
        assert.equal(res.status, 500, path);
        assert.equal(((await res.json()) as { success: boolean }).success, false);
      }
      const admin = await fetch(`${host.trusted}/store-down/${CLIENT}/target/authentication/settings`);
      assert.equal(admin.status, 500);
      const adminBody = (await admin.json()) as { httpStatus: number; errors: Array<{ errorCode: string }> };
      assert.equal(adminBody.httpStatus, 500);
      assert.equal(adminBody.errors[0]?.errorCode, 'InternalError');
      const hostRoute = await fetch(`${host.trusted}/host/gate-down`);
      assert.equal(hostRoute.status, 500);
      // Still up and answering.
      const ok = await fetch(`${host.trusted}/api/m2/${CLIENT}/v2/profile/batchStatus?batchId=${CLIENT}-1-1`);
      assert.equal(ok.status, 404);
    });

    it("gates the host's own route with requireProfileToken and tracks visits with profileTracker", async () => {
      const data = await fetch(`${host.trusted}/host/data`);
      assert.equal(data.status, 200);
      assert.deepEqual(await data.json(), { data: 'open' });
      const visit = await fetch(`${host.trusted}/site?profile.tier=gold`);
      assert.equal(visit.status, 200);
      const pcId = /^mboxPC=([^;]+)/.exec(visit.headers.get('set-cookie') ?? '')?.[1];
      assert.ok(pcId, 'the tracker sets its cookie');
      const profile = await fetch(`${host.trusted}/api/rest/v1/profiles/${pcId}?client=${CLIENT}`);
      assert.equal(profile.status, 200);
      const attributes = ((await profile.json()) as { profileAttributes: Record<string, { value: string }> })
        .profileAttributes;
      assert.equal(attributes['tier']?.value, 'gold');
      assert.equal(attributes['visitCount']?.value, '1');
    });

    // Last: it stops the host. The control shows the check would see a deprecation on Express 4
    // (Express 5's req.host is not deprecated: there the control only marks the end).
    it('printed no deprecation warning (the control, req.host read by a host route, does on Express 4)', async () => {
      assert.equal((await fetch(`${host.trusted}/control/req-host`)).status, 200);
      const stderr = await host.stop();
      const at = stderr.indexOf(CONTROL_MARKER);
      assert.notEqual(at, -1, stderr);
      assert.doesNotMatch(stderr.slice(0, at), /deprecat/i);
      if (major === '4') assert.match(stderr.slice(at), /express deprecated req\.host/);
    });
  });
}
