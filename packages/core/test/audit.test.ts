import { storableText } from '../src/storable-text';
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { ANONYMOUS_ACTOR, AuditLog, MAX_AUDIT_LIMIT, looksLikeJwt } from '../src/audit';
import { ValidationError } from '../src/errors';
import { MemoryStore } from '../src/store/memory';
import { KeyRing, generateSigningKey } from '../src/tokens/keys';
import { TokenService } from '../src/tokens/service';

const START = Date.UTC(2026, 10, 22, 10, 0, 0);

describe('AuditLog', () => {
  describe('record and list', () => {
    it('appends events at the clock time, listed newest first', async () => {
      let now = START;
      const store = new MemoryStore();
      const log = new AuditLog({ store, clock: () => now });
      await log.record('demo', 'ops', 'settings.changed', { requireAuthentication: false });
      now += 1000;
      await log.record('demo', 'ops', 'token.revoked', { hadToken: false });
      await log.record('other', 'ops', 'token.revoked', { hadToken: true });
      assert.deepEqual(await log.list('demo', 10), [
        { at: START + 1000, actor: 'ops', action: 'token.revoked', details: { hadToken: false } },
        { at: START, actor: 'ops', action: 'settings.changed', details: { requireAuthentication: false } },
      ]);
      assert.equal((await log.list('demo', 1)).length, 1);
    });

    for (const limit of [0, -1, 1.5, Number.NaN, MAX_AUDIT_LIMIT + 1]) {
      it(`list refuses limit ${limit} with a ValidationError naming the range`, async () => {
        const log = new AuditLog({ store: new MemoryStore() });
        await assert.rejects(log.list('demo', limit), (error: unknown) => {
          assert.ok(error instanceof ValidationError);
          assert.match(error.message, /from 1 to 1000/);
          return true;
        });
      });
    }

    it('masks a real token anywhere in the details or the actor id, and still writes the event', async () => {
      const store = new MemoryStore();
      const service = new TokenService({ store, keys: new KeyRing([generateSigningKey(START)]) });
      const { accessToken } = await service.generate('demo', { actor: 'ops' });
      service.dispose();
      const log = new AuditLog({ store });
      const before = (await log.list('demo', 100)).length;
      const masked = `${accessToken.slice(0, 6)}…${accessToken.slice(-4)}`;
      const leaks: Array<Record<string, unknown>> = [
        { token: accessToken },
        { nested: { deeper: [1, `Bearer ${accessToken}`] } },
        { [accessToken]: true },
        { note: `old token was ${accessToken.slice(0, 60)}...${accessToken.slice(-10)}` },
      ];
      for (const details of leaks) await log.record('demo', 'ops', 'token.generated', details);
      await log.record('demo', accessToken, 'token.revoked', {});
      const events = await log.list('demo', 100);
      assert.equal(events.length, before + leaks.length + 1);
      const text = JSON.stringify(events);
      for (const part of accessToken.split('.')) assert.ok(!text.includes(part), 'a token part was stored');
      assert.equal(events[0]?.actor, masked);
      assert.deepEqual(events[4]?.details, { token: masked });
      assert.deepEqual(events[2]?.details, { [masked]: true });
    });

    it('tells JWT-shaped text from ordinary dotted text', () => {
      for (const text of [
        'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abc',
        'eyJhbGciOiJub25lIn0.e30.',
        `${'a'.repeat(20)}.${'b'.repeat(20)}.${'c'.repeat(20)}`,
      ]) {
        assert.equal(looksLikeJwt(text), true, text);
      }
      for (const text of [
        '1.2.3',
        'api.example.com',
        'token.generated',
        'a.b.c',
        '2026-11-22T10:00:00.000Z',
        'jti: abcdefgh',
      ]) {
        assert.equal(looksLikeJwt(text), false, text);
      }
    });

    it('refuses details that are not plain JSON', async () => {
      const log = new AuditLog({ store: new MemoryStore() });
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      await assert.rejects(log.record('demo', 'ops', 'settings.changed', cycle), /plain JSON/);
      await assert.rejects(log.record('demo', 'ops', 'settings.changed', { n: 1n }), /plain JSON/);
    });
  });

  describe('denials', () => {
    let timers: sinon.SinonFakeTimers;
    beforeEach(() => {
      timers = sinon.useFakeTimers({ now: START, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    });
    afterEach(() => timers.restore());

    function newLog(store = new MemoryStore()) {
      return { store, log: new AuditLog({ store, clock: () => Date.now(), denialSampleMs: 60_000 }) };
    }

    it('writes the first denial at once and sums the rest of the window into one event', async () => {
      const { store, log } = newLog();
      log.recordDenial('demo', 'missing');
      await timers.tickAsync(0);
      assert.deepEqual(await store.listAudit('demo', 10), [
        {
          at: START,
          actor: ANONYMOUS_ACTOR,
          action: 'auth.denied',
          details: { count: 1, reasons: { missing: 1 }, since: new Date(START).toISOString() },
        },
      ]);
      for (let i = 0; i < 7; i++) {
        await timers.tickAsync(1000);
        log.recordDenial('demo', i % 2 ? 'expired' : 'bad_signature');
      }
      assert.equal((await store.listAudit('demo', 10)).length, 1, 'nothing more inside the window');
      await timers.tickAsync(60_000 - 7000 - 1);
      assert.equal((await store.listAudit('demo', 10)).length, 1);
      await timers.tickAsync(1);
      const [latest] = await store.listAudit('demo', 10);
      assert.deepEqual(latest, {
        at: START + 60_000,
        actor: ANONYMOUS_ACTOR,
        action: 'auth.denied',
        details: { count: 7, reasons: { bad_signature: 4, expired: 3 }, since: new Date(START + 1000).toISOString() },
      });
    });

    it('writes at most one event per client per window under a steady stream, and counts every denial', async () => {
      const { store, log } = newLog();
      const minutes = 5;
      for (let ms = 0; ms < minutes * 60_000; ms += 100) {
        log.recordDenial('demo', 'revoked');
        if (ms % 1000 === 0) log.recordDenial('other', 'wrong_client');
        await timers.tickAsync(100);
      }
      await log.flush();
      for (const [client, perMinute] of [
        ['demo', 600],
        ['other', 60],
      ] as const) {
        const events = await store.listAudit(client, 100);
        const times = events.map((e) => e.at).reverse();
        for (let i = 1; i < times.length; i++)
          assert.ok((times[i] as number) - (times[i - 1] as number) >= 60_000 || i === times.length - 1);
        assert.ok(events.length <= minutes + 1, `${client}: ${events.length} events`);
        assert.equal(
          events.reduce((sum, e) => sum + (e.details.count as number), 0),
          perMinute * minutes,
        );
      }
    });

    it('flush writes pending counts at once and cancels the timer', async () => {
      const { store, log } = newLog();
      log.recordDenial('demo', 'missing');
      log.recordDenial('demo', 'missing');
      log.recordDenial('demo', 'malformed');
      await log.flush();
      const events = await store.listAudit('demo', 10);
      assert.deepEqual(
        events.map((e) => e.details.count),
        [2, 1],
      );
      assert.deepEqual(events[0]?.details.reasons, { missing: 1, malformed: 1 });
      await timers.tickAsync(120_000);
      assert.equal((await store.listAudit('demo', 10)).length, 2, 'nothing left to write');
    });

    it('sanitizes and caps reason keys', async () => {
      const { store, log } = newLog();
      log.recordDenial('demo', 'x');
      for (let i = 0; i < 40; i++) log.recordDenial('demo', `reason-${i}`);
      log.recordDenial('demo', 'a"b c'.padEnd(100, 'z'));
      await log.flush();
      const [latest] = await store.listAudit('demo', 1);
      const reasons = latest?.details.reasons as Record<string, number>;
      assert.ok(Object.keys(reasons).length <= 33);
      assert.equal(reasons.other, 9);
      assert.equal(latest?.details.count, 41);
    });

    it('never throws on the request path when the store fails; flush reports the failure once', async () => {
      const { store, log } = newLog();
      sinon.stub(store, 'appendAudit').rejects(new Error('disk full'));
      assert.doesNotThrow(() => log.recordDenial('demo', 'missing'));
      await assert.rejects(log.flush(), /disk full/);
      await log.flush();
    });
  });
});

describe('storableText', () => {
  it('replaces NUL and lone surrogates (which PostgreSQL refuses) and keeps everything else', () => {
    assert.equal(storableText('a\u0000b'), 'a\uFFFDb');
    assert.equal(storableText('\uD800lone'), '\uFFFDlone');
    assert.equal(storableText('tail\uDC00'), 'tail\uFFFD');
    assert.equal(storableText('pair 😀 \u0001 ok'), 'pair 😀 \u0001 ok');
  });
});
