/**
 * A request body that stops arriving gets 408 after the router's `bodyIdleTimeoutMs`, on every
 * route that reads a body, in the route's own error shape; nothing of it is stored and the
 * connection is closed after the answer.
 */
import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyRing, MemoryStore, generateSigningKey } from '@profilegate/core';
import sinon from 'sinon';
import { OptionsError, profileApi } from '../src';
import { DEFAULT_BODY_IDLE_TIMEOUT_MS, watchBodyIdle } from '../src/body-idle';
import { loadDemoConfig } from '../src/demo/config';
import { startDemoServer } from '../src/demo/server';
import {
  CLIENT,
  SETTINGS_PATH,
  TOKEN_PATH,
  adminAuth,
  authenticateAdmin,
  fetchProfile,
  seedProfiles,
  startApp,
  valuesOf,
  type TestApp,
} from './helpers';
import { observeStore, startUpload, type ObservedStore, type UploadAnswer } from './streaming';

/** Small, so a test waits little; nothing asserts how long the wait was. */
const IDLE_MS = 150;
const FORM = 'application/x-www-form-urlencoded';
const V2 = `/m2/${CLIENT}/v2/profile/batchUpdate`;
const STALLED = /nothing of it arrived for 150 ms/;

function xmlRefusal(text: string): string {
  const match = /^<response><success>false<\/success><message>([^<]*)<\/message><\/response>$/.exec(text);
  assert.ok(match, `not a refusal body: ${text}`);
  return match[1]!;
}

/** 408, Connection: close, and the server closes the connection after the answer. */
async function assertTimedOut(answer: UploadAnswer): Promise<void> {
  assert.equal(answer.status, 408, answer.text);
  assert.equal(answer.headers['connection'], 'close');
  await answer.closed;
}

describe('body idle timeout (bodyIdleTimeoutMs)', function () {
  // Generous: each test waits for one idle timeout of IDLE_MS on a machine that may be busy.
  this.timeout(20_000);
  let t: TestApp;
  let observed: ObservedStore;
  let spoolDir: string;
  beforeEach(async () => {
    spoolDir = mkdtempSync(join(tmpdir(), 'profilegate-idle-spool-'));
    observed = observeStore(new MemoryStore());
    t = await startApp({ store: observed.store, spoolDir, bodyIdleTimeoutMs: IDLE_MS });
    await seedProfiles(t.store);
  });
  afterEach(async () => {
    await t.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  async function spoolIsEmpty(): Promise<void> {
    // The spool is removed as the refused batch unwinds; wait for that, however long it takes.
    while (readdirSync(spoolDir).length > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  for (const [label, headers, read] of [
    [
      'JSON',
      { Accept: 'application/json' },
      (text: string) => JSON.parse(text) as { success: boolean; message: string },
    ],
    ['XML', {}, (text: string) => ({ success: false, message: xmlRefusal(text) })],
  ] as const) {
    it(`a batch body that stalls gets 408 (${label}), nothing is stored and the spool is removed`, async () => {
      const upload = startUpload(t.origin, {
        path: V2,
        headers: { 'Content-Type': FORM, ...headers },
        first: 'batch=thirdPartyId,tier\nidle-u1,gold\nidle-u2,si',
      });
      const answer = await upload.answer;
      await assertTimedOut(answer);
      const body = read(answer.text);
      assert.equal(body.success, false);
      assert.match(body.message, STALLED);
      assert.equal(observed.count('createBatch'), 0, 'no batch is recorded');
      assert.equal((await fetchProfile(t, { thirdPartyId: 'idle-u1' })).status, 404);
      await spoolIsEmpty();
      assert.deepEqual(t.errors, []);
    });
  }

  it('a multipart batch that stalls before its file part gets 408', async () => {
    const upload = startUpload(t.origin, {
      path: V2,
      headers: { 'Content-Type': 'multipart/form-data; boundary=XyZ', Accept: 'application/json' },
      first: '--XyZ\r\nContent-Disposition: form-da',
    });
    const answer = await upload.answer;
    await assertTimedOut(answer);
    assert.match(JSON.parse(answer.text).message, STALLED);
    assert.equal(observed.count('createBatch'), 0);
    await spoolIsEmpty();
  });

  it('a single-update form body that stalls gets 408, and the profile is unchanged', async () => {
    const upload = startUpload(t.origin, {
      path: `/m2/${CLIENT}/profile/update`,
      headers: { 'Content-Type': FORM, 'Content-Length': '200' },
      first: 'mbox3rdPartyId=u1&profile.tier=gold',
    });
    const answer = await upload.answer;
    await assertTimedOut(answer);
    assert.match(xmlRefusal(answer.text), STALLED);
    assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'u1' })).body), { tier: 'silver' });
    assert.deepEqual(t.errors, []);
  });

  for (const [label, method, path] of [
    ['PUT settings', 'PUT', SETTINGS_PATH(CLIENT)],
    ['POST token', 'POST', TOKEN_PATH(CLIENT)],
  ] as const) {
    it(`an admin JSON body that stalls (${label}) gets 408 in the admin error shape, and nothing changes`, async () => {
      const upload = startUpload(t.origin, {
        method,
        path,
        headers: { 'Content-Type': 'application/json', Authorization: adminAuth('admin'), 'Content-Length': '100' },
        first: '{"',
      });
      const answer = await upload.answer;
      await assertTimedOut(answer);
      const body = JSON.parse(answer.text);
      assert.deepEqual(Object.keys(body), ['httpStatus', 'requestId', 'requestTime', 'errors']);
      assert.equal(body.httpStatus, 408);
      assert.equal(body.errors[0].errorCode, 'RequestTimeout');
      assert.match(body.errors[0].message, STALLED);
      assert.equal((await t.store.getSettings(CLIENT)).requireAuthentication, false);
      assert.equal((await t.store.getTokenState(CLIENT)).current, null);
      assert.deepEqual(t.errors, []);
    });
  }

  it('a body that keeps arriving is not cut, and the route answers as usual', async () => {
    // The default (30 s) router of the other suites covers ordinary bodies; here only the small
    // timeout is in place, and the body is complete at once.
    const res = await t.http
      .post(V2)
      .set('Content-Type', FORM)
      .set('Accept', 'application/json')
      .send('batch=thirdPartyId,tier\nidle-ok,gold\n');
    assert.equal(res.status, 200, res.text);
  });
});

