/**
 * Attack tests for issue 14 (admin writes beside a batch, grace, upload re-check, stalled bodies,
 * actor ids, signing keys, the SQLite upgrade). Each test asserts contract behaviour only: where a
 * test needs a batch to be "still running", it checks the batch status instead of timing anything.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs, readdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import express from 'express';
import jwt from 'jsonwebtoken';
import { Client } from 'pg';
import { KeyRing, MemoryStore, PostgresStore, SqliteStore, generateSigningKey, type Store } from '@profilegate/core';
import { profileApi } from '@profilegate/middleware';
import {
  ADMIN_KEY,
  Admin,
  auditPath,
  json,
  send,
  settingsPath,
  sleep,
  startDemo,
  tail,
  tokenPath,
  waitForBatch,
  type Answer,
  type DemoChild,
} from './reliability/support/demo';
import { PG_URL, postgresProblem } from './support/postgres';

const C = 'demo';
const BATCH = `/m2/${C}/v2/profile/batchUpdate`;
const V1_BATCH = `/m2/${C}/profile/batchUpdate`;

const tmp = () => fs.mkdtemp(join(tmpdir(), 'pg-attack14-'));
const bearer = (token: string | null) => (token ? { Authorization: `Bearer ${token}` } : {});

function postCsv(url: string, csv: string, token: string | null, path = BATCH, timeoutMs = 60_000): Promise<Answer> {
  return send(`${url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/csv', Accept: 'application/json', ...bearer(token) },
    body: csv,
    timeoutMs,
  });
}

function update(url: string, id: string, attrs: Record<string, string>, token: string | null): Promise<Answer> {
  const params = Object.entries(attrs)
    .map(([k, v]) => `profile.${k}=${encodeURIComponent(v)}`)
    .join('&');
  return send(`${url}/m2/${C}/profile/update?mbox3rdPartyId=${encodeURIComponent(id)}&${params}`, {
    headers: { Accept: 'application/json', ...bearer(token) },
    timeoutMs: 60_000,
  });
}

function fetchProfile(url: string, id: string, token: string | null): Promise<Answer> {
  return send(`${url}/rest/v1/profiles/thirdPartyId/${encodeURIComponent(id)}?client=${C}`, { headers: bearer(token) });
}

async function attributes(url: string, id: string, token: string | null): Promise<Record<string, string> | null> {
  const answer = await fetchProfile(url, id, token);
  if (answer.status === 404) return null;
  assert.equal(answer.status, 200, answer.text);
  const body = json<{ profileAttributes: Record<string, { value: string }> }>(answer);
  return Object.fromEntries(Object.entries(body.profileAttributes).map(([k, v]) => [k, v.value]));
}

async function batchStatus(url: string, batchId: string, token: string | null): Promise<string> {
  const answer = await send(`${url}/m2/${C}/v2/profile/batchStatus?batchId=${encodeURIComponent(batchId)}`, {
    headers: { Accept: 'application/json', ...bearer(token) },
  });
  assert.equal(answer.status, 200, answer.text);
  return json<{ status: string }>(answer).status;
}

const statusUrl = (url: string, batchId: string) =>
  `${url}/m2/${C}/v2/profile/batchStatus?batchId=${encodeURIComponent(batchId)}`;

function csvRows(prefix: string, n: number, value: (i: number) => string): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`${prefix}${i},${value(i)}`);
  return lines.join('\n');
}

/** A raw HTTP/1.1 connection: bytes in, everything received out. */
class Raw {
  readonly socket: net.Socket;
  private received = '';
  private ended = false;
  readonly closed: Promise<void>;

  constructor(url: string) {
    const target = new URL(url);
    this.socket = net.connect(Number(target.port), target.hostname);
    this.socket.on('data', (d: Buffer) => (this.received += d.toString('latin1')));
    this.socket.on('error', () => undefined);
    this.closed = new Promise((done) =>
      this.socket.on('close', () => {
        this.ended = true;
        done();
      }),
    );
  }

  write(text: string): Promise<void> {
    return new Promise((done) => this.socket.write(text, () => done()));
  }

  text(): string {
    return this.received;
  }

  isClosed(): boolean {
    return this.ended;
  }

  /** Waits (bounded) until the received text matches. */
  async waitFor(pattern: RegExp, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!pattern.test(this.received)) {
      if (Date.now() > deadline || this.ended) return pattern.test(this.received);
      await sleep(10);
    }
    return true;
  }

  /** Waits (bounded) for the server to close the connection. */
  async waitClosed(ms: number): Promise<boolean> {
    await Promise.race([this.closed, sleep(ms)]);
    return this.ended;
  }

  destroy(): void {
    this.socket.destroy();
  }

  statuses(): number[] {
    return [...this.received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
  }
}

