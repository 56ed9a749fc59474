/** API.md 5: `GET /:client/target/profiles/export` (issue 19). */
import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { Profile, Store } from '@profilegate/core';
import { MemoryStore } from '@profilegate/core';
import {
  ACTOR_IDS,
  AUDIT_PATH,
  CLIENT,
  OTHER_CLIENT,
  adminAuth,
  seedProfiles,
  startApp,
  type AdminWho,
  type TestApp,
} from './helpers';

const EXPORT = (query: string, client = CLIENT) => `/${client}/target/profiles/export${query}`;

async function exportedEvents(t: TestApp): Promise<Array<Record<string, unknown>>> {
  const res = await t.http.get(AUDIT_PATH(CLIENT)).set('Authorization', adminAuth('observer'));
  assert.equal(res.status, 200);
  return (res.body.events as Array<Record<string, unknown>>).filter((e) => e['action'] === 'profiles.exported');
}

function adminErrorCode(body: Record<string, unknown>): string {
  const errors = body['errors'] as Array<{ errorCode: string; message: string }>;
  assert.equal(typeof body['httpStatus'], 'number');
  return errors[0]!.errorCode;
}

describe('GET /:client/target/profiles/export (API.md 5)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp({ requireAuth: false });
    await seedProfiles(t.store);
    await seedProfiles(t.store, OTHER_CLIENT);
  });
  afterEach(async () => t.close());

  for (const who of ['admin', 'sysadmin', 'workspaceAdmin'] as const) {
    it(`lets ${who} export`, async () => {
      const res = await t.http.get(EXPORT('?format=ndjson')).set('Authorization', adminAuth(who));
      assert.equal(res.status, 200, res.text);
    });
  }

  for (const who of ['observer', 'editor', 'approver', 'publisher', 'workspaceEditor'] as AdminWho[]) {
    it(`refuses ${who} with 403 in the admin error shape`, async () => {
      const res = await t.http.get(EXPORT('?format=csv')).set('Authorization', adminAuth(who));
      assert.equal(res.status, 403);
      assert.equal(adminErrorCode(res.body), 'Forbidden');
      assert.match(res.body.errors[0].message, /Exporting the profiles needs the admin role/);
    });
  }

  it('answers 401 without an admin key and 404 for an unknown client', async () => {
    assert.equal((await t.http.get(EXPORT('?format=csv'))).status, 401);
    const unknown = await t.http.get(EXPORT('?format=csv', 'nope')).set('Authorization', adminAuth());
    assert.equal(unknown.status, 404);
  });

  for (const query of ['', '?format=xml', '?format=CSV', '?format=csv&key=ecid', '?format=csv&format=ndjson']) {
    it(`answers 400 in the admin error shape to "${query}"`, async () => {
      const res = await t.http.get(EXPORT(query)).set('Authorization', adminAuth());
      assert.equal(res.status, 400, res.text);
      assert.equal(adminErrorCode(res.body), 'InvalidRequest');
    });
  }

  it('ndjson: one line per profile of the client, each the fetch route’s answer', async () => {
    const res = await t.http.get(EXPORT('?format=ndjson')).set('Authorization', adminAuth()).buffer(true);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] as string, /^application\/x-ndjson/);
    assert.match(res.headers['content-disposition'] as string, /attachment; filename="acme-profiles\.ndjson"/);
    assert.ok(res.text.endsWith('\n'));
    const lines = res.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2);
    for (const line of lines) {
      const fetched = await t.http.get(`/rest/v1/profiles/${String(line['visitorId'])}?client=${CLIENT}`);
      assert.deepEqual(line, fetched.body);
    }
  });

  it('csv: the key column then every attribute name, one row per profile, quoted as RFC 4180 asks', async () => {
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'pcId', id: 'pc-2' }, attributes: { 'say, "hi"': 'a "b"\r\nc', ' lead': 'x' } },
      { createMissing: true, now: Date.now() },
    );
    const res = await t.http.get(EXPORT('?format=csv')).set('Authorization', adminAuth()).buffer(true);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] as string, /^text\/csv/);
    const u1 = (await t.store.getProfile(CLIENT, { kind: 'thirdPartyId', id: 'u1' }))!.pcId;
    const rows = ['pc-1,,,bronze', 'pc-2,x,"a ""b""\r\nc",', `${u1},,,silver`].sort();
    assert.equal(res.text, `pcId,profile. lead,"say, ""hi""",tier\r\n${rows.join('\r\n')}\r\n`);
  });

  it('csv with key=thirdPartyId: only the profiles that have one', async () => {
    const res = await t.http.get(EXPORT('?format=csv&key=thirdPartyId')).set('Authorization', adminAuth());
    assert.equal(res.text, 'thirdPartyId,tier\r\nu1,silver\r\n');
  });

  it('csv: 409 when an attribute name ends with a space (a batch header cannot carry it)', async () => {
    await t.store.updateProfile(
      CLIENT,
      { key: { kind: 'pcId', id: 'pc-3' }, attributes: { 'trail ': 'x' } },
      { createMissing: true, now: Date.now() },
    );
    const res = await t.http.get(EXPORT('?format=csv')).set('Authorization', adminAuth());
    assert.equal(res.status, 409);
    assert.equal(adminErrorCode(res.body), 'ExportNotPossible');
    assert.equal((await t.http.get(EXPORT('?format=ndjson')).set('Authorization', adminAuth())).status, 200);
  });

  it('HEAD answers the headers without reading the profiles or auditing an export', async () => {
    const res = await t.http.head(EXPORT('?format=csv')).set('Authorization', adminAuth());
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] as string, /^text\/csv/);
    assert.deepEqual(await exportedEvents(t), []);
  });

  it('audits profiles.exported with the actor, format, key and count', async () => {
    await t.http.get(EXPORT('?format=csv&key=thirdPartyId')).set('Authorization', adminAuth('sysadmin'));
    const [event] = await exportedEvents(t);
    assert.equal(event!['actor'], ACTOR_IDS.sysadmin);
    assert.deepEqual(event!['details'], { format: 'csv', key: 'thirdPartyId', count: 1, complete: true });
  });
});

