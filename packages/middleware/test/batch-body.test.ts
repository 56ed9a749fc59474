/** API.md 2.1: every body form of batchUpdate, and its limits. */
import { strict as assert } from 'node:assert';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  ADOBE_EXAMPLE_FILE,
  CLIENT,
  fetchProfile,
  postBatch,
  rawRequest,
  runBatch,
  startApp,
  valuesOf,
  waitForBatch,
  type TestApp,
} from './helpers';

const V2 = `/m2/${CLIENT}/v2/profile/batchUpdate`;
const FORM = 'application/x-www-form-urlencoded';

function xmlMessage(text: string): string {
  const match = /^<response><success>false<\/success><message>([^<]*)<\/message><\/response>$/.exec(text);
  assert.ok(match, `not a refusal body: ${text}`);
  return match[1]!.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
}

describe('batchUpdate body forms (API.md 2.1)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp();
  });
  afterEach(async () => t.close());

  it("accepts Adobe's documented example file as curl --data-binary @file posts it", async () => {
    // curl --data-binary @file: Content-Type application/x-www-form-urlencoded, the bytes as they are.
    const res = await rawRequest(t.origin, {
      method: 'POST',
      path: V2,
      headers: {
        'Content-Type': FORM,
        'Content-Length': String(Buffer.byteLength(ADOBE_EXAMPLE_FILE)),
        Accept: '*/*',
        'User-Agent': 'curl/8.5.0',
      },
      chunks: [ADOBE_EXAMPLE_FILE],
    });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers['content-type'] ?? '', /^application\/xml/);
    const match =
      /^<response><success>true<\/success><batchStatus>([^<]+)<\/batchStatus><message>Batch submitted for processing<\/message><\/response>$/.exec(
        res.text,
      );
    assert.ok(match, res.text);
    const statusUrl = match[1]!.replaceAll('&amp;', '&');
    assert.match(statusUrl, new RegExp(`^${t.origin}/m2/acme/v2/profile/batchStatus\\?batchId=acme-\\d{13}-\\d+$`));
    const status = await waitForBatch(statusUrl, { details: true });
    assert.equal(status['status'], 'complete');
    assert.equal(status['batchSize'], 4);
    assert.equal(status['successfulUpdates'], 4);
    assert.equal(status['failedUpdates'], 0);
    const expected: Record<string, Record<string, string>> = {
      '123': { param1: 'value1' },
      '124': { param1: 'value1', param4: 'value4' },
      '125': { param2: 'value2' },
      '126': { param1: 'value1', param2: 'value2', param3: 'value3', param4: 'value4' },
    };
    for (const [pcId, values] of Object.entries(expected)) {
      const profile = await fetchProfile(t, { pcId });
      assert.equal(profile.status, 200);
      assert.deepEqual(valuesOf(profile.body), values);
    }
  });

  it('accepts the form with CRLF line ends, a BOM, "+" as space and %-encoded UTF-8', async () => {
    const body = '\ufeffbatch=thirdPartyId,profile.city,note\r\nu1,S%C3%A3o+Paulo,a%2Cb%26c%25d\r\n';
    const status = await runBatch(t, body);
    assert.equal(status['successfulUpdates'], 1);
    assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'u1' })).body), {
      city: 'São Paulo',
      note: 'a,b&c%d',
    });
  });

  it('accepts text/csv with RFC 4180 quoting', async () => {
    const csv = 'thirdPartyId,city,quote,multi\nu1,"Paris, France","He said ""hi""","two\nlines"\nu2,Rome,plain,\n';
    const status = await runBatch(t, csv, { type: 'text/csv; charset=utf-8' });
    assert.equal(status['batchSize'], 2);
    assert.equal(status['successfulUpdates'], 2);
    assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'u1' })).body), {
      city: 'Paris, France',
      quote: 'He said "hi"',
      multi: 'two\nlines',
    });
    assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'u2' })).body), { city: 'Rome', quote: 'plain' });
  });

  it('text/csv: "%", "&" and "+" are literal (no URL-decoding)', async () => {
    await runBatch(t, 'thirdPartyId,v\nu1,100% a&b+c\n', { type: 'text/csv' });
    assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'u1' })).body), { v: '100% a&b+c' });
  });

  for (const field of ['batch', 'file']) {
    for (const [form, content, type] of [
      ['form', 'batch=thirdPartyId,tier\nm1,gold\nm2,S%C3%A3o\n', 'text/plain'],
      ['CSV', 'thirdPartyId,tier\nm1,gold\nm2,São\n', 'text/csv'],
    ] as const) {
      it(`accepts multipart/form-data with a file part "${field}" holding the ${form}`, async () => {
        const res = await t.http
          .post(V2)
          .set('Accept', 'application/json')
          .field('note', 'ignored')
          .attach(field, Buffer.from(content, 'utf8'), { filename: 'batch.txt', contentType: type });
        assert.equal(res.status, 200, res.text);
        const status = await waitForBatch(res.body.batchStatus, { details: true });
        assert.equal(status['batchSize'], 2);
        assert.equal(status['successfulUpdates'], 2);
        assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'm1' })).body), { tier: 'gold' });
        assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'm2' })).body), { tier: 'São' });
      });
    }
  }

  it('multipart: other file parts before and after the batch part are skipped', async () => {
    const res = await t.http
      .post(V2)
      .set('Accept', 'application/json')
      .attach('readme', Buffer.from('not the batch'), 'readme.txt')
      .attach('batch', Buffer.from('thirdPartyId,tier\ns1,gold\n'), 'batch.csv')
      .attach('file', Buffer.from('thirdPartyId,tier\ns2,gold\n'), 'second.csv')
      .attach('extra', Buffer.from('x'.repeat(100_000)), 'extra.bin');
    assert.equal(res.status, 200, res.text);
    const status = await waitForBatch(res.body.batchStatus, { details: true });
    assert.equal(status['batchSize'], 1);
    assert.equal((await fetchProfile(t, { thirdPartyId: 's1' })).status, 200);
    assert.equal((await fetchProfile(t, { thirdPartyId: 's2' })).status, 404);
    // The connection is still usable afterwards.
    assert.equal((await t.http.get(`/m2/${CLIENT}/v2/profile/batchStatus?batchId=x`)).status, 404);
  });

  it('multipart: a form file saved with a UTF-8 BOM is still read as the form', async () => {
    const res = await t.http
      .post(V2)
      .set('Accept', 'application/json')
      .attach('file', Buffer.from('\ufeffbatch=thirdPartyId,city\nb1,S%C3%A3o+Paulo\n', 'utf8'), 'batch.txt');
    assert.equal(res.status, 200, res.text);
    await waitForBatch(res.body.batchStatus);
    assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'b1' })).body), { city: 'São Paulo' });
  });

  it('multipart without a "batch" or "file" part: 400 saying so', async () => {
    const res = await t.http.post(V2).attach('upload', Buffer.from('thirdPartyId,a\nu1,b\n'), 'x.csv');
    assert.equal(res.status, 400);
    assert.match(xmlMessage(res.text), /"batch" or "file"/);
  });

  it('multipart without a boundary: 400', async () => {
    const res = await t.http.post(V2).set('Content-Type', 'multipart/form-data').send('x');
    assert.equal(res.status, 400);
  });

  it('multipart cut off inside a part (the batch part, a stray part, its first bytes): 400, and the app lives on', async () => {
    const head = (name: string) => `--XyZ\r\nContent-Disposition: form-data; name="${name}"; filename="b.csv"\r\n\r\n`;
    for (const body of [
      `${head('batch')}thirdPartyId,tier\nc1,gold\n`,
      `${head('readme')}not the batch`,
      `${head('batch')}th`,
    ]) {
      const res = await rawRequest(t.origin, {
        method: 'POST',
        path: V2,
        headers: { 'Content-Type': 'multipart/form-data; boundary=XyZ', 'Content-Length': Buffer.byteLength(body) },
        chunks: [body],
      });
      assert.equal(res.status, 400, res.text);
      assert.match(xmlMessage(res.text), /multipart body/);
    }
    assert.deepEqual(t.errors, []);
    assert.equal((await fetchProfile(t, { thirdPartyId: 'c1' })).status, 404, 'nothing of it was stored');
  });

  it('multipart upload dropped by the client mid-body: its spool folder is removed', async () => {
    const spoolDir = mkdtempSync(join(tmpdir(), 'profilegate-spool-'));
    const app = await startApp({ spoolDir });
    try {
      const body =
        '--XyZ\r\nContent-Disposition: form-data; name="batch"; filename="b.csv"\r\n\r\nthirdPartyId,tier\nd1,gold\n';
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(new URL(app.origin).port), '127.0.0.1', () => {
          socket.write(
            `POST ${V2} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n` +
              `Content-Length: 100000\r\n\r\n${body}`,
          );
          setTimeout(() => socket.destroy(), 50);
        });
        socket.on('error', reject);
        socket.on('close', () => resolve());
      });
      const deadline = Date.now() + 5000;
      while (readdirSync(spoolDir).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(readdirSync(spoolDir), [], 'no spool folder is left waiting for the rest of the body');
    } finally {
      await app.close();
      rmSync(spoolDir, { recursive: true, force: true });
    }
  });

  it('accepts JSON with thirdPartyId and pcId profiles', async () => {
    const res = await t.http
      .post(V2)
      .set('Accept', 'application/json')
      .send({
        profiles: [
          { thirdPartyId: 'j1', attributes: { tier: 'gold', 'profile.city': 'Oslo' } },
          { pcId: 'pc-j2', attributes: { tier: 'silver' } },
        ],
      });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.match(res.body.batchId, /^acme-\d{13}-\d+$/);
    assert.equal(res.body.message, 'Batch submitted for processing');
    assert.deepEqual(Object.keys(res.body), ['success', 'batchId', 'batchStatus', 'message']);
    const status = await waitForBatch(res.body.batchStatus, { details: true });
    assert.equal(status['successfulUpdates'], 2);
    assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'j1' })).body), { tier: 'gold', city: 'Oslo' });
    assert.deepEqual(valuesOf((await fetchProfile(t, { pcId: 'pc-j2' })).body), { tier: 'silver' });
  });

  it('refuses an unsupported content type with 415', async () => {
    for (const type of ['text/plain', 'application/xml', 'application/octet-stream']) {
      const res = await t.http.post(V2).set('Content-Type', type).send('thirdPartyId,a\nu1,b\n');
      assert.equal(res.status, 415, type);
      assert.match(xmlMessage(res.text), /text\/csv/);
    }
  });

  it('refuses a body without Content-Type with 415', async () => {
    const body = 'batch=thirdPartyId,a\nu1,b\n';
    const res = await rawRequest(t.origin, {
      method: 'POST',
      path: V2,
      headers: { 'Content-Length': String(body.length) },
      chunks: [body],
    });
    assert.equal(res.status, 415);
    assert.match(xmlMessage(res.text), /application\/x-www-form-urlencoded/);
  });

  it('a POST without any body (no Content-Length, as curl -X POST sends it) is 400 "Batch is empty", not 415', async () => {
    for (const type of ['text/csv', 'application/x-www-form-urlencoded', 'APPLICATION/JSON; charset=utf-8']) {
      const answer = await new Promise<string>((resolve, reject) => {
        const url = new URL(t.origin);
        const socket = connect(Number(url.port), url.hostname, () => {
          socket.write(
            `POST ${V2} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: ${type}\r\nConnection: close\r\n\r\n`,
          );
        });
        const parts: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => parts.push(chunk));
        socket.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
        socket.on('error', reject);
      });
      assert.match(answer, /^HTTP\/1\.1 400 /, type);
      assert.match(answer, /<message>Batch is empty<\/message>/, type);
    }
  });

  it('reads the media type case-insensitively', async () => {
    const status = await runBatch(t, 'thirdPartyId,a\nci1,b\n', { type: 'Text/CSV; Charset=UTF-8' });
    assert.equal(status['successfulUpdates'], 1);
  });

  it('refuses a gzip Content-Encoding with 415 (and stores nothing)', async () => {
    const gz = gzipSync('batch=thirdPartyId,a\nz1,b\n');
    const res = await rawRequest(t.origin, {
      method: 'POST',
      path: V2,
      headers: { 'Content-Type': FORM, 'Content-Encoding': 'gzip', 'Content-Length': String(gz.length) },
      chunks: [gz],
    });
    assert.equal(res.status, 415);
    assert.match(xmlMessage(res.text), /uncompressed/);
    assert.equal((await fetchProfile(t, { thirdPartyId: 'z1' })).status, 404);
  });

  it('answers a refusal in JSON when Accept prefers it', async () => {
    const res = await t.http.post(V2).set('Content-Type', 'text/plain').set('Accept', 'application/json').send('x');
    assert.equal(res.status, 415);
    assert.deepEqual(Object.keys(res.body), ['success', 'message']);
    assert.equal(res.body.success, false);
  });
});

