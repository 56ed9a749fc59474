/**
 * Reliability, crash safety (issue 8): the demo server, a child process on its own data folder,
 * gets a large batch (500,000 rows in the long run) and a small one queued behind it, and is
 * SIGKILLed at a random moment: while the body uploads, while the batch is applied, or right
 * after it read `complete`. After each restart, every batch is applied fully or not at all, no
 * status reads `complete` unless its rows are all there, none stays `incomplete`, and SQLite's
 * integrity_check is ok.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '@profilegate/core';
import type Database from 'better-sqlite3';
import { integrityCheck, openReadOnly } from './support/db';
import { Admin, json, send, sleep, startDemo, type Answer, type DemoChild } from './support/demo';
import { LONG, SEED, SIZES, random } from './support/mode';
import { tally } from './support/summary';

const section = tally('crash safety', __filename);
const CLIENT = 'demo';
const ROWS = SIZES.crashRows;
const SMALL = 1000;
const BIG_NAMES = ['a0', 'a1', 'a2'];
const SMALL_NAMES = ['b0', 'b1'];

type Phase = 'upload' | 'apply' | 'complete';
/**
 * Where each trial aims its kill; the moment within that phase is random. The first trial lets
 * its batch complete: it measures how long applying takes here, for the kills aimed at the apply.
 */
const AIMS: Phase[] = LONG
  ? ['complete', 'apply', 'upload', 'apply', 'apply', 'complete', 'apply', 'upload', 'apply', 'apply']
  : ['complete', 'apply', 'upload'];