/** A memory store that counts the export pages read. */
class CountingStore extends MemoryStore {
  pagesRead = 0;
  override async *exportProfiles(client: string, pageSize?: number): AsyncIterable<Profile[]> {
    for await (const page of super.exportProfiles(client, pageSize)) {
      this.pagesRead++;
      yield page;
    }
  }
}

describe('GET /:client/target/profiles/export: a client that stops reading', () => {
  it('waits for the client (backpressure) and stops reading the store when it goes away', async function () {
    this.timeout(30_000);
    const store = new CountingStore();
    const big = 'v'.repeat(4000);
    for (let i = 0; i < 3000; i++) {
      await store.updateProfile(
        CLIENT,
        { key: { kind: 'pcId', id: `pc-${i}` }, attributes: { big } },
        { createMissing: true, now: Date.now() },
      );
    }
    const t = await startApp({ requireAuth: false, store: store as Store });
    try {
      // 3,000 profiles of 4 KB are 6 pages of 500 in each pass (names, then rows); about 12 MB of CSV.
      await new Promise<void>((resolve, reject) => {
        const req = http.get(
          `${t.origin}${EXPORT('?format=csv')}`,
          { headers: { Authorization: adminAuth() } },
          (res) => {
            res.once('data', () => {
              res.pause(); // stop reading: the server's writes fill the socket and must wait
              setTimeout(() => {
                req.destroy();
                resolve();
              }, 200);
            });
          },
        );
        req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolve() : reject(error)));
      });
      let events: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 500 && events.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        events = await exportedEvents(t);
      }
      assert.equal(events.length, 1);
      const details = events[0]!['details'] as Record<string, unknown>;
      assert.equal(details['complete'], false);
      assert.ok((details['count'] as number) < 3000, `count ${String(details['count'])}`);
      assert.ok(store.pagesRead < 12, `read ${store.pagesRead} pages of 12`);
    } finally {
      await t.close();
    }
  });
});

/** A memory store whose export fails after its first page. */
class FailingStore extends MemoryStore {
  override async *exportProfiles(client: string, pageSize?: number): AsyncIterable<Profile[]> {
    for await (const page of super.exportProfiles(client, pageSize)) {
      yield page;
      throw new Error('disk gone');
    }
  }
}

describe('GET /:client/target/profiles/export: a store that fails part-way', () => {
  it('cuts the response short (never a complete-looking body), reports the error and audits it as incomplete', async () => {
    const store = new FailingStore();
    for (let i = 0; i < 600; i++) {
      await store.updateProfile(
        CLIENT,
        { key: { kind: 'pcId', id: `pc-${i}` }, attributes: { n: String(i) } },
        { createMissing: true, now: Date.now() },
      );
    }
    const t = await startApp({ requireAuth: false, store: store as Store });
    try {
      const outcome = await new Promise<string>((resolve) => {
        const req = http.get(
          `${t.origin}${EXPORT('?format=ndjson')}`,
          { headers: { Authorization: adminAuth() } },
          (res) => {
            res.on('data', () => undefined);
            res.on('end', () => resolve('ended'));
            res.on('error', () => resolve('cut'));
            res.on('aborted', () => resolve('cut'));
          },
        );
        req.on('error', () => resolve('cut'));
      });
      assert.equal(outcome, 'cut');
      let events: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 500 && events.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        events = await exportedEvents(t);
      }
      assert.deepEqual(events[0]!['details'], { format: 'ndjson', key: 'pcId', count: 500, complete: false });
      assert.match(String(t.errors[0]), /disk gone/);
    } finally {
      await t.close();
    }
  });
});
