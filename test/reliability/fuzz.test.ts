/**
 * Reliability, fuzzing (issue 8): fast-check against the real demo server (a child process, SQLite
 * store). Unlike the middleware's no-500 suite (any input, status < 500), these properties hold
 * the answers to a model: batch bodies in every form are applied exactly as the model says;
 * corrupted batches are a documented 4xx that stores nothing, or a batch that completes; single
 * updates get the status the rules give and change exactly what they name; an Authorization header
 * passes only when it carries the current token; admin bodies change state only when valid.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import fc from 'fast-check';
import {
  FORMS,
  applyToModel,
  encodeBatch,
  fetchPath,
  valuesOf,
  type BatchSpec,
  type Model,
} from './support/batch-forms';
import { fingerprint, openReadOnly } from './support/db';
import { Admin, json, send, sleep, startDemo, waitForBatch, type Answer, type DemoChild } from './support/demo';
import { settingsBody, tokenBody } from './support/admin-bodies';
import { admitted, authHeader, mutate, updateRequest, type UpdateCase } from './support/fuzz-inputs';
import { SEED, SIZES } from './support/mode';
import { tally } from './support/summary';

const section = tally('fuzz', __filename);
const BATCH = 'fuzz-batch';
const RAW = 'fuzz-raw';
const UPDATE = 'fuzz-update';
const AUTH = 'fuzz-auth';
const OTHER = 'fuzz-other';
const ADMIN = 'fuzz-admin';

/** Runs a property with the run's seed, counting its runs into the section. */
async function property<T>(arb: fc.Arbitrary<T>, numRuns: number, check: (value: T) => Promise<void>): Promise<void> {
  const details = await fc.check(fc.asyncProperty(arb, check), { numRuns, seed: SEED });
  section.add(details.numRuns, details.failed ? 1 : 0);
  if (details.failed) {
    // fast-check's own report prints whole bodies; a short one is easier to read.
    const error =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    const example = fc.stringify(details.counterexample);
    throw new Error(
      `Property failed after ${details.numRuns} runs (seed ${details.seed}, path "${details.counterexamplePath}"):\n` +
        `${error.slice(0, 1500)}\nCounterexample: ${example.length > 800 ? `${example.slice(0, 800)}…` : example}`,
    );
  }
}

const ID_POOL = {
  thirdPartyId: ['f0', 'f1', 'f 2', 'é3', 'f,4', 'f"5', 'f%6', 'f&7'],
  pcId: ['pc-0', 'pc 1', 'pc+2', 'pc/3'],
};
const NAMES = ['tier', 'city', 'a.b', 'x-y', 'N_1', 'profile.zip', 'Tier'];
// Values the text rule accepts (no NUL: a NUL fails its row, which the hostile-shapes section and
// the unstorable-text tests cover; this model expects every row applied).
const value = fc
  .oneof(
    fc.constant(''),
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.string({ unit: 'binary-ascii', maxLength: 12 }),
    fc.constantFrom(' ', '+', '%', '&', ',', '"', '""', 'a,b', '\r\n', '=', '%20', '🙂', ' lead', 'trail '),
  )
  .map((text) => text.split('\u0000').join(''));
const spec: fc.Arbitrary<BatchSpec> = fc
  .tuple(
    fc.constantFrom<BatchSpec['kind']>('thirdPartyId', 'pcId'),
    fc.uniqueArray(fc.constantFrom(...NAMES), {
      minLength: 1,
      maxLength: 4,
      selector: (n) => n.replace(/^profile\./, ''),
    }),
  )
  .chain(([kind, names]) =>
    fc
      .array(
        fc.record({
          id: fc.constantFrom(...ID_POOL[kind]),
          cells: fc.array(value, { maxLength: names.length }),
        }),
        { minLength: 1, maxLength: 6 },
      )
      .map((rows) => ({ kind, names, rows })),
  );
const spelling = fc.record({
  crlf: fc.boolean(),
  plus: fc.boolean(),
  quoteAll: fc.boolean(),
  field: fc.constantFrom<'batch' | 'file'>('batch', 'file'),
});