/** The form body of one batch: `p<i>` gets `<name>` = `t<trial><tag><i>-<j>` for each name. */
function body(trial: number, tag: string, rows: number, names: string[]): Buffer {
  const lines = [`batch=thirdPartyId,${names.join(',')}`];
  for (let i = 0; i < rows; i++) {
    lines.push(`p${i},${names.map((_, j) => `t${trial}${tag}${i}-${j}`).join(',')}`);
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/**
 * Rows of a batch found fully applied, and rows found half applied (which must never happen).
 * Counted in SQL over the stored form of attributes, `{"name":"value"}` for a value changed with
 * its profile and `{"name":["value",modifiedAt]}` for one changed before (sqlite-rows.ts): 500,000
 * getProfile calls take ten times longer. `sqlAgrees` holds that reading against getProfile.
 */
function appliedRows(
  db: Database.Database,
  trial: number,
  tag: string,
  rows: number,
  names: readonly string[],
  id?: string,
) {
  const found = names
    .map(
      (name, j) =>
        `coalesce(coalesce(json_extract(attributes, '$."${name}"[0]'), json_extract(attributes, '$."${name}"')) = ('t${trial}${tag}' || substr(third_party_id, 2) || '-${j}'), 0)`,
    )
    .join(' + ');
  const which =
    id === undefined
      ? `third_party_id GLOB 'p[0-9]*' AND CAST(substr(third_party_id, 2) AS INTEGER) < ?`
      : 'third_party_id = ?';
  return db
    .prepare(
      `SELECT coalesce(sum(f = ${names.length}), 0) AS full, coalesce(sum(f > 0 AND f < ${names.length}), 0) AS partial
       FROM (SELECT ${found} AS f FROM profiles WHERE client = ? AND ${which})`,
    )
    .get(CLIENT, id ?? rows) as { full: number; partial: number };
}

/** The SQL count agrees with the store's getProfile on a sample of rows (else the stored form changed). */
async function sqlAgrees(
  db: Database.Database,
  store: SqliteStore,
  trial: number,
  tag: string,
  rows: number,
  names: readonly string[],
  next: () => number,
) {
  for (let n = 0; n < 50; n++) {
    const i = Math.floor(next() * rows);
    const profile = await store.getProfile(CLIENT, { kind: 'thirdPartyId', id: `p${i}` });
    const found = names.filter((name, j) => profile?.attributes[name]?.value === `t${trial}${tag}${i}-${j}`).length;
    const sql = appliedRows(db, trial, tag, rows, names, `p${i}`);
    const bySql = sql.full === 1 ? names.length : sql.partial === 1 ? -1 : 0;
    assert.ok(
      bySql === found || (bySql === -1 && found > 0 && found < names.length),
      `p${i}: getProfile finds ${found} of ${names.length} values, the SQL count ${JSON.stringify(sql)}; has the stored form of attributes changed?`,
    );
  }
}

interface BatchUnderTest {
  trial: number;
  tag: string;
  rows: number;
  names: readonly string[];
  /** Its row in the batches table, if it was ever recorded. */
  record: { id: string; status: string; ok: number } | undefined;
  next: () => number;
}

/** All or nothing, and a status that says which; `before`/`after`: statuses read before the kill and after the restart. */
async function verifyBatch(
  db: Database.Database,
  store: SqliteStore,
  batch: BatchUnderTest,
  before: Record<string, string>,
  after: Record<string, string>,
): Promise<void> {
  const { trial, tag, rows, names, record } = batch;
  const where = `batch ${tag} (${record?.status ?? 'never recorded'})`;
  await sqlAgrees(db, store, trial, tag, rows, names, batch.next);
  const { full, partial } = appliedRows(db, trial, tag, rows, names);
  assert.equal(partial, 0, `${where}: ${partial} rows half applied`);
  assert.ok(full === 0 || full === rows, `${where}: ${full} of ${rows} rows applied`);
  if (record === undefined) return assert.equal(full, 0, `${where} stored rows`);
  assert.ok(record.status === 'complete' || record.status === 'stuck', `${where} after the restart`);
  assert.equal(full, record.status === 'complete' ? rows : 0, `${where} with ${full} rows applied`);
  if (record.status === 'complete') assert.equal(record.ok, rows, `${where}: its counters`);
  if (before[record.id] === 'complete')
    assert.equal(after[record.id], 'complete', `${where}: complete before the kill`);
  if (after[record.id] !== undefined)
    assert.equal(after[record.id], record.status, `${where}: the API shows the stored status`);
}

/** POSTs a body in chunks; `killAfter` bytes into it, runs `kill` and stops. Resolves with the answer, or null. */
function upload(
  url: string,
  data: Buffer,
  killAfter?: { bytes: number; kill: () => Promise<void> },
): Promise<Answer | null> {
  return new Promise((resolve) => {
    const req = http.request(
      `${url}/m2/${CLIENT}/v2/profile/batchUpdate`,
      {
        method: 'POST',
        agent: false,
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': data.length,
          Accept: 'application/json',
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(parts).toString() }),
        );
        res.on('error', () => resolve(null));
      },
    );
    req.on('error', () => resolve(null)); // the server was killed under it
    void (async () => {
      const chunk = Math.min(256 * 1024, Math.ceil(data.length / 50));
      for (let at = 0; at < data.length; at += chunk) {
        if (killAfter && at >= killAfter.bytes) {
          await killAfter.kill();
          return;
        }
        if (!req.write(data.subarray(at, at + chunk))) await new Promise((r) => req.once('drain', r));
        if (req.destroyed) return;
      }
      req.end();
    })();
  });
}