describe('batchUpdate limits and refusals (API.md 2.1)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp({ limits: { maxBytes: 2000, maxRows: 5 } });
  });
  afterEach(async () => t.close());

  const rows = (n: number, prefix = 'r') =>
    `batch=thirdPartyId,tier\n${Array.from({ length: n }, (_, i) => `${prefix}${i},gold`).join('\n')}\n`;

  it('413 over maxBytes with Content-Length (read and counted)', async () => {
    const body = `batch=thirdPartyId,v\nbig1,${'x'.repeat(2500)}\n`;
    const res = await t.http.post(V2).set('Content-Type', FORM).send(body);
    assert.equal(res.status, 413);
    assert.match(xmlMessage(res.text), /2000 bytes/);
    assert.equal((await fetchProfile(t, { thirdPartyId: 'big1' })).status, 404);
  });

  it('413 at once when Content-Length is far over the limit', async () => {
    const body = `batch=thirdPartyId,v\nbig2,${'x'.repeat(80_000)}\n`;
    const res = await rawRequest(t.origin, {
      method: 'POST',
      path: V2,
      headers: { 'Content-Type': FORM, 'Content-Length': String(body.length) },
      chunks: [body],
    });
    assert.equal(res.status, 413);
    assert.equal(res.headers['connection'], 'close');
  });

  it('413 over maxBytes without Content-Length (chunked)', async () => {
    const chunks = ['batch=thirdPartyId,v\n', ...Array.from({ length: 30 }, (_, i) => `c${i},${'y'.repeat(100)}\n`)];
    const res = await rawRequest(t.origin, {
      method: 'POST',
      path: V2,
      headers: { 'Content-Type': FORM, 'Transfer-Encoding': 'chunked' },
      chunks,
    });
    assert.equal(res.status, 413, res.text);
    assert.equal((await fetchProfile(t, { thirdPartyId: 'c0' })).status, 404);
  });

  it('413 over maxBytes in a multipart file and in JSON', async () => {
    const big = `thirdPartyId,v\nm1,${'x'.repeat(2500)}\n`;
    const multipart = await t.http.post(V2).attach('file', Buffer.from(big), 'b.csv');
    assert.equal(multipart.status, 413, multipart.text);
    const json = await t.http.post(V2).send({ profiles: [{ thirdPartyId: 'j', attributes: { v: 'x'.repeat(2500) } }] });
    assert.equal(json.status, 413);
  });

  it('accepts exactly maxRows rows, 413 over maxRows (form, CSV and JSON)', async () => {
    const ok = await runBatch(t, rows(5));
    assert.equal(ok['batchSize'], 5);
    const form = await t.http.post(V2).set('Content-Type', FORM).send(rows(6, 'over'));
    assert.equal(form.status, 413);
    assert.match(xmlMessage(form.text), /more than 5 rows/);
    assert.equal((await fetchProfile(t, { thirdPartyId: 'over0' })).status, 404);
    const csv = await t.http.post(V2).set('Content-Type', 'text/csv').send(rows(6, 'over').slice('batch='.length));
    assert.equal(csv.status, 413);
    const json = await t.http
      .post(V2)
      .send({ profiles: Array.from({ length: 6 }, (_, i) => ({ thirdPartyId: `j${i}`, attributes: { a: 'b' } })) });
    assert.equal(json.status, 413);
  });

  it('400 "Batch is empty" when there is no data row', async () => {
    for (const [type, body] of [
      [FORM, 'batch=thirdPartyId,tier\n'],
      [FORM, 'batch=thirdPartyId,tier\n\n,\n'],
      [FORM, 'batch='],
      ['text/csv', 'thirdPartyId,tier\r\n'],
      ['application/json', '{"profiles":[]}'],
    ] as const) {
      const res = await t.http.post(V2).set('Content-Type', type).send(body);
      assert.equal(res.status, 400, `${type} ${JSON.stringify(body)}: ${res.text}`);
      assert.equal(xmlMessage(res.text), 'Batch is empty');
    }
    const json = await t.http
      .post(V2)
      .set('Content-Type', FORM)
      .set('Accept', 'application/json')
      .send('batch=pcId,a\n');
    assert.deepEqual(json.body, { success: false, message: 'Batch is empty' });
  });

  for (const [what, line, expected] of [
    ['&', 'u3,a&b', /^Line 4: Unencoded "&"/],
    ['%', 'u3,100%', /^Line 4: "%" not followed by two hex digits/],
    ['% (bad hex)', 'u3,%zz', /^Line 4: "%" not followed by two hex digits/],
  ] as const) {
    it(`an unencoded ${what} fails the whole batch with 400 and its line; nothing is stored`, async () => {
      const body = `batch=thirdPartyId,tier\nu1,gold\nu2,silver\n${line}\nu4,gold\n`;
      const res = await t.http.post(V2).set('Content-Type', FORM).send(body);
      assert.equal(res.status, 400);
      assert.match(xmlMessage(res.text), expected);
      for (const id of ['u1', 'u2', 'u4']) assert.equal((await fetchProfile(t, { thirdPartyId: id })).status, 404);
    });
  }

  it('a malformed header fails the whole batch with 400 on line 1', async () => {
    for (const body of [
      'batch=email,tier\nu1,gold\n',
      'batch=thirdPartyId\nu1\n',
      'batch=thirdPartyId,a%01b\nu1,x\n',
      'batch=pcId,a,a\n1,x,y\n',
      'batch=pcId,__proto__\n1,x\n',
      'thirdPartyId,a\nu1,b\n',
    ]) {
      const res = await t.http.post(V2).set('Content-Type', FORM).send(body);
      assert.equal(res.status, 400, body);
      assert.match(xmlMessage(res.text), /^Line 1: /, body);
    }
  });

  it('a bad CSV quote fails the whole batch with its line', async () => {
    const res = await t.http.post(V2).set('Content-Type', 'text/csv').send('thirdPartyId,a\nu1,ok\nu2,"open\n');
    assert.equal(res.status, 400);
    assert.match(xmlMessage(res.text), /^Line 3: /);
    assert.equal((await fetchProfile(t, { thirdPartyId: 'u1' })).status, 404);
  });

  it('a body that is not UTF-8 is refused with its line', async () => {
    const body = Buffer.concat([
      Buffer.from('batch=thirdPartyId,a\nu1,ok\nu2,'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('\n'),
    ]);
    const res = await rawRequest(t.origin, {
      method: 'POST',
      path: V2,
      headers: { 'Content-Type': FORM, 'Content-Length': String(body.length) },
      chunks: [body],
    });
    assert.equal(res.status, 400);
    assert.match(xmlMessage(res.text), /^Line 3: .*UTF-8/);
  });
});