function head(method: string, path: string, headers: Record<string, string | number>): string {
  return `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}

async function dropSchema(schema: string): Promise<void> {
  const client = new Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

async function needPostgres(ctx: Mocha.Context): Promise<void> {
  const problem = await postgresProblem();
  if (problem === null) return;
  if (process.env['CI']) throw new Error(`PostgreSQL unreachable at ${PG_URL}: ${problem}`);
  ctx.skip();
}

// ---------------------------------------------------------------------------------------------

describe('attack 14: a large batch on the SQLite demo server', function () {
  this.timeout(120_000);
  let demo: DemoChild;
  let admin: Admin;
  let token: string;

  before(async function () {
    demo = await startDemo({ dataDir: await tmp() });
    admin = new Admin(demo.url);
    token = await admin.generate(C);
    const seed = await postCsv(
      demo.url,
      `thirdPartyId,a,b\nk1,X,seed\nk2,seed,seed\nk3,seed,seed\nother,seed,seed`,
      token,
    );
    assert.equal(seed.status, 200, seed.text);
    await waitForBatch(statusUrl(demo.url, json<{ batchId: string }>(seed).batchId), bearer(token));
  });

  after(async () => {
    await demo?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && demo) console.log(tail(demo.output()));
  });

  it('a batch row equal to the stored value still lands on top of a single update made while the batch is staged', async () => {
    // The batch sets k1.a=X (what k1 holds already) and 100,000 other rows. A single update sets
    // k1.a=Y while the batch is still incomplete. Applying the batch after the update (which is
    // what the store does whenever a staged profile is touched) gives a=X; a stage that skipped
    // the unchanged row and merges anyway keeps a=Y: the outcome then depends on whether the row
    // happened to equal the pre-update value.
    const csv = `thirdPartyId,a\nk1,X\n${csvRows('n', 100_000, (i) => `N${i}`)}`;
    const accepted = await postCsv(demo.url, csv, token);
    assert.equal(accepted.status, 200, accepted.text);
    const batchId = json<{ batchId: string }>(accepted).batchId;
    const single = await update(demo.url, 'k1', { a: 'Y' }, token);
    assert.equal(single.status, 200, single.text);
    // The merge commits the batch's rows and its `complete` status together: still incomplete
    // after the update answered means the update committed before the batch.
    const during = await batchStatus(demo.url, batchId, token);
    if (during !== 'incomplete') assert.fail('setup: the batch finished before the single update (machine too fast?)');
    const done = await waitForBatch(statusUrl(demo.url, batchId), bearer(token), 90_000);
    assert.equal(done['status'], 'complete');
    assert.deepEqual(await attributes(demo.url, 'n99999', token), { a: 'N99999' });
    assert.equal(
      (await attributes(demo.url, 'k1', token))?.['a'],
      'X',
      'the batch (accepted before the single update) must be merged on top of it, as on the direct-apply path',
    );
  });

  it('admin writes and their audit commit while the batch runs; a revoked token gets 401 at once; single updates are merged under the batch', async () => {
    const csv = `thirdPartyId,a\nk2,fromBatch\n${csvRows('m', 200_000, (i) => `M${i}`)}`;
    const accepted = await postCsv(demo.url, csv, token);
    assert.equal(accepted.status, 200, accepted.text);
    const batchId = json<{ batchId: string }>(accepted).batchId;
    // A single update to a profile the batch also changes (the slow path).
    const single = await update(demo.url, 'k2', { b: 'single', a: 'single' }, token);
    assert.equal(single.status, 200, single.text);

    const put = await admin.call('PUT', settingsPath(C), { requireAuthentication: true });
    assert.equal(put.status, 200, put.text);
    const t2 = await admin.generate(C, { previousTokenGraceSeconds: 0 });
    assert.equal((await fetchProfile(demo.url, 'k3', token)).status, 401, 'the replaced token must be refused at once');
    const del = await admin.call('DELETE', tokenPath(C));
    assert.equal(del.status, 204, del.text);
    assert.equal((await fetchProfile(demo.url, 'k3', t2)).status, 401, 'the revoked token must be refused at once');
    const t3 = await admin.generate(C);
    const audit = json<{ events: Array<{ action: string }> }>(await admin.call('GET', `${auditPath(C)}?limit=10`));
    const actions = audit.events.map((e) => e.action).filter((a) => a !== 'auth.denied');
    assert.deepEqual(actions.slice(0, 4), ['token.generated', 'token.revoked', 'token.generated', 'settings.changed']);
    assert.equal(
      await batchStatus(demo.url, batchId, t3),
      'incomplete',
      'every admin write above was answered and audited while the batch was still being applied',
    );
    token = t3;
    const done = await waitForBatch(statusUrl(demo.url, batchId), bearer(token), 90_000);
    assert.equal(done['status'], 'complete');
    assert.equal(done['successfulUpdates'], 200_001);
    assert.deepEqual(await attributes(demo.url, 'k2', token), { a: 'fromBatch', b: 'single' });
    assert.deepEqual(await attributes(demo.url, 'm199999', token), { a: 'M199999' });
  });

  it('a batch upload recorded after a revocation is refused, even when recording it waited behind the running batch', async () => {
    // Batch A, with a single update to one of its profiles so that its merge is the direct apply
    // under the profile write lock. Batch B's body is complete and re-checked, then waits for
    // that lock to be recorded. The admin revokes the token meanwhile (204 at once): B must not be
    // answered 200 and applied after that 204 (request-bodies.md: only a batch accepted *before*
    // the revocation is applied).
    const csv = `thirdPartyId,a\nk3,fromA\n${csvRows('w', 200_000, (i) => `W${i}`)}`;
    const accepted = await postCsv(demo.url, csv, token);
    assert.equal(accepted.status, 200, accepted.text);
    const batchA = json<{ batchId: string }>(accepted).batchId;
    assert.equal((await update(demo.url, 'k3', { b: 'single' }, token)).status, 200);

    // Probe the profile write lock with single updates to a profile outside the batch: one that
    // is not answered within 500 ms means the batch's merge holds the lock.
    let held = false;
    for (let i = 0; i < 1500 && !held; i++) {
      const probe = update(demo.url, 'other', { probe: String(i) }, token);
      const answered = await Promise.race([probe.then(() => true), sleep(500).then(() => false)]);
      if (!answered) held = true;
      else await sleep(20);
      if ((await batchStatus(demo.url, batchA, token)) !== 'incomplete') break;
    }
    if (!held) assert.fail('setup: never saw the batch hold the profile write lock');

    let answeredB: Answer | null = null;
    const uploadB = postCsv(demo.url, 'thirdPartyId,a\nlate1,fromB\n', token).then((a) => (answeredB = a));
    await sleep(400);
    if (answeredB !== null) assert.fail('setup: batch B was recorded before the revocation');
    const del = await admin.call('DELETE', tokenPath(C));
    assert.equal(del.status, 204);
    const b = await uploadB;
    const fresh = await admin.generate(C);
    token = fresh;
    await waitForBatch(statusUrl(demo.url, batchA), bearer(fresh), 90_000);
    if (b.status === 200) await waitForBatch(statusUrl(demo.url, json<{ batchId: string }>(b).batchId), bearer(fresh));
    const late = await attributes(demo.url, 'late1', fresh);
    assert.equal(b.status, 401, `batch B answered ${b.status} after the token was revoked: ${b.text.slice(0, 200)}`);
    assert.equal(late, null, 'a batch of a revoked token was stored');
  });
});

// ---------------------------------------------------------------------------------------------

describe('attack 14: kill -9 and SIGTERM during a batch (SQLite)', function () {
  this.timeout(120_000);

  async function seeded(dataDir: string) {
    const demo = await startDemo({ dataDir });
    const admin = new Admin(demo.url);
    const token = await admin.generate(C);
    const seed = await postCsv(demo.url, 'thirdPartyId,a\nq0,seed\nq50000,seed\n', token);
    await waitForBatch(statusUrl(demo.url, json<{ batchId: string }>(seed).batchId), bearer(token));
    const big = await postCsv(demo.url, `thirdPartyId,a\n${csvRows('q', 150_000, (i) => `B${i}`)}`, token);
    assert.equal(big.status, 200, big.text);
    return { demo, token, batchId: json<{ batchId: string }>(big).batchId };
  }

  async function sample(url: string, token: string) {
    const out: Array<string | null> = [];
    for (const id of ['q0', 'q1', 'q50000', 'q149999']) out.push((await attributes(url, id, token))?.['a'] ?? null);
    return out;
  }

  it('kill -9 while staging leaves the batch stuck with none of its rows', async () => {
    const dataDir = await tmp();
    const { demo, token, batchId } = await seeded(dataDir);
    assert.equal(await batchStatus(demo.url, batchId, token), 'incomplete');
    await demo.kill();
    const again = await startDemo({ dataDir });
    try {
      const done = await waitForBatch(statusUrl(again.url, batchId), bearer(token));
      const values = await sample(again.url, token);
      if (done['status'] === 'stuck') assert.deepEqual(values, ['seed', null, 'seed', null]);
      else assert.deepEqual(values, ['B0', 'B1', 'B50000', 'B149999']);
    } finally {
      await again.stop();
    }
  });

  it('SIGTERM during a batch finishes it (complete after restart), exit 0', async () => {
    const dataDir = await tmp();
    const { demo, token, batchId } = await seeded(dataDir);
    assert.equal(await demo.stop(), 0);
    const again = await startDemo({ dataDir });
    try {
      const done = await waitForBatch(statusUrl(again.url, batchId), bearer(token));
      assert.equal(done['status'], 'complete');
      assert.deepEqual(await sample(again.url, token), ['B0', 'B1', 'B50000', 'B149999']);
    } finally {
      await again.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('attack 14: grace and replaced tokens', function () {
  this.timeout(60_000);

  it('T1 → grace 3600 (T2) → grace 3600 (T3) → grace 0 (T4): only the replaced token survives, listed masked', async () => {
    const demo = await startDemo({ dataDir: await tmp() });
    try {
      const admin = new Admin(demo.url);
      const t1 = await admin.generate(C);
      const t2 = await admin.generate(C, { previousTokenGraceSeconds: 3600 });
      const t3 = await admin.generate(C, { previousTokenGraceSeconds: 3600 });
      const st = async (t: string) => (await fetchProfile(demo.url, 'nobody', t)).status;
      assert.deepEqual([await st(t1), await st(t2), await st(t3)], [401, 404, 404]);
      for (const path of [settingsPath(C), tokenPath(C)]) {
        const answer = await admin.call('GET', path);
        const replaced = json<{ replacedTokens: Array<{ token: string; worksUntil: string }> }>(answer).replacedTokens;
        assert.equal(replaced.length, 1, answer.text);
        for (const t of [t1, t2]) assert.ok(!answer.text.includes(t.split('.')[2]!), 'a replaced token shown in full');
      }
      const t4 = await admin.generate(C, { previousTokenGraceSeconds: 0 });
      assert.deepEqual([await st(t1), await st(t2), await st(t3), await st(t4)], [401, 401, 401, 404]);
      const settings = json<{ replacedTokens: unknown[] }>(await admin.call('GET', settingsPath(C)));
      assert.deepEqual(settings.replacedTokens, []);
    } finally {
      await demo.stop();
    }
  });

  it('two PostgreSQL instances: replaced tokens listed masked on both; grace 0 ends both older tokens on both', async function () {
    await needPostgres(this);
    const schema = `attack14_grace_${randomBytes(4).toString('hex')}`;
    const store = `${PG_URL}?schema=${schema}`;
    const dirA = await tmp();
    const a = await startDemo({ dataDir: dirA, env: { PROFILEGATE_STORE: store } });
    let b: DemoChild | undefined;
    try {
      const keys = await fs.readFile(join(dirA, 'signing-keys.json'), 'utf8');
      b = await startDemo({ dataDir: await tmp(), env: { PROFILEGATE_STORE: store, PROFILEGATE_SIGNING_KEYS: keys } });
      const adminA = new Admin(a.url);
      const adminB = new Admin(b.url);
      const t1 = await adminA.generate(C);
      const t2 = await adminB.generate(C, { previousTokenGraceSeconds: 3600 });
      for (const admin of [adminA, adminB]) {
        for (const path of [settingsPath(C), tokenPath(C)]) {
          const answer = await admin.call('GET', path);
          const replaced = json<{ replacedTokens: unknown[] }>(answer).replacedTokens;
          assert.equal(replaced.length, 1, answer.text);
          assert.ok(!answer.text.includes(t1.split('.')[2]!), 'a replaced token shown in full');
        }
      }
      await adminA.generate(C, { previousTokenGraceSeconds: 0 });
      // Across instances within one second (cacheMs); generous here: not a speed test.
      const deadline = Date.now() + 5000;
      let statuses: number[] = [];
      do {
        statuses = [];
        for (const d of [a, b]) for (const t of [t1, t2]) statuses.push((await fetchProfile(d.url, 'x', t)).status);
        if (statuses.every((s) => s === 401)) break;
        await sleep(100);
      } while (Date.now() < deadline);
      assert.deepEqual(statuses, [401, 401, 401, 401]);
      assert.deepEqual(
        json<{ replacedTokens: unknown[] }>(await adminB.call('GET', settingsPath(C))).replacedTokens,
        [],
      );
    } finally {
      await b?.stop();
      await a.stop();
      await dropSchema(schema).catch(() => undefined);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('attack 14: upload re-check and stalled bodies', function () {
  this.timeout(60_000);
  const IDLE = 1000;
  let demo: DemoChild;
  let admin: Admin;
  let spool: string;

  before(async () => {
    spool = await tmp();
    demo = await startDemo({
      dataDir: await tmp(),
      env: { PROFILEGATE_BODY_IDLE_TIMEOUT_MS: String(IDLE), TMPDIR: spool },
    });
    admin = new Admin(demo.url);
  });
  after(async () => {
    await demo?.stop();
  });

  /** Sends the first half of a CSV batch, runs `meanwhile`, sends the rest; returns the raw answer. */
  async function splitUpload(
    token: string | null,
    ids: [string, string],
    meanwhile: () => Promise<unknown>,
    path = BATCH,
  ) {
    const first = `thirdPartyId,a\n${ids[0]},x\n`;
    const second = `${ids[1]},x\n`;
    const raw = new Raw(demo.url);
    await raw.write(
      head('POST', path, {
        'Content-Type': 'text/csv',
        Accept: 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        'Content-Length': first.length + second.length,
      }) + first,
    );
    await sleep(200);
    await meanwhile();
    await raw.write(second);
    await raw.waitFor(/\r\n\r\n[\s\S]*\}/, 10_000);
    raw.destroy();
    return raw;
  }

  const stored = async (ids: string[], token: string) => {
    const out: boolean[] = [];
    for (const id of ids) out.push((await fetchProfile(demo.url, id, token)).status === 200);
    return out;
  };

  it('revoke, regenerate (grace 0), grace ending, switch on: 401 and nothing stored; grace running, switch off: 200', async () => {
    await admin.requireAuth(C, true);
    let t = await admin.generate(C);
    const revoked = await splitUpload(t, ['r1', 'r2'], () => admin.call('DELETE', tokenPath(C)));
    assert.deepEqual(revoked.statuses(), [401]);
    assert.match(revoked.text(), /error="invalid_token", error_description="The token has been revoked"/);

    t = await admin.generate(C);
    const regen = await splitUpload(
      t,
      ['g1', 'g2'],
      () => admin.generate(C, { previousTokenGraceSeconds: 0 }),
      V1_BATCH,
    );
    assert.deepEqual(regen.statuses(), [401]);

    t = json<{ accessToken: string }>(await admin.call('GET', tokenPath(C))).accessToken;
    const graced = await splitUpload(t, ['h1', 'h2'], () => admin.generate(C, { previousTokenGraceSeconds: 600 }));
    assert.deepEqual(graced.statuses(), [200]);

    // A grace of 1 s that ends while the body is arriving.
    t = json<{ accessToken: string }>(await admin.call('GET', tokenPath(C))).accessToken;
    await admin.generate(C, { previousTokenGraceSeconds: 1 });
    const ended = new Raw(demo.url);
    const endedBody = ['thirdPartyId,a\ne1,x\n', 'e2', ',x\n'];
    await ended.write(
      head('POST', BATCH, {
        'Content-Type': 'text/csv',
        Accept: 'application/json',
        Authorization: `Bearer ${t}`,
        'Content-Length': endedBody.join('').length,
      }) + endedBody[0],
    );
    await sleep(IDLE * 0.7);
    await ended.write(endedBody[1]!);
    await sleep(IDLE * 0.7); // the 1 s grace has ended; no gap reached the idle timeout
    await ended.write(endedBody[2]!);
    await ended.waitFor(/\r\n\r\n[\s\S]*\}/, 10_000);
    ended.destroy();
    assert.deepEqual(ended.statuses(), [401]);

    await admin.requireAuth(C, false);
    const switchedOn = await splitUpload(null, ['s1', 's2'], () => admin.requireAuth(C, true));
    assert.deepEqual(switchedOn.statuses(), [401]);

    t = await admin.generate(C);
    const switchedOff = await splitUpload(t, ['o1', 'o2'], async () => {
      await admin.call('DELETE', tokenPath(C));
      await admin.requireAuth(C, false);
    });
    assert.deepEqual(switchedOff.statuses(), [200]);
    await admin.requireAuth(C, true);
    const now = await admin.generate(C);
    await sleep(1000); // the accepted batches are tiny
    assert.deepEqual(await stored(['r1', 'r2', 'g1', 'g2', 'h1', 'h2', 'e1', 'e2', 's1', 's2', 'o1', 'o2'], now), [
      false,
      false,
      false,
      false,
      true,
      true,
      false,
      false,
      false,
      false,
      true,
      true,
    ]);
    assert.deepEqual(readdirSync(spool), []);
  });

  it('stalled bodies get 408 + Connection: close in every odd order; bodies that keep coming are not cut', async () => {
    const t = await admin.generate(C);
    const auth = { Authorization: `Bearer ${t}`, Accept: 'application/json' };
    const cases: Array<[string, string]> = [
      [
        'mid-body',
        head('POST', BATCH, { ...auth, 'Content-Type': 'text/csv', 'Content-Length': 200 }) + 'thirdPartyId,a\nz1,x\n',
      ],
      ['no byte of body', head('POST', BATCH, { ...auth, 'Content-Type': 'text/csv', 'Content-Length': 200 })],
      [
        'chunked',
        head('POST', BATCH, { ...auth, 'Content-Type': 'text/csv', 'Transfer-Encoding': 'chunked' }) +
          '14\r\nthirdPartyId,a\nz2,x\n\r\n',
      ],
      [
        'json',
        head('POST', BATCH, { ...auth, 'Content-Type': 'application/json', 'Content-Length': 300 }) +
          '{"profiles":[{"thirdPartyId":"z3","attributes":{"a":"x"}}',
      ],
      [
        'multipart',
        head('POST', BATCH, { ...auth, 'Content-Type': 'multipart/form-data; boundary=XX', 'Content-Length': 400 }) +
          '--XX\r\nContent-Disposition: form-data; name="batch"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\nthirdPartyId,a\nz4,x\n',
      ],
      [
        'single update form',
        head('POST', `/m2/${C}/profile/update`, {
          ...auth,
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': 100,
        }) + 'mbox3rdPartyId=other&profile.z=1',
      ],
      [
        'admin PUT',
        head('PUT', settingsPath(C), {
          Authorization: `Bearer ${ADMIN_KEY}`,
          'Content-Type': 'application/json',
          'Content-Length': 40,
        }) + '{"requireAuthentication":',
      ],
    ];
    for (const [name, bytes] of cases) {
      const raw = new Raw(demo.url);
      await raw.write(bytes);
      assert.ok(await raw.waitClosed(IDLE * 10), `${name}: the connection was not closed`);
      assert.deepEqual(raw.statuses(), [408], `${name}: ${raw.text().slice(0, 200)}`);
      assert.match(raw.text(), /connection: close/i, name);
    }
    // Expect: 100-continue, then a stall after the 100.
    const cont = new Raw(demo.url);
    await cont.write(
      head('POST', BATCH, { ...auth, 'Content-Type': 'text/csv', 'Content-Length': 50, Expect: '100-continue' }),
    );
    assert.ok(await cont.waitFor(/100 Continue/, 5000));
    assert.ok(await cont.waitClosed(IDLE * 10));
    assert.deepEqual(cont.statuses(), [100, 408]);
    // Pipelined: a whole request, then a stalled one on the same connection.
    const body = 'thirdPartyId,a\nz5,pipe\n';
    const pipe = new Raw(demo.url);
    await pipe.write(
      head('POST', BATCH, { ...auth, 'Content-Type': 'text/csv', 'Content-Length': body.length }) +
        body +
        head('POST', BATCH, { ...auth, 'Content-Type': 'text/csv', 'Content-Length': 100 }) +
        'thirdPartyId,a\nz6,x\n',
    );
    assert.ok(await pipe.waitClosed(IDLE * 10));
    assert.deepEqual(pipe.statuses(), [200, 408]);
    // One byte at a time, each gap well under the timeout.
    const slowBody = 'thirdPartyId,a\nz7,slow\n';
    const slow = new Raw(demo.url);
    await slow.write(head('POST', BATCH, { ...auth, 'Content-Type': 'text/csv', 'Content-Length': slowBody.length }));
    for (const ch of slowBody.slice(0, 4)) {
      await sleep(IDLE * 0.6);
      await slow.write(ch);
    }
    await slow.write(slowBody.slice(4));
    assert.ok(await slow.waitFor(/\}/, 10_000));
    slow.destroy();
    assert.deepEqual(slow.statuses(), [200]);

    await sleep(1000);
    assert.deepEqual(await stored(['z1', 'z2', 'z3', 'z4', 'z5', 'z6', 'z7'], t), [
      false,
      false,
      false,
      false,
      true,
      false,
      true,
    ]);
    const settings = json<{ requireAuthentication: boolean }>(await admin.call('GET', settingsPath(C)));
    assert.equal(settings.requireAuthentication, true);
    assert.deepEqual(readdirSync(spool), []);
  });
});

// ---------------------------------------------------------------------------------------------

describe('attack 14: any actor id is accepted, audited, never shown as a token', function () {
  this.timeout(60_000);
  const IDS: Array<[string, string]> = [
    ['JWT-shaped', 'aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb.cccccccccccccccc'],
    ['a real-looking JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2ln'],
    ['256 characters', 'é'.repeat(256)],
    ['unicode and bidi', 'ünï¢ødé-😀-\u202e-中文'],
    ['control characters and NUL', 'ctl\u0001\u0007\u001b[31m\u0000x'],
    ['a lone surrogate', '\ud800lone'],
  ];

  async function exercise(store: Store, id: string): Promise<void> {
    const errors: unknown[] = [];
    const app = express();
    app.use(
      profileApi({
        clients: [C],
        store,
        signingKeys: new KeyRing([generateSigningKey(Date.now())]),
        authenticateAdmin: () => ({ id, role: 'admin' }),
        onError: (error) => errors.push(error),
      }),
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise((done) => server.once('listening', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const admin = new Admin(url, 'whatever');
    try {
      const g1 = await admin.call('POST', tokenPath(C));
      assert.equal(g1.status, 201, g1.text);
      const t1 = json<{ accessToken: string }>(g1).accessToken;
      const g2 = await admin.call('POST', tokenPath(C), { previousTokenGraceSeconds: 60 });
      assert.equal(g2.status, 201, g2.text);
      const t2 = json<{ accessToken: string }>(g2).accessToken;
      const put = await admin.call('PUT', settingsPath(C), { requireAuthentication: false });
      assert.equal(put.status, 200, put.text);
      const del = await admin.call('DELETE', tokenPath(C));
      assert.equal(del.status, 204, del.text);
      const audit = await admin.call('GET', `${auditPath(C)}?limit=20`);
      assert.equal(audit.status, 200, audit.text);
      assert.deepEqual(
        json<{ events: Array<{ action: string }> }>(audit).events.map((e) => e.action),
        ['token.revoked', 'settings.changed', 'token.generated', 'token.generated'],
      );
      for (const t of [t1, t2]) assert.ok(!audit.text.includes(t.split('.')[2]!), 'the audit shows a token');
      assert.deepEqual(errors.map(String), []);
    } finally {
      server.close();
    }
  }

  for (const kind of ['sqlite', 'memory', 'postgres'] as const) {
    for (const [name, id] of IDS) {
      it(`${kind}: ${name}`, async function () {
        let store: Store;
        let dispose = async () => undefined as unknown;
        if (kind === 'sqlite') {
          store = new SqliteStore(join(await tmp(), 'profiles.db'));
        } else if (kind === 'memory') {
          store = new MemoryStore();
        } else {
          await needPostgres(this);
          const schema = `attack14_actor_${randomBytes(4).toString('hex')}`;
          store = await PostgresStore.open(PG_URL, { schema });
          dispose = () => dropSchema(schema);
        }
        try {
          await exercise(store, id);
        } finally {
          await store.close();
          await dispose().catch(() => undefined);
        }
      });
    }
  }

  it('demo server: a JWT-shaped admin actor id (PROFILEGATE_ADMIN_KEYS) changes state with its success statuses', async () => {
    const demo = await startDemo({
      dataDir: await tmp(),
      adminKeys: `${ADMIN_KEY}:admin:aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb.cccccccccccccccc`,
    });
    try {
      const admin = new Admin(demo.url);
      const t = await admin.generate(C);
      assert.equal((await admin.call('POST', tokenPath(C), { previousTokenGraceSeconds: 60 })).status, 201);
      assert.equal((await admin.call('PUT', settingsPath(C), { requireAuthentication: false })).status, 200);
      assert.equal((await admin.call('DELETE', tokenPath(C))).status, 204);
      const audit = await admin.call('GET', auditPath(C));
      assert.equal(json<{ events: unknown[] }>(audit).events.length, 4);
      assert.ok(!audit.text.includes('bbbbbbbbbbbbbbbb') && !audit.text.includes(t.split('.')[2]!));
    } finally {
      await demo.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('attack 14: signing keys', function () {
  this.timeout(60_000);

  it('a second PostgreSQL instance with a key file of its own refuses to start, naming its key file', async function () {
    await needPostgres(this);
    const schema = `attack14_keys_${randomBytes(4).toString('hex')}`;
    const store = `${PG_URL}?schema=${schema}`;
    const dirB = await tmp();
    const own = await startDemo({ dataDir: dirB }); // creates dirB/signing-keys.json on SQLite
    await own.stop();
    const a = await startDemo({ dataDir: await tmp(), env: { PROFILEGATE_STORE: store } });
    try {
      await assert.rejects(startDemo({ dataDir: dirB, env: { PROFILEGATE_STORE: store } }), (error: Error) => {
        assert.match(error.message, /exited \(1\)/);
        assert.ok(error.message.includes(join(dirB, 'signing-keys.json')), error.message);
        return true;
      });
    } finally {
      await a.stop();
      await dropSchema(schema).catch(() => undefined);
    }
  });

  it('PROFILEGATE_SIGNING_KEYS: bad JSON or a short secret stop with status 2, never echoing the value', async () => {
    const secret = randomBytes(32).toString('base64url');
    const short = randomBytes(12).toString('base64url');
    for (const value of [
      `{"keys":[{"kid":"abcdefgh1234","secret":"${secret}"`,
      JSON.stringify({ keys: [{ kid: 'abcdefgh1234', secret: short, createdAt: 1 }] }),
    ]) {
      await assert.rejects(
        startDemo({ dataDir: await tmp(), env: { PROFILEGATE_SIGNING_KEYS: value } }),
        (error: Error) => {
          assert.match(error.message, /exited \(2\)/);
          assert.match(error.message, /PROFILEGATE_SIGNING_KEYS/);
          assert.ok(!error.message.includes(secret) && !error.message.includes(short), 'the secret is echoed');
          return true;
        },
      );
    }
  });

  it('a key added to the running instance’s file signs new tokens; a corrupt or deleted file keeps it serving', async () => {
    const dataDir = await tmp();
    const demo = await startDemo({ dataDir });
    try {
      const admin = new Admin(demo.url);
      const file = join(dataDir, 'signing-keys.json');
      await admin.generate(C);
      const original = JSON.parse(await fs.readFile(file, 'utf8')) as { keys: object[] };
      const kid = `attack${randomBytes(4).toString('hex')}`;
      const key = { kid, secret: randomBytes(32).toString('base64url'), createdAt: 1_800_000_000_000 };
      await fs.writeFile(`${file}.new`, JSON.stringify({ keys: [...original.keys, key] }));
      await fs.rename(`${file}.new`, file);
      const kidOf = (t: string) =>
        (JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
      let fresh = '';
      for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(200)) {
        fresh = await admin.generate(C, { previousTokenGraceSeconds: 600 });
        if (kidOf(fresh) === kid) break;
      }
      assert.equal(kidOf(fresh), kid);
      assert.equal((await fetchProfile(demo.url, 'x', fresh)).status, 404);
      await fs.writeFile(file, '{ corrupt');
      await sleep(2500);
      assert.ok(demo.alive());
      assert.equal((await fetchProfile(demo.url, 'x', fresh)).status, 404);
      await fs.unlink(file);
      await sleep(2500);
      assert.ok(demo.alive());
      const after = await admin.generate(C);
      assert.equal((await fetchProfile(demo.url, 'x', after)).status, 404);
      assert.ok(!demo.output().includes(key.secret));
    } finally {
      await demo.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('attack 14: SQLite data folder written by the previous release (d52b126)', function () {
  this.timeout(60_000);

  // The schema of d52b126's packages/core/src/store/sqlite-schema.ts (user_version 1), and the rows
  // its demo server wrote (token_state JSON shapes captured from that release).
  const OLD_SCHEMA = `CREATE TABLE profiles (client TEXT NOT NULL, pc_id TEXT NOT NULL, third_party_id TEXT,
       attributes TEXT NOT NULL, modified_at INTEGER NOT NULL, PRIMARY KEY (client, pc_id)) WITHOUT ROWID;
     CREATE UNIQUE INDEX profiles_third_party ON profiles (client, third_party_id) WHERE third_party_id IS NOT NULL;
     CREATE TABLE batches (batch_id TEXT PRIMARY KEY, client TEXT NOT NULL, version TEXT NOT NULL, status TEXT NOT NULL,
       batch_size INTEGER NOT NULL, consumed_count INTEGER NOT NULL, successful_updates INTEGER NOT NULL,
       profiles_not_found INTEGER NOT NULL, failed_updates INTEGER NOT NULL, failures TEXT NOT NULL, message TEXT,
       created_at INTEGER NOT NULL, completed_at INTEGER);
     CREATE INDEX batches_client_created ON batches (client, created_at);
     CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
     CREATE TABLE settings (client TEXT PRIMARY KEY, require_authentication INTEGER NOT NULL);
     CREATE TABLE token_state (client TEXT PRIMARY KEY, current TEXT, graced TEXT NOT NULL);
     CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, client TEXT NOT NULL, at INTEGER NOT NULL,
       actor TEXT NOT NULL, action TEXT NOT NULL, details TEXT NOT NULL);
     CREATE INDEX audit_client ON audit (client, id);`;

  it('keeps the current token and the graced one working, the audit and the settings', async () => {
    const dataDir = await tmp();
    const kid = 'oldReleaseK1';
    const secret = randomBytes(32).toString('base64url');
    await fs.writeFile(
      join(dataDir, 'signing-keys.json'),
      JSON.stringify({ keys: [{ kid, secret, createdAt: 1_764_670_618_079 }] }),
      {
        mode: 0o600,
      },
    );
    const now = Date.now();
    const sign = (jti: string, exp: number) =>
      jwt.sign({ jti }, Buffer.from(secret, 'base64url'), {
        algorithm: 'HS256',
        keyid: kid,
        issuer: 'profilegate',
        audience: 'profile_api',
        subject: C,
        expiresIn: exp,
      });
    const current = sign('currentJtiOfOldRelease1', 86_400);
    const graced = sign('gracedJtiOfOldRelease12', 86_400);
    const stale = sign('staleJtiOfOldRelease123', 86_400);
    const exp = JSON.parse(Buffer.from(current.split('.')[1]!, 'base64url').toString()) as { exp: number };
    const db = new Database(join(dataDir, 'profiles.db'));
    db.exec(OLD_SCHEMA);
    db.pragma('user_version = 1');
    db.prepare('INSERT INTO settings VALUES (?, 1)').run(C);
    db.prepare('INSERT INTO token_state VALUES (?, ?, ?)').run(
      C,
      JSON.stringify({
        jti: 'currentJtiOfOldRelease1',
        kid,
        createdAt: now - 1000,
        expiresAt: exp.exp * 1000,
        createdBy: 'ops',
      }),
      JSON.stringify([{ jti: 'gracedJtiOfOldRelease12', graceUntil: now + 3_600_000 }]),
    );
    db.prepare('INSERT INTO audit (client, at, actor, action, details) VALUES (?, ?, ?, ?, ?)').run(
      C,
      now - 1000,
      'ops',
      'token.generated',
      JSON.stringify({ expiresAt: new Date(exp.exp * 1000).toISOString(), jtiPrefix: 'currentJ', graceSeconds: 3600 }),
    );
    db.prepare("INSERT INTO counters VALUES ('batch', 7)").run();
    db.close();

    const demo = await startDemo({ dataDir });
    try {
      const admin = new Admin(demo.url);
      assert.equal((await fetchProfile(demo.url, 'x', current)).status, 404, 'the current token stopped working');
      assert.equal((await fetchProfile(demo.url, 'x', graced)).status, 404, 'the graced token stopped working');
      assert.equal((await fetchProfile(demo.url, 'x', stale)).status, 401);
      assert.equal((await fetchProfile(demo.url, 'x', null)).status, 401, 'Require Authentication was lost');
      const settings = json<{ requireAuthentication: boolean; replacedTokens: unknown[] }>(
        await admin.call('GET', settingsPath(C)),
      );
      assert.equal(settings.requireAuthentication, true);
      assert.equal(settings.replacedTokens.length, 1);
      const audit = json<{ events: Array<{ action: string }> }>(await admin.call('GET', auditPath(C)));
      assert.ok(
        audit.events.some((e) => e.action === 'token.generated'),
        'the audit of the old release was lost',
      );
      const batch = await postCsv(demo.url, 'thirdPartyId,a\nup1,new\n', current);
      assert.equal(batch.status, 200, batch.text);
      assert.match(json<{ batchId: string }>(batch).batchId, /-8$/);
    } finally {
      await demo.stop();
    }
    // And once more, on the upgraded folder.
    const again = await startDemo({ dataDir });
    try {
      assert.equal((await fetchProfile(again.url, 'up1', current)).status, 200);
    } finally {
      await again.stop();
    }
  });
});
