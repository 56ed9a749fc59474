/** API.md 2.1 semantics (v1 vs v2, merging) and 2.2 batch status. */
import { strict as assert } from 'node:assert';
import { connect } from 'node:net';
import express from 'express';
import { KeyRing, MemoryStore, generateSigningKey } from '@profilegate/core';
import { profileApi } from '../src';
import {
  CLIENT,
  OTHER_CLIENT,
  authenticateAdmin,
  closeServer,
  fetchProfile,
  listen,
  postBatch,
  runBatch,
  startApp,
  tempSqliteStore,
  valuesOf,
  waitForBatch,
  type TestApp,
} from './helpers';

const FORM = 'application/x-www-form-urlencoded';
const PC_ID = /^\d{13}-\d{6}\.\d{2}_0$/;

for (const kind of ['memory', 'sqlite'] as const) {
  describe(`batch semantics on a ${kind} store (API.md 2.1)`, () => {
    let t: TestApp;
    let dispose: () => Promise<void> = async () => undefined;
    beforeEach(async () => {
      if (kind === 'sqlite') {
        const temp = tempSqliteStore();
        dispose = temp.dispose;
        t = await startApp({ store: temp.store });
      } else {
        t = await startApp();
      }
    });
    afterEach(async () => {
      await t.close();
      await dispose();
    });

    it('v1 updates existing profiles only; missing ones count in profilesNotFound', async () => {
      await runBatch(t, 'batch=thirdPartyId,tier\nknown,silver\n');
      const status = await runBatch(t, 'batch=thirdPartyId,tier\nknown,gold\nnew1,gold\nnew2,gold\n', {
        version: 'v1',
      });
      assert.equal(status['status'], 'complete');
      assert.equal(status['batchSize'], 3);
      assert.equal(status['consumedCount'], 3);
      assert.equal(status['successfulUpdates'], 1);
      assert.equal(status['profilesNotFound'], 2);
      assert.equal(status['failedUpdates'], 0);
      assert.deepEqual(status['profiles'], []);
      assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'known' })).body), { tier: 'gold' });
      assert.equal((await fetchProfile(t, { thirdPartyId: 'new1' })).status, 404);
      const byPc = await runBatch(t, 'batch=pcId,tier\nnot-there,gold\n', { version: 'v1' });
      assert.equal(byPc['profilesNotFound'], 1);
      assert.equal((await fetchProfile(t, { pcId: 'not-there' })).status, 404);
    });

    it('v2 creates: a thirdPartyId row gets a new pcId linked to it; a pcId row keeps its pcId', async () => {
      const status = await runBatch(t, 'batch=thirdPartyId,tier\nfresh,gold\n');
      assert.equal(status['successfulUpdates'], 1);
      assert.equal(status['profilesNotFound'], 0);
      const byThirdParty = await fetchProfile(t, { thirdPartyId: 'fresh' });
      assert.equal(byThirdParty.status, 200);
      const pcId = byThirdParty.body.visitorId as string;
      assert.match(pcId, PC_ID);
      assert.equal(byThirdParty.body.thirdPartyId, 'fresh');
      const byPcId = await fetchProfile(t, { pcId });
      assert.deepEqual(byPcId.body, byThirdParty.body);
      await runBatch(t, 'batch=pcId,tier\nmy-pc-1,silver\n');
      const own = await fetchProfile(t, { pcId: 'my-pc-1' });
      assert.equal(own.body.visitorId, 'my-pc-1');
      assert.equal('thirdPartyId' in own.body, false);
      // A second v2 batch updates the same profile (same pcId), it does not create another.
      await runBatch(t, 'batch=thirdPartyId,city\nfresh,Oslo\n');
      const again = await fetchProfile(t, { thirdPartyId: 'fresh' });
      assert.equal(again.body.visitorId, pcId);
      assert.deepEqual(valuesOf(again.body), { tier: 'gold', city: 'Oslo' });
    });

    it('a later row for the same profile wins, and rows merge', async () => {
      await runBatch(t, 'batch=thirdPartyId,tier,city\nw1,gold,Paris\nw1,platinum,\nw1,,Rome\n');
      assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'w1' })).body), {
        tier: 'platinum',
        city: 'Rome',
      });
      const res = await t.http
        .post(`/m2/${CLIENT}/v2/profile/batchUpdate`)
        .set('Accept', 'application/json')
        .send({
          profiles: [
            { thirdPartyId: 'w2', attributes: { a: '1' } },
            { thirdPartyId: 'w2', attributes: { a: '2' } },
          ],
        });
      await waitForBatch(res.body.batchStatus);
      assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'w2' })).body), { a: '2' });
    });

    it('an empty cell never clears an attribute (batch CSV, form and JSON; single update)', async () => {
      await runBatch(t, 'batch=thirdPartyId,tier,city\ne1,gold,Paris\n');
      await runBatch(t, 'batch=thirdPartyId,tier,city\ne1,,Rome\n');
      await runBatch(t, 'batch=thirdPartyId,tier,city\ne1\n'); // a row that ends early
      await runBatch(t, 'thirdPartyId,tier,city\ne1,"",\n', { type: 'text/csv' });
      const res = await t.http
        .post(`/m2/${CLIENT}/v2/profile/batchUpdate`)
        .set('Accept', 'application/json')
        .send({ profiles: [{ thirdPartyId: 'e1', attributes: { tier: '', city: '' } }] });
      await waitForBatch(res.body.batchStatus);
      const single = await t.http.get(`/m2/${CLIENT}/profile/update?mbox3rdPartyId=e1&profile.tier=&profile.city=`);
      assert.equal(single.status, 200);
      assert.deepEqual(valuesOf((await fetchProfile(t, { thirdPartyId: 'e1' })).body), { tier: 'gold', city: 'Rome' });
    });

    it('an unchanged value keeps its modifiedAt', async () => {
      await runBatch(t, 'batch=thirdPartyId,tier,city\nm1,gold,Paris\n');
      const before = (await fetchProfile(t, { thirdPartyId: 'm1' })).body;
      t.clock.advance(5000);
      await runBatch(t, 'batch=thirdPartyId,tier,city\nm1,gold,Rome\n');
      const after = (await fetchProfile(t, { thirdPartyId: 'm1' })).body;
      assert.equal(after.profileAttributes.tier.modifiedAt, before.profileAttributes.tier.modifiedAt);
      assert.notEqual(after.profileAttributes.city.modifiedAt, before.profileAttributes.city.modifiedAt);
      assert.equal(after.modifiedAt, after.profileAttributes.city.modifiedAt);
    });
  });
}