describe('a refused batch never takes the server down', function () {
  this.timeout(30_000);
  // Run in a child process: if the server process dies, only the child dies, and this test says so.
  const script = (rows: number, last: string, limits: string, spoolDir: string) => `
    const { startApp } = require(${JSON.stringify(`${__dirname}/helpers.js`)});
    (async () => {
      const t = await startApp({ limits: ${limits}, spoolDir: ${JSON.stringify(spoolDir)} });
      const body = 'batch=thirdPartyId,a\\n' + 'u,1\\n'.repeat(${rows}) + ${JSON.stringify(last)};
      const res = await fetch(t.origin + '/m2/acme/v2/profile/batchUpdate', {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body,
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = await fetch(t.origin + '/rest/v1/profiles/x?client=acme');
      console.log('alive', res.status, after.status);
      await t.close();
    })();`;

  for (const [label, rows, last, limits, status] of [
    ['1,000 valid rows, then an unencoded "%"', 1000, 'x,%\n', '{}', 400],
    ['one row over maxRows (2,000)', 2001, '', '{ maxRows: 2000 }', 413],
  ] as const) {
    it(`${label}: ${status}, and the server keeps answering (fails while core's BatchSpool.dispose crashes the process)`, () => {
      // Its own spool folder: a crashed child cannot clean up after itself.
      const spoolDir = mkdtempSync(join(tmpdir(), 'profilegate-crash-test-'));
      let child: SpawnSyncReturns<string>;
      try {
        child = spawnSync(process.execPath, ['-e', script(rows, last, limits, spoolDir)], {
          encoding: 'utf8',
          timeout: 25_000,
        });
      } finally {
        rmSync(spoolDir, { recursive: true, force: true });
      }
      assert.equal(
        child.stdout.trim(),
        `alive ${status} 404`,
        `the server process died: exit ${child.status}\n${child.stderr.split('\n').slice(0, 6).join('\n')}`,
      );
      assert.equal(child.status, 0);
    });
  }
});