describe(`reliability: crash safety (SIGKILL during ${ROWS.toLocaleString('en-US')}-row batches)`, function () {
  this.timeout(LONG ? 600_000 : 120_000);
  const root = mkdtempSync(join(tmpdir(), 'profilegate-crash-'));
  const dataDir = join(root, 'data');
  const serverTmp = join(root, 'tmp');
  const dbPath = join(dataDir, 'profiles.db');
  const next = random(SEED ^ 0x5eed);
  const hit: Record<Phase, number> = { upload: 0, apply: 0, complete: 0 };
  /** Seconds from acceptance to `complete` of a whole batch, measured by the first trial; apply kills land within it. */
  let applySeconds = 0;
  let server: DemoChild | undefined;

  before(() => mkdirSync(serverTmp));
  after(async () => {
    await server?.kill();
    rmSync(root, { recursive: true, force: true });
    section.note(
      `${AIMS.length} trials, ${ROWS.toLocaleString('en-US')}-row batches; SIGKILLs landed ${hit.upload} during the upload, ${hit.apply} while applying, ${hit.complete} after complete`,
    );
  });

  AIMS.forEach((aim, index) => {
    const trial = index + 1;
    it(`trial ${trial}: SIGKILL aimed at the ${aim === 'complete' ? 'moment after complete' : aim}; all or nothing after restart`, () =>
      section.check(async () => {
        server = await startDemo({ dataDir, env: { TMPDIR: serverTmp } });
        if (trial === 1) await new Admin(server.url).requireAuth(CLIENT, false);
        const started = Date.now();
        const big = body(trial, 'x', ROWS, BIG_NAMES);
        const live = server;
        const observed: Record<string, string> = {};
        let phase: Phase = 'upload';

        if (aim === 'upload') {
          const bytes = Math.floor((0.05 + 0.9 * next()) * big.length);
          const answer = await upload(live.url, big, { bytes, kill: () => live.kill() });
          if (answer !== null) phase = 'apply'; // the whole body got in before the kill
          await live.kill();
        } else {
          const answer = await upload(live.url, big);
          assert.equal(answer?.status, 200, answer?.text);
          const accepted = Date.now();
          const bigStatus = json<{ batchStatus: string }>(answer!).batchStatus;
          // The small batch is queued behind the big one: SQLite writes are serialised, so it is
          // only accepted once the big one has committed. Its answer is not waited for.
          const statusUrls = [bigStatus];
          void upload(live.url, body(trial, 'y', SMALL, SMALL_NAMES)).then((small) => {
            if (small?.status === 200) statusUrls.push(json<{ batchStatus: string }>(small).batchStatus);
          });
          const read = async () => {
            for (const url of [...statusUrls]) {
              const status = json(await send(url, { headers: { Accept: 'application/json' } }));
              observed[status['batchId'] as string] = status['status'] as string;
            }
            return Object.values(observed);
          };
          const killAt = accepted + (aim === 'apply' ? (0.05 + 0.85 * next()) * applySeconds * 1000 : Infinity);
          for (;;) {
            const statuses = await read();
            if (statuses[0] === 'complete' && aim === 'complete') applySeconds ||= (Date.now() - accepted) / 1000;
            if (statuses.length === 2 && statuses.every((s) => s === 'complete')) break;
            if (Date.now() >= killAt) break;
            if (Date.now() - accepted > 600_000) throw new Error('the batches did not complete within 10 minutes');
            await sleep(25);
          }
          phase = Object.values(observed)[0] === 'complete' ? 'complete' : 'apply';
          await live.kill();
        }
        hit[phase]++;

        // Restart: every batch reads complete or stuck, and what read complete before the kill still does.
        const restarted = await startDemo({ dataDir, env: { TMPDIR: serverTmp } });
        server = restarted;
        const after: Record<string, string> = {};
        for (const batchId of Object.keys(observed)) {
          const answer = await send(`${restarted.url}/m2/${CLIENT}/v2/profile/batchStatus?batchId=${batchId}`, {
            headers: { Accept: 'application/json' },
          });
          after[batchId] = json(answer)['status'] as string;
        }
        assert.equal(await restarted.stop(), 0, 'the restarted server stops cleanly');
        assert.doesNotMatch(restarted.output(), /Unexpected error/);
        server = undefined;

        assert.equal(integrityCheck(dbPath), 'ok');
        const db = openReadOnly(dbPath);
        const store = new SqliteStore(dbPath);
        try {
          const records = db
            .prepare(
              'SELECT batch_id AS id, status, batch_size AS size, successful_updates AS ok FROM batches WHERE created_at >= ?',
            )
            .all(started) as Array<{ id: string; status: string; size: number; ok: number }>;
          for (const [tag, rows, names] of [
            ['x', ROWS, BIG_NAMES],
            ['y', SMALL, SMALL_NAMES],
          ] as const) {
            const record = records.find((r) => r.size === rows);
            await verifyBatch(db, store, { trial, tag, rows, names, record, next }, observed, after);
          }
        } finally {
          db.close();
          await store.close();
        }
      }));
  });

  it('no batch of any trial is left incomplete, and the server starts cleanly once more', async () => {
    const db = openReadOnly(dbPath);
    const incomplete = db.prepare("SELECT count(*) AS n FROM batches WHERE status = 'incomplete'").get() as {
      n: number;
    };
    db.close();
    assert.equal(incomplete.n, 0);
    const last = await startDemo({ dataDir, env: { TMPDIR: serverTmp } });
    assert.equal(await last.stop(), 0);
    assert.equal(integrityCheck(dbPath), 'ok');
    section.note(
      `spool folders left in the server's temp folder by killed processes: ${readdirSync(serverTmp).length}`,
    );
  });
});