describe('batchStatus (API.md 2.2)', () => {
  let t: TestApp;
  afterEach(async () => t.close());

  it('the batchStatus URL is absolute and works exactly as returned', async () => {
    t = await startApp();
    const { batchId, batchStatus } = await postBatch(t, 'batch=thirdPartyId,a\nu1,b\n');
    assert.match(batchId, /^acme-\d{13}-\d+$/);
    assert.equal(batchStatus, `${t.origin}/m2/acme/v2/profile/batchStatus?batchId=${batchId}`);
    const v1 = await postBatch(t, 'batch=thirdPartyId,a\nu1,c\n', { version: 'v1' });
    assert.equal(v1.batchStatus, `${t.origin}/m2/acme/profile/batchStatus?batchId=${v1.batchId}`);
    for (const url of [batchStatus, v1.batchStatus]) {
      await waitForBatch(url);
      const res = await fetch(url);
      assert.equal(res.status, 200);
      const id = new URL(url).searchParams.get('batchId');
      assert.equal(
        await res.text(),
        `<response><batchId>${id}</batchId><status>complete</status><batchSize>1</batchSize></response>`,
      );
    }
    // Batch ids grow.
    const [, , n1] = batchId.split('-');
    const [, , n2] = v1.batchId.split('-');
    assert.ok(Number(n2) > Number(n1));
  });

  it('works exactly as returned when the router is mounted under /api', async () => {
    t = await startApp({ mount: '/api' });
    const { batchId, batchStatus } = await postBatch(t, 'batch=thirdPartyId,a\nu1,b\n');
    assert.equal(batchStatus, `${t.origin}/api/m2/acme/v2/profile/batchStatus?batchId=${batchId}`);
    const status = await waitForBatch(batchStatus);
    assert.equal(status['status'], 'complete');
    assert.equal((await t.http.get(`/m2/acme/v2/profile/batchStatus?batchId=${batchId}`)).status, 404);
    assert.equal((await fetch(`${t.origin}/api/rest/v1/profiles/thirdPartyId/u1?client=acme`)).status, 200);
  });

  it('works when the router sits in a nested router under /api/v1', async () => {
    const store = new MemoryStore();
    const app = express();
    const outer = express.Router();
    outer.use(
      '/v1',
      profileApi({
        clients: [CLIENT],
        store,
        signingKeys: new KeyRing([generateSigningKey(Date.now())]),
        authenticateAdmin,
      }),
    );
    app.use('/api', outer);
    await store.putSettings(CLIENT, { requireAuthentication: false });
    const server = await listen(app);
    try {
      const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const res = await fetch(`${origin}/api/v1/m2/acme/v2/profile/batchUpdate`, {
        method: 'POST',
        headers: { 'Content-Type': FORM, Accept: 'application/json' },
        body: 'batch=thirdPartyId,a\nu1,b\n',
      });
      const body = (await res.json()) as { batchStatus: string; batchId: string };
      assert.equal(body.batchStatus, `${origin}/api/v1/m2/acme/v2/profile/batchStatus?batchId=${body.batchId}`);
      assert.equal((await waitForBatch(body.batchStatus))['status'], 'complete');
    } finally {
      await closeServer(server);
    }
  });

  it('an HTTP/1.0 request without Host still gets a working absolute URL', async () => {
    t = await startApp();
    const body = 'batch=thirdPartyId,a\nh10,b\n';
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(t.origin).port), '127.0.0.1', () => {
        socket.write(
          `POST /m2/${CLIENT}/v2/profile/batchUpdate HTTP/1.0\r\nContent-Type: ${FORM}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
      });
      const parts: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => parts.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
      socket.on('error', reject);
    });
    const url = /<batchStatus>([^<]+)<\/batchStatus>/.exec(answer)?.[1];
    assert.ok(url?.startsWith(`${t.origin}/m2/acme/v2/profile/batchStatus?batchId=`), answer);
    assert.equal((await waitForBatch(url!))['status'], 'complete');
  });

  it('ignores X-Forwarded-Host/-Proto unless the app trusts its proxy', async () => {
    t = await startApp();
    const res = await t.http
      .post(`/m2/${CLIENT}/v2/profile/batchUpdate`)
      .set('Content-Type', FORM)
      .set('Accept', 'application/json')
      .set('X-Forwarded-Host', 'profiles.example.com')
      .set('X-Forwarded-Proto', 'https')
      .send('batch=thirdPartyId,a\nu1,b\n');
    assert.equal(res.body.batchStatus, `${t.origin}/m2/acme/v2/profile/batchStatus?batchId=${res.body.batchId}`);
  });

  it("honours X-Forwarded-Host/-Proto when app.set('trust proxy', true)", async () => {
    t = await startApp({ trustProxy: true, mount: '/api' });
    const res = await t.http
      .post(`/api/m2/${CLIENT}/v2/profile/batchUpdate`)
      .set('Content-Type', FORM)
      .set('Accept', 'application/json')
      .set('X-Forwarded-Host', 'profiles.example.com')
      .set('X-Forwarded-Proto', 'https')
      .send('batch=thirdPartyId,a\nu1,b\n');
    const url = new URL(res.body.batchStatus);
    assert.equal(url.origin, 'https://profiles.example.com');
    assert.equal(url.pathname, '/api/m2/acme/v2/profile/batchStatus');
    // The proxy forwards the same path and query to us: it works.
    await waitForBatch(`${t.origin}${url.pathname}${url.search}`);
  });

  it('answers XML by default and with Accept */*, JSON with Accept: application/json; showDetails in both', async () => {
    t = await startApp();
    const { batchId, batchStatus } = await postBatch(t, 'batch=thirdPartyId,a\nu1,b\nu%2B2,c\n');
    await waitForBatch(batchStatus);
    const path = `/m2/${CLIENT}/v2/profile/batchStatus?batchId=${batchId}`;
    const plain = `<response><batchId>${batchId}</batchId><status>complete</status><batchSize>2</batchSize></response>`;
    for (const accept of [
      undefined,
      '*/*',
      'application/xml',
      'text/html',
      'application/xml, application/json;q=0.5',
    ]) {
      const req = t.http.get(path);
      if (accept) req.set('Accept', accept);
      const res = await req;
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'], /^application\/xml/, String(accept));
      assert.match(res.headers['vary'] ?? '', /Accept/);
      assert.equal(res.text, plain, String(accept));
    }
    for (const accept of ['application/json', 'application/json, application/xml;q=0.9']) {
      const json = await t.http.get(path).set('Accept', accept);
      assert.match(json.headers['content-type'], /^application\/json/);
      assert.deepEqual(json.body, { batchId, status: 'complete', batchSize: 2 });
    }
    const detailed = await t.http.get(`${path}&showDetails=true`).set('Accept', 'application/json');
    assert.deepEqual(detailed.body, {
      batchId,
      status: 'complete',
      batchSize: 2,
      consumedCount: 2,
      successfulUpdates: 1,
      profilesNotFound: 0,
      failedUpdates: 1,
      profiles: [{ id: 'u+2', status: 'failed', message: 'Line 3: thirdPartyId must not contain "+" or "/"' }],
    });
    assert.deepEqual(Object.keys(detailed.body), [
      'batchId',
      'status',
      'batchSize',
      'consumedCount',
      'successfulUpdates',
      'profilesNotFound',
      'failedUpdates',
      'profiles',
    ]);
    const xml = await t.http.get(`${path}&showDetails=true`);
    assert.equal(
      xml.text,
      `<response><batchId>${batchId}</batchId><status>complete</status><batchSize>2</batchSize><consumedCount>2</consumedCount>` +
        '<successfulUpdates>1</successfulUpdates><profilesNotFound>0</profilesNotFound><failedUpdates>1</failedUpdates>' +
        '<profile><id>u+2</id><status>failed</status><message>Line 3: thirdPartyId must not contain "+" or "/"</message></profile></response>',
    );
    // showDetails=false (or anything but "true") is the short form.
    assert.equal((await t.http.get(`${path}&showDetails=false`)).text, plain);
  });

  it('showDetails of a batch without failures has an empty profiles array (JSON) and no <profile> (XML)', async () => {
    t = await startApp();
    const { batchId, batchStatus } = await postBatch(t, 'batch=thirdPartyId,a\nu1,b\n');
    await waitForBatch(batchStatus);
    const path = `/m2/${CLIENT}/v2/profile/batchStatus?batchId=${batchId}&showDetails=true`;
    const json = await t.http.get(path).set('Accept', 'application/json');
    assert.deepEqual(json.body.profiles, []);
    const xml = await t.http.get(path);
    assert.ok(xml.text.endsWith('<failedUpdates>0</failedUpdates></response>'), xml.text);
  });

  it('a batch the store cannot apply reads `stuck` with a message; nothing of it is stored', async () => {
    const store = new MemoryStore();
    const real = store.applyBatch.bind(store);
    let fail = true;
    store.applyBatch = (client, batchId, rows, options) => {
      if (fail) return Promise.reject(new Error('disk full'));
      return real(client, batchId, rows, options);
    };
    t = await startApp({ store });
    const { batchId, batchStatus } = await postBatch(t, 'batch=thirdPartyId,a\nst1,b\n');
    const status = await waitForBatch(batchStatus, { details: true });
    assert.equal(status['status'], 'stuck');
    assert.match(status['message'] as string, /could not be applied; nothing of it was stored/);
    assert.equal((await fetchProfile(t, { thirdPartyId: 'st1' })).status, 404);
    const xml = await t.http.get(`/m2/${CLIENT}/v2/profile/batchStatus?batchId=${batchId}`);
    assert.match(
      xml.text,
      /^<response><batchId>[^<]+<\/batchId><status>stuck<\/status><batchSize>1<\/batchSize><message>[^<]+<\/message><\/response>$/,
    );
    // The cause goes to onError, never to the client.
    assert.equal(t.errors.length, 1);
    assert.match(String(t.errors[0]), /disk full/);
    assert.ok(!xml.text.includes('disk full'));
    fail = false;
    const retry = await runBatch(t, 'batch=thirdPartyId,a\nst1,b\n');
    assert.equal(retry['status'], 'complete');
  });

  it('unknown batch: 404; a batch of another client: 404; missing batchId: 400', async () => {
    t = await startApp();
    const { batchId } = await postBatch(t, 'batch=thirdPartyId,a\nu1,b\n', { client: OTHER_CLIENT });
    for (const id of ['acme-1-1', batchId, 'x'.repeat(300)]) {
      const res = await t.http.get(`/m2/${CLIENT}/v2/profile/batchStatus?batchId=${id}`);
      assert.equal(res.status, 404);
      assert.match(
        res.text,
        /^<response><success>false<\/success><message>No batch .* for client acme<\/message><\/response>$/,
      );
    }
    const json = await t.http.get(`/m2/${CLIENT}/profile/batchStatus?batchId=nope`).set('Accept', 'application/json');
    assert.deepEqual(json.body, { success: false, message: 'No batch nope for client acme' });
    for (const query of ['', '?batchId=', '?showDetails=true', '?batchid=acme-1-1']) {
      const res = await t.http.get(`/m2/${CLIENT}/v2/profile/batchStatus${query}`);
      assert.equal(res.status, 400, query);
      assert.match(res.text, /batchStatus\?batchId=ID/);
    }
  });
});