describe('bad rows fail only themselves (API.md 2.1)', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp();
  });
  after(async () => t.close());

  it('lists each failed row with id, status and message; counters add up', async () => {
    const long = 'x'.repeat(5001);
    const body = [
      'batch=thirdPartyId,tier,note',
      'ok1,gold,a',
      'bad%2Bid,gold,b', // "+" in a thirdPartyId
      `long1,${long},c`, // value over 5,000 characters
      'ok2,silver,d',
      'extra,a,b,c', // more cells than columns
      `${'i'.repeat(257)},gold,e`, // id over 256 characters
      'ok3,,', // nothing to change, still a successful row
    ].join('\n');
    const status = await runBatch(t, `${body}\n`);
    assert.equal(status['status'], 'complete');
    assert.equal(status['batchSize'], 7);
    assert.equal(status['consumedCount'], 7);
    assert.equal(status['successfulUpdates'], 3);
    assert.equal(status['profilesNotFound'], 0);
    assert.equal(status['failedUpdates'], 4);
    const profiles = status['profiles'] as Array<{ id: string; status: string; message: string }>;
    assert.deepEqual(
      profiles.map((p) => [p.id, p.status]),
      [
        ['bad+id', 'failed'],
        ['long1', 'failed'],
        ['extra', 'failed'],
        [`${'i'.repeat(64)}…`, 'failed'], // ids of failed rows are kept cut off (issue 15.5)
      ],
    );
    assert.match(profiles[0]!.message, /^Line 3: thirdPartyId must not contain "\+" or "\/"$/);
    assert.match(profiles[1]!.message, /^Line 4: .*5001 characters; the limit is 5000/);
    assert.match(profiles[2]!.message, /^Line 6: Row has 4 cells/);
    assert.match(profiles[3]!.message, /^Line 7: .*256/);
    for (const id of ['ok1', 'ok2']) assert.equal((await fetchProfile(t, { thirdPartyId: id })).status, 200);
    assert.equal((await fetchProfile(t, { thirdPartyId: 'long1' })).status, 404);
  });

  it('a row that would take a profile over 64 KiB fails alone, at apply time', async () => {
    const names = Array.from({ length: 14 }, (_, i) => `a${i}`);
    const big = Array.from({ length: 14 }, () => 'v'.repeat(4800)).join(',');
    const body = `batch=thirdPartyId,${names.join(',')}\nfat,${big}\nslim,${names.map(() => 'v').join(',')}\n`;
    const status = await runBatch(t, body);
    assert.equal(status['batchSize'], 2);
    assert.equal(status['successfulUpdates'], 1);
    assert.equal(status['failedUpdates'], 1);
    const profiles = status['profiles'] as Array<{ id: string; message: string }>;
    assert.equal(profiles[0]!.id, 'fat');
    assert.match(profiles[0]!.message, /limit is 65536/);
    assert.equal((await fetchProfile(t, { thirdPartyId: 'fat' })).status, 404);
    assert.equal((await fetchProfile(t, { thirdPartyId: 'slim' })).status, 200);
  });

  it('lists at most the first 1,000 failed rows; failedUpdates counts them all', async () => {
    const bad = Array.from({ length: 1005 }, (_, i) => `bad${i}%2F,x`).join('\n');
    const status = await runBatch(t, `batch=thirdPartyId,a\n${bad}\nfine,y\n`);
    assert.equal(status['batchSize'], 1006);
    assert.equal(status['failedUpdates'], 1005);
    assert.equal(status['successfulUpdates'], 1);
    const profiles = status['profiles'] as Array<{ id: string }>;
    assert.equal(profiles.length, 1000);
    assert.equal(profiles[0]!.id, 'bad0/');
    assert.equal(profiles[999]!.id, 'bad999/');
  });

  it('XML showDetails lists the failed rows as <profile> elements', async () => {
    const { batchStatus } = await postBatch(t, 'batch=thirdPartyId,a\nx%2By,1\ngood,2\n');
    await waitForBatch(batchStatus);
    const res = await fetch(`${batchStatus}&showDetails=true`);
    const text = await res.text();
    const batchId = new URL(batchStatus).searchParams.get('batchId');
    assert.equal(
      text,
      `<response><batchId>${batchId}</batchId><status>complete</status><batchSize>2</batchSize><consumedCount>2</consumedCount>` +
        '<successfulUpdates>1</successfulUpdates><profilesNotFound>0</profilesNotFound><failedUpdates>1</failedUpdates>' +
        '<profile><id>x+y</id><status>failed</status><message>Line 2: thirdPartyId must not contain "+" or "/"</message></profile></response>',
    );
  });
});