describe('bodyIdleTimeoutMs option', () => {
  const base = () => ({
    clients: ['acme'],
    store: new MemoryStore(),
    signingKeys: new KeyRing([generateSigningKey(Date.now())]),
    authenticateAdmin,
  });

  it('defaults to 30 seconds and accepts a positive whole number of milliseconds', () => {
    assert.equal(DEFAULT_BODY_IDLE_TIMEOUT_MS, 30_000);
    assert.equal(typeof profileApi(base()), 'function');
    assert.equal(typeof profileApi({ ...base(), bodyIdleTimeoutMs: 1 }), 'function');
    assert.equal(typeof profileApi({ ...base(), bodyIdleTimeoutMs: 600_000 }), 'function');
  });

  for (const bad of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 31, '30000', null]) {
    it(`refuses ${String(bad)} when the router is created`, () => {
      assert.throws(
        () => profileApi({ ...base(), bodyIdleTimeoutMs: bad as number }),
        (error: unknown) =>
          error instanceof OptionsError &&
          /bodyIdleTimeoutMs must be a whole number of milliseconds/.test(error.message),
      );
    });
  }
});

describe('demo server body idle timeout', function () {
  this.timeout(20_000);
  it('is set from PROFILEGATE_BODY_IDLE_TIMEOUT_MS: a stalled admin body gets 408', async () => {
    const data = mkdtempSync(join(tmpdir(), 'profilegate-idle-demo-'));
    const key = 'idle-admin-key-0123456789';
    const config = loadDemoConfig(
      {
        PORT: '0',
        PROFILEGATE_DATA: data,
        PROFILEGATE_ADMIN_KEYS: `${key}:admin`,
        PROFILEGATE_BODY_IDLE_TIMEOUT_MS: String(IDLE_MS),
      },
      tmpdir(),
    );
    const server = await startDemoServer(config, { log: () => undefined });
    try {
      const upload = startUpload(server.url, {
        method: 'PUT',
        path: '/demo/target/authentication/settings',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}`, 'Content-Length': '100' },
        first: '{"requireAuthentication"',
      });
      const answer = await upload.answer;
      await assertTimedOut(answer);
      assert.match(JSON.parse(answer.text).errors[0].message, STALLED);
    } finally {
      await server.close();
      rmSync(data, { recursive: true, force: true });
    }
  });
});

/** A request as the watchdog sees it: bytes read off its connection, bytes waiting to be read, done or not. */
function fakeRequest() {
  const req = Object.assign(new EventEmitter(), {
    complete: false,
    readableLength: 0,
    socket: { bytesRead: 100 },
  });
  return req;
}

describe('watchBodyIdle', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
  });
  afterEach(() => clock.restore());

  it('calls onIdle once after idleMs with no byte read, and not before', () => {
    const req = fakeRequest();
    const onIdle = sinon.spy();
    watchBodyIdle(req, 1000, onIdle);
    clock.tick(999);
    assert.equal(onIdle.callCount, 0);
    clock.tick(1000);
    assert.equal(onIdle.callCount, 1);
    clock.tick(10_000);
    assert.equal(onIdle.callCount, 1);
  });

  it('never calls it while bytes keep arriving, however long the body takes', () => {
    const req = fakeRequest();
    const onIdle = sinon.spy();
    watchBodyIdle(req, 1000, onIdle);
    for (let i = 0; i < 100; i++) {
      clock.tick(700);
      req.socket.bytesRead += 1;
    }
    assert.equal(onIdle.callCount, 0);
    clock.tick(2000);
    assert.equal(onIdle.callCount, 1);
  });

  it('does not count time when the reader is behind (bytes wait unread: back-pressure)', () => {
    const req = fakeRequest();
    const onIdle = sinon.spy();
    watchBodyIdle(req, 1000, onIdle);
    req.readableLength = 16_384;
    clock.tick(60_000);
    assert.equal(onIdle.callCount, 0);
    req.readableLength = 0;
    clock.tick(2000);
    assert.equal(onIdle.callCount, 1);
  });

  it('stops once the body is complete, and when stopped', () => {
    const complete = fakeRequest();
    const onComplete = sinon.spy();
    watchBodyIdle(complete, 1000, onComplete);
    complete.complete = true;
    clock.tick(10_000);
    assert.equal(onComplete.callCount, 0);

    const stopped = fakeRequest();
    const onStopped = sinon.spy();
    const stop = watchBodyIdle(stopped, 1000, onStopped);
    stop();
    clock.tick(10_000);
    assert.equal(onStopped.callCount, 0);
    assert.equal(clock.countTimers(), 0, 'no timer is left behind');
  });
});
