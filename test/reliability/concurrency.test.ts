/**
 * Reliability, concurrency (issue 8), against the demo server child on SQLite and on PostgreSQL:
 * 50 parallel regenerations leave exactly one working token; 20 parallel batches (every body
 * form) and single updates on the same profiles lose no update; and Require Authentication
 * toggled while unauthenticated requests flow never lets one through while the setting is on.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { FORMS, encodeBatch, valuesOf } from './support/batch-forms';
import { Admin, json, send, sleep, startDemo, tokenPath, waitForBatch, type DemoChild } from './support/demo';
import { LONG, SEED, SIZES, random } from './support/mode';
import { tally } from './support/summary';

const section = tally('concurrency', __filename);
const PG_URL = process.env['PROFILEGATE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const CLIENT = 'demo';
const TOGGLED = 'toggled';
const BATCHES = 20;
const REGENERATIONS = 50;

async function postgresProblem(): Promise<string | null> {
  const probe = new Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await probe.connect();
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await probe.end().catch(() => undefined);
  }
}

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe(`reliability: concurrency on the demo server (${storeKind})`, function () {
    this.timeout(LONG ? 600_000 : 120_000);
    const dataDir = mkdtempSync(join(tmpdir(), 'profilegate-concurrency-'));
    const schema = `profilegate_rel_${process.pid}_${randomBytes(4).toString('hex')}`;
    const next = random(SEED ^ (storeKind === 'sqlite' ? 0xc0 : 0xc1));
    let server: DemoChild | undefined;
    let admin: Admin;

    before(async function () {
      if (storeKind === 'postgres') {
        const problem = await postgresProblem();
        if (problem !== null) {
          if (process.env['CI']) throw new Error(`PostgreSQL unreachable at ${PG_URL} (${problem}); CI must run this`);
          console.log(`    PostgreSQL unreachable at ${PG_URL} (${problem}): skipping the PostgreSQL run`);
          this.skip();
        }
      }
      server = await startDemo({
        dataDir,
        clients: [CLIENT, TOGGLED],
        env: storeKind === 'postgres' ? { PROFILEGATE_STORE: `${PG_URL}?schema=${schema}` } : {},
      });
      admin = new Admin(server.url);
    });
    after(async () => {
      const code = await server?.stop();
      if (server && storeKind === 'postgres') {
        const pg = new Client({ connectionString: PG_URL });
        await pg.connect();
        await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => pg.end());
      }
      rmSync(dataDir, { recursive: true, force: true });
      if (server) {
        assert.equal(code, 0, 'the server stops cleanly');
        assert.doesNotMatch(server.output(), /Unexpected error|could not be applied/);
      }
    });

    it(`${REGENERATIONS} parallel regenerations leave exactly one working token, the one GET shows`, async () => {
      const rounds = LONG ? 5 : 1;
      const cases = section.cases();
      for (let round = 1; round <= rounds; round++) {
        const answers = await Promise.all(
          Array.from({ length: REGENERATIONS }, () => admin.call('POST', tokenPath(CLIENT))),
        );
        await cases.run(`round ${round}: every POST 201`, () =>
          assert.deepEqual(
            answers.map((a) => a.status),
            answers.map(() => 201),
          ),
        );
        const tokens = answers.map((a) => json<{ accessToken: string }>(a).accessToken);
        const checks = await Promise.all(
          tokens.map((token) =>
            send(`${server!.url}/rest/v1/profiles/thirdPartyId/nobody?client=${CLIENT}`, {
              headers: { Authorization: `Bearer ${token}` },
            }),
          ),
        );
        // Past the gate, the unknown profile is a 404; refused tokens are 401 "revoked".
        const working = tokens.filter((_, i) => checks[i]!.status === 404);
        await cases.run(`round ${round}: exactly one of ${REGENERATIONS} works`, () => {
          assert.equal(working.length, 1, `${working.length} tokens work`);
          for (const check of checks) {
            if (check.status !== 404) {
              assert.equal(check.status, 401);
              assert.match(String(check.headers['www-authenticate']), /The token has been revoked/);
            }
          }
        });
        await cases.run(`round ${round}: GET shows the working one`, async () => {
          const shown = json<{ accessToken: string }>(await admin.call('GET', tokenPath(CLIENT))).accessToken;
          assert.equal(shown, working[0]);
        });
      }
      cases.done();
    });

    it(`${BATCHES} parallel batches (every body form) and single updates on the same profiles lose no update`, async () => {
      await admin.requireAuth(CLIENT, false);
      const profiles = SIZES.concurrentProfiles;
      const updates = LONG ? 500 : 50;
      const ids = Array.from({ length: profiles }, (_, i) => `q${i}`);
      const post = (names: string[], rows: Array<{ id: string; cells: string[] }>, form: (typeof FORMS)[number]) => {
        const { body, type } = encodeBatch({ kind: 'thirdPartyId', names, rows }, form);
        return send(`${server!.url}/m2/${CLIENT}/v2/profile/batchUpdate`, {
          method: 'POST',
          headers: { 'Content-Type': type, Accept: 'application/json' },
          body,
          timeoutMs: 120_000,
        });
      };
      const seeded = await post(
        ['seed'],
        ids.map((id) => ({ id, cells: ['1'] })),
        'form',
      );
      await waitForBatch(json<{ batchStatus: string }>(seeded).batchStatus, {}, 120_000);

      const batchAnswers = Array.from({ length: BATCHES }, (_, j) =>
        post(
          [`c${j}`],
          ids.map((id, i) => ({ id, cells: [`v${j}-${i}`] })),
          FORMS[j % FORMS.length]!,
        ),
      );
      const updateAnswers = Array.from({ length: updates }, (_, k) =>
        send(`${server!.url}/m2/${CLIENT}/profile/update?mbox3rdPartyId=q${k % profiles}&profile.s${k}=w${k}`, {
          timeoutMs: 120_000,
        }),
      );
      const cases = section.cases();
      for (const [j, answer] of (await Promise.all(batchAnswers)).entries()) {
        await cases.run(`batch ${j} (${FORMS[j % FORMS.length]})`, async () => {
          assert.equal(answer.status, 200, answer.text);
          const status = await waitForBatch(json<{ batchStatus: string }>(answer).batchStatus, {}, 300_000);
          assert.deepEqual([status['status'], status['successfulUpdates']], ['complete', profiles]);
        });
      }
      for (const [k, answer] of (await Promise.all(updateAnswers)).entries()) {
        await cases.run(`single update ${k}`, () => assert.equal(answer.status, 200, answer.text));
      }
      for (let i = 0; i < profiles; i++) {
        await cases.run(`profile q${i}`, async () => {
          const fetched = await send(`${server!.url}/rest/v1/profiles/thirdPartyId/q${i}?client=${CLIENT}`);
          const values = valuesOf(json(fetched));
          const expected: Record<string, string> = { seed: '1' };
          for (let j = 0; j < BATCHES; j++) expected[`c${j}`] = `v${j}-${i}`;
          for (let k = i; k < updates; k += profiles) expected[`s${k}`] = `w${k}`;
          assert.deepEqual(values, expected);
        });
      }
      cases.done();
    });

    it('Require Authentication toggled while requests flow: no unauthenticated request passes while it is on', async () => {
      await admin.requireAuth(TOGGLED, false);
      const seeded = await send(`${server!.url}/m2/${TOGGLED}/v2/profile/batchUpdate`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/csv', Accept: 'application/json' },
        body: 'thirdPartyId,hits\ntog,0\n',
      });
      await waitForBatch(json<{ batchStatus: string }>(seeded).batchStatus);
      /** [from, to]: times (performance.now) when the setting was certainly on, or certainly off. */
      const on: Array<[number, number]> = [];
      const off: Array<[number, number]> = [];
      const requests: Array<{ sent: number; done: number; status: number }> = [];
      let toggling = true;

      const toggler = (async () => {
        let offSince = performance.now();
        for (let round = 0; round < SIZES.toggleRounds; round++) {
          const sendOn = performance.now();
          await admin.requireAuth(TOGGLED, true);
          off.push([offSince, sendOn]);
          const onSince = performance.now();
          await sleep(20 + Math.floor(next() * 60));
          const sendOff = performance.now();
          await admin.requireAuth(TOGGLED, false);
          on.push([onSince, sendOff]);
          offSince = performance.now();
          await sleep(20 + Math.floor(next() * 60));
        }
        toggling = false;
      })();
      const paths = [
        `/rest/v1/profiles/thirdPartyId/tog?client=${TOGGLED}`,
        `/m2/${TOGGLED}/profile/update?mbox3rdPartyId=tog&profile.hits=1`,
        `/m2/${TOGGLED}/v2/profile/batchStatus?batchId=${json<{ batchId: string }>(seeded).batchId}`,
      ];
      const requesters = Array.from({ length: 6 }, async (_, n) => {
        for (let i = 0; toggling; i++) {
          const sent = performance.now();
          const answer = await send(`${server!.url}${paths[(n + i) % paths.length]}`);
          requests.push({ sent, done: performance.now(), status: answer.status });
        }
      });
      await Promise.all([toggler, ...requesters]);

      const within = (r: { sent: number; done: number }, windows: Array<[number, number]>) =>
        windows.some(([from, to]) => r.sent >= from && r.done <= to);
      const cases = section.cases();
      let strict = 0;
      for (const request of requests) {
        if (within(request, on)) {
          strict++;
          await cases.run(`request inside an "on" window`, () => assert.equal(request.status, 401));
        } else if (within(request, off)) {
          strict++;
          await cases.run(`request inside an "off" window`, () => assert.equal(request.status, 200));
        } else {
          await cases.run(`request across a change`, () => assert.ok([200, 401].includes(request.status)));
        }
      }
      await cases.run('enough requests fell inside windows to mean something', () =>
        assert.ok(strict >= SIZES.toggleRounds, `${strict} of ${requests.length}`),
      );
      cases.done();
    });
  });
}