describe('reliability: fuzzing (fast-check against the demo server)', function () {
  this.timeout(600_000);
  const root = mkdtempSync(join(tmpdir(), 'profilegate-fuzz-'));
  const dataDir = join(root, 'data');
  // The server's own temp folder, so spool files left behind can be counted.
  const serverTmp = join(root, 'tmp');
  let server: DemoChild;
  let admin: Admin;
  let db: Database.Database;
  let runs = 0;

  before(async () => {
    mkdirSync(serverTmp);
    server = await startDemo({
      dataDir,
      clients: [BATCH, RAW, UPDATE, AUTH, OTHER, ADMIN],
      env: { TMPDIR: serverTmp },
    });
    admin = new Admin(server.url);
    for (const client of [BATCH, RAW, UPDATE]) await admin.requireAuth(client, false);
    db = openReadOnly(join(dataDir, 'profiles.db'));
  });
  after(async () => {
    db?.close();
    const code = await server?.stop();
    rmSync(root, { recursive: true, force: true });
    assert.equal(code, 0, 'the demo server stops cleanly after the fuzzing');
  });
  afterEach(function () {
    // A crash is a failure of the test that caused it, not of the next one.
    assert.ok(server.alive(), `the demo server died:\n${server.output().slice(-800)}`);
    assert.doesNotMatch(server.output(), /Unexpected error|could not be applied/, 'no unexpected error was logged');
  });

  const post = (client: string, body: Buffer, type: string) =>
    send(`${server.url}/m2/${client}/v2/profile/batchUpdate`, {
      method: 'POST',
      headers: { 'Content-Type': type, Accept: 'application/json' },
      body,
    });

  it(`batch bodies in every form (${FORMS.join(', ')}) are applied exactly as the model says`, async () => {
    const shape = fc.tuple(spec, spec, fc.constantFrom(...FORMS), fc.constantFrom(...FORMS), spelling);
    await property(shape, SIZES.fuzzBatchRuns, async ([first, second, form1, form2, spelt]) => {
      // Fresh ids per run, so every run (and every shrink) starts from empty profiles.
      const prefix = `r${++runs}-`;
      const model: Model = new Map();
      for (const [batch, form] of [
        [first, form1],
        [second, form2],
      ] as const) {
        const prefixed = { ...batch, rows: batch.rows.map((row) => ({ ...row, id: prefix + row.id })) };
        const { body, type } = encodeBatch(prefixed, form, spelt);
        const answer = await post(BATCH, body, type);
        assert.equal(answer.status, 200, `${form}: ${answer.text}`);
        const status = await waitForBatch(json<{ batchStatus: string }>(answer).batchStatus);
        assert.deepEqual(
          [status['status'], status['batchSize'], status['successfulUpdates'], status['failedUpdates']],
          ['complete', batch.rows.length, batch.rows.length, 0],
          `${form}: ${JSON.stringify(status)}`,
        );
        applyToModel(model, prefixed);
        for (const [key, expected] of model) {
          const fetched = await send(server.url + fetchPath(key, BATCH));
          assert.equal(fetched.status, 200, `${key}: ${fetched.text}`);
          assert.deepEqual(valuesOf(json(fetched)), expected, `${form}: ${key}`);
        }
      }
    });
  });

  it('a corrupted batch is a documented 4xx that stores nothing, or a batch that completes', async () => {
    const corrupted = fc.tuple(spec, fc.constantFrom(...FORMS), spelling).chain(([s, form, spelt]) => {
      const { body, type } = encodeBatch(s, form, spelt);
      return fc.tuple(
        mutate(body),
        fc.oneof(
          { weight: 4, arbitrary: fc.constant(type) },
          fc.constantFrom(
            'application/x-www-form-urlencoded',
            'text/csv',
            'application/json',
            'multipart/form-data; boundary=x',
            'text/plain',
          ),
        ),
      );
    });
    await property(corrupted, SIZES.fuzzCorruptRuns, async ([body, type]) => {
      const before = fingerprint(db, RAW);
      const answer = await post(RAW, body, type);
      const reply = json<{ success: boolean; message?: string; batchStatus?: string }>(answer);
      if (answer.status === 200) {
        assert.equal(reply.success, true);
        const status = await waitForBatch(reply.batchStatus!);
        assert.equal(status['status'], 'complete', JSON.stringify(status));
        const counted =
          Number(status['successfulUpdates']) + Number(status['failedUpdates']) + Number(status['profilesNotFound']);
        assert.equal(counted, status['batchSize'], `every row is counted once: ${JSON.stringify(status)}`);
        assert.equal(status['consumedCount'], status['batchSize']);
      } else {
        assert.ok([400, 413, 415].includes(answer.status), `${answer.status}: ${answer.text}`);
        assert.equal(reply.success, false);
        assert.ok(typeof reply.message === 'string' && reply.message.length > 0, 'a refusal says what to fix');
        assert.equal(fingerprint(db, RAW), before, 'a refused batch stores nothing');
      }
    });
  });

  it('an upload cut off at any byte, in any form, leaves no temporary file and no open file behind', async () => {
    const cut = fc.tuple(spec, fc.constantFrom(...FORMS), spelling, fc.integer({ min: 0, max: 1000 }));
    await property(cut, SIZES.fuzzCorruptRuns, async ([s, form, spelt, permille]) => {
      const { body, type } = encodeBatch(s, form, spelt);
      await abortedUpload(`/m2/${RAW}/v2/profile/batchUpdate`, type, body, Math.floor((permille / 1000) * body.length));
    });
    let left = leftovers();
    for (const deadline = Date.now() + 10_000; left.length > 0 && Date.now() < deadline; left = leftovers()) {
      await sleep(100);
    }
    assert.deepEqual(left, [], 'nothing is left in the server temp folder or open');
  });

  it('single updates: the status the rules give; 200 changes exactly what was named, anything else nothing', async () => {
    const seed = await post(
      UPDATE,
      Buffer.from('batch=thirdPartyId,tier\nu0,a\nu1,b\nu2,c\n'),
      'application/x-www-form-urlencoded',
    );
    await waitForBatch(json<{ batchStatus: string }>(seed).batchStatus);
    const pcIds = new Map<string, string>();
    const model: Model = new Map();
    for (const id of ['u0', 'u1', 'u2']) {
      const body = json<{ visitorId: string; profileAttributes: Record<string, { value: string }> }>(
        await send(`${server.url}/rest/v1/profiles/thirdPartyId/${id}?client=${UPDATE}`),
      );
      pcIds.set(body.visitorId, id);
      model.set(id, valuesOf(body));
    }
    await property(updateRequest(pcIds), SIZES.fuzzRuns, async (request: UpdateCase) => {
      const before = fingerprint(db, UPDATE);
      const answer = await send(`${server.url}/m2/${UPDATE}/profile/update?${request.query}`, {
        method: request.method,
        headers: {
          Accept: 'application/json',
          ...(request.body !== undefined ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(request.body !== undefined ? { body: request.body } : {}),
      });
      const expected = request.expect();
      const status = answer.status === expected.orStatus ? expected.status : answer.status;
      assert.equal(status, expected.status, `answered ${answer.status}: ${answer.text.slice(0, 300)}`);
      if (answer.status !== 200) {
        assert.equal(fingerprint(db, UPDATE), before, 'a refused update changes nothing');
        return;
      }
      const id = expected.thirdPartyId!;
      Object.assign(model.get(id)!, expected.attributes);
      const fetched = await send(`${server.url}/rest/v1/profiles/thirdPartyId/${id}?client=${UPDATE}`);
      assert.deepEqual(valuesOf(json(fetched)), model.get(id));
    });
  });

  it('Authorization headers: only "Bearer <current token>" passes; others are 400/401 and echo nothing', async () => {
    const token = await admin.generate(AUTH);
    const other = await admin.generate(OTHER);
    const seed = await send(`${server.url}/m2/${AUTH}/v2/profile/batchUpdate`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/csv', Accept: 'application/json', Authorization: `Bearer ${token}` },
      body: 'thirdPartyId,hits\nu1,0\n',
    });
    const statusUrl = json<{ batchStatus: string }>(seed).batchStatus;
    await waitForBatch(statusUrl, { Authorization: `Bearer ${token}` });
    const routes = [
      `${server.url}/rest/v1/profiles/thirdPartyId/u1?client=${AUTH}`,
      `${server.url}/m2/${AUTH}/profile/update?mbox3rdPartyId=u1&profile.hits=1`,
      statusUrl,
    ];
    await property(
      fc.tuple(authHeader(token, other, admin.key), fc.nat(routes.length - 1)),
      SIZES.fuzzRuns,
      async ([header, route]) => {
        const before = fingerprint(db, AUTH);
        const answer = await send(routes[route]!, { headers: { Authorization: header, Accept: 'application/json' } });
        const expected = admitted(header, token);
        check(answer, expected, header);
        if (expected !== 200) assert.equal(fingerprint(db, AUTH), before, 'a refused request changes nothing');
      },
    );
  });

  for (const [label, path, arbitrary, okStatus] of [
    ['POST token', '/fuzz-admin/target/authentication/token?authorizationScope=profile_api', tokenBody, 201],
    ['PUT settings', '/fuzz-admin/target/authentication/settings', settingsBody, 200],
  ] as const) {
    it(`admin JSON bodies, ${label}: ${okStatus} exactly when valid, else 400/415 and nothing changes`, async () => {
      const method = label.startsWith('POST') ? 'POST' : 'PUT';
      // What GET shows (the token without its ticking expiresIn, or the settings).
      const readState = async () => {
        const answer = await admin.call('GET', path);
        if (answer.status === 404) return null;
        const { expiresIn: _ticking, ...rest } = json(answer);
        return rest;
      };
      await property(arbitrary(), SIZES.fuzzRuns, async (input) => {
        const before = await readState();
        const answer = await send(`${server.url}${path}`, {
          method,
          headers: { Authorization: `Bearer ${admin.key}`, ...(input.type ? { 'Content-Type': input.type } : {}) },
          body: input.text,
        });
        const expected = input.expect();
        assert.equal(answer.status, expected.status, `${label} ${JSON.stringify(input)}: ${answer.text}`);
        const after = await readState();
        if (answer.status !== okStatus) {
          const error = json<{ httpStatus: number; errors: Array<{ message: string }> }>(answer);
          assert.equal(error.httpStatus, answer.status, 'the admin error body of API.md 1');
          assert.ok(error.errors[0]?.message, 'a refusal says what to fix');
          assert.deepEqual(after, before, 'a refused admin call changes nothing');
        } else {
          expected.verify(json(answer), after);
        }
      });
    });
  }

  /** Sends the head and the first `sent` bytes of a body announced longer, then drops the connection. */
  function abortedUpload(path: string, type: string, body: Buffer, sent: number): Promise<void> {
    const { hostname, port } = new URL(server.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(
          `POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: ${type}\r\n` +
            `Content-Length: ${body.length + 1}\r\n\r\n`,
        );
        socket.write(body.subarray(0, sent));
        setTimeout(() => socket.destroy(), 15);
      });
      socket.on('error', reject);
      socket.on('close', () => resolve());
    });
  }

  /** Spool folders in the server's temp folder, and files there the server holds open. */
  function leftovers(): string[] {
    const folders = readdirSync(serverTmp);
    const open = readdirSync(`/proc/${server.pid}/fd`).flatMap((fd) => {
      try {
        const target = readlinkSync(`/proc/${server.pid}/fd/${fd}`);
        return target.startsWith(serverTmp) ? [`open: ${target}`] : [];
      } catch {
        return []; // closed while we looked
      }
    });
    return [...folders, ...open];
  }

  /** 200 when admitted; otherwise the 400/401 of API.md 2.0 with its challenge, and no token echoed. */
  function check(answer: Answer, expected: number, header: string): void {
    const where = `Authorization ${JSON.stringify(header.slice(0, 80))}`;
    assert.equal(answer.status, expected, `${where}: ${answer.text.slice(0, 200)}`);
    if (expected === 200) return;
    const challenge = String(answer.headers['www-authenticate'] ?? '');
    if (expected === 400)
      assert.match(
        challenge,
        /^Bearer realm="profile-api", error="invalid_request", error_description="[^"]+"$/,
        where,
      );
    else
      assert.match(
        challenge,
        /^Bearer realm="profile-api"(, error="invalid_token", error_description="[^"]+")?$/,
        where,
      );
    for (const part of header.split(/[\s.]+/)) {
      if (part.length >= 16) {
        assert.ok(!answer.text.includes(part) && !challenge.includes(part), `${where}: the answer echoes the header`);
      }
    }
  }
});