describe('update size limits and the bulk rate limit', () => {
  let t: TestApp;
  afterEach(async () => t.close());

  it('update GET: a query over 8 KB is 413; POST: a body over 60 KB is 413', async () => {
    t = await startApp();
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'thirdPartyId', id: 'u1' }, attributes: { a: 'b' } },
      { createMissing: true, now: Date.now() },
    );
    const fits = `mbox3rdPartyId=u1&profile.v=${'x'.repeat(4000)}`;
    assert.equal((await t.http.get(`/m2/${CLIENT}/profile/update?${fits}`)).status, 200);
    const get = await t.http.get(`/m2/${CLIENT}/profile/update?mbox3rdPartyId=u1&profile.v=${'x'.repeat(8200)}`);
    assert.equal(get.status, 413);
    assert.match(xmlMessage(get.text), /8192 bytes; use POST/);
    const postOk = await t.http
      .post(`/m2/${CLIENT}/profile/update`)
      .set('Content-Type', FORM)
      .send(Array.from({ length: 12 }, (_, i) => `profile.a${i}=${'x'.repeat(4000)}`).join('&') + '&mbox3rdPartyId=u1');
    assert.equal(postOk.status, 200, postOk.text);
    const post = await t.http
      .post(`/m2/${CLIENT}/profile/update`)
      .set('Content-Type', FORM)
      .send(`mbox3rdPartyId=u1&${Array.from({ length: 14 }, (_, i) => `profile.b${i}=${'x'.repeat(4800)}`).join('&')}`);
    assert.equal(post.status, 413);
    assert.match(xmlMessage(post.text), /too large/);
  });

  it('bulkRateLimit: over the limit is 429 with Retry-After, per client, until the window ends', async () => {
    t = await startApp({ bulkRateLimit: { max: 2, windowMs: 60_000 } });
    const body = 'batch=thirdPartyId,a\nu1,b\n';
    await postBatch(t, body);
    await postBatch(t, body, { version: 'v1' });
    const res = await t.http.post(V2).set('Content-Type', FORM).send(body);
    assert.equal(res.status, 429);
    const retryAfter = Number(res.headers['retry-after']);
    assert.ok(retryAfter >= 59 && retryAfter <= 60, String(res.headers['retry-after']));
    assert.match(xmlMessage(res.text), /Too many batches/);
    // Another client has its own window; status reads are not limited.
    await postBatch(t, body, { client: 'globex' });
    assert.equal((await t.http.get(`/m2/${CLIENT}/v2/profile/batchStatus?batchId=x`)).status, 404);
    t.clock.advance(30_000);
    const later = await t.http.post(V2).set('Content-Type', FORM).send(body);
    assert.equal(later.status, 429);
    assert.ok(Number(later.headers['retry-after']) <= 30);
    t.clock.advance(30_000);
    await postBatch(t, body);
  });
});
