import assert from 'node:assert/strict';
import sinon from 'sinon';
import * as ids from '../src/profiles/ids';
import { describeProfileDeletion } from './store-conformance-delete';
import { describeAttributeRemoval } from './store-conformance-remove';
import { describeProfileExport } from './store-conformance-export';
import { describeMarketingCloudVisitorIds } from './store-conformance-ecid';
import { describeRetention } from './store-conformance-retention';
import { describeTextRule } from './store-conformance-text';
import type {
  AuditEvent,
  BatchRow,
  BatchRows,
  SigningKeyRecord,
  Store,
  StoreChange,
  TokenRecord,
} from '../src/store/types';

/** How the suite gets a fresh, empty store; `reopen` (durable stores) opens the same data again. */
export interface StoreHarness {
  create(): Promise<Store>;
  reopen?(store: Store): Promise<Store>;
  cleanup?(): Promise<void>;
}

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);

function row(kind: 'pcId' | 'thirdPartyId', id: string, attributes: Record<string, string>): BatchRow {
  return { key: { kind, id }, attributes };
}

/** The rows in chunks of `size`, as a store reads them: from the start at every call. */
function chunks(rows: BatchRow[], size = 2): BatchRows {
  return async function* () {
    for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
  };
}

/** Batch rows that stop after `first` until `release()`: `taken` resolves once `first` is read. */
function gatedRows(first: BatchRow, last: BatchRow) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let firstChunkTaken!: () => void;
  const taken = new Promise<void>((resolve) => (firstChunkTaken = resolve));
  async function* slow(): AsyncIterable<BatchRow[]> {
    yield [first];
    firstChunkTaken();
    await gate;
    yield [last];
  }
  return { slow, taken, release };
}

function tokenRecord(jti: string, createdAt = NOW): TokenRecord {
  return { jti, kid: 'k1', createdAt, expiresAt: createdAt + 90 * 86_400_000, createdBy: 'ops' };
}

/** The behaviour every Store implementation must have. */
export function describeStoreConformance(name: string, harness: StoreHarness): void {
  describe(`Store conformance: ${name}`, function () {
    this.timeout(20_000);
    let store: Store;

    beforeEach(async () => {
      store = await harness.create();
    });
    afterEach(async () => {
      await store.close();
    });
    after(async () => {
      await harness.cleanup?.();
    });

    describe('profiles', () => {
      it('returns null for an unknown profile', async () => {
        assert.equal(await store.getProfile('acme', { kind: 'pcId', id: 'nope' }), null);
        assert.equal(await store.getProfile('acme', { kind: 'thirdPartyId', id: 'nope' }), null);
      });

      it('does not create a profile unless asked to', async () => {
        const outcome = await store.updateProfile('acme', row('pcId', 'p1', { a: '1' }), {
          createMissing: false,
          now: NOW,
        });
        assert.deepEqual(outcome, { status: 'notFound' });
        assert.equal(await store.getProfile('acme', { kind: 'pcId', id: 'p1' }), null);
      });

      it('creates a profile by pcId and reads it back with per-attribute times', async () => {
        const outcome = await store.updateProfile('acme', row('pcId', 'p1', { tier: 'gold' }), {
          createMissing: true,
          now: NOW,
        });
        assert.equal(outcome.status, 'updated');
        const profile = await store.getProfile('acme', { kind: 'pcId', id: 'p1' });
        assert.equal(profile?.pcId, 'p1');
        assert.equal(profile?.thirdPartyId, undefined);
        assert.deepEqual({ ...profile?.attributes }, { tier: { value: 'gold', modifiedAt: NOW } });
        assert.equal(profile?.modifiedAt, NOW);
      });

      it('creates a thirdPartyId profile with a new pcId linked to it', async () => {
        const outcome = await store.updateProfile('acme', row('thirdPartyId', 'u1', { tier: 'gold' }), {
          createMissing: true,
          now: NOW,
        });
        assert.equal(outcome.status, 'updated');
        const byThirdParty = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' });
        assert.ok(byThirdParty);
        assert.equal(byThirdParty.thirdPartyId, 'u1');
        assert.notEqual(byThirdParty.pcId, 'u1');
        const byPcId = await store.getProfile('acme', { kind: 'pcId', id: byThirdParty.pcId });
        assert.equal(byPcId?.thirdPartyId, 'u1');
      });

      it('merges: empty values never clear, unchanged values keep their time', async () => {
        await store.updateProfile('acme', row('pcId', 'p1', { a: '1', b: '2' }), { createMissing: true, now: NOW });
        await store.updateProfile('acme', row('pcId', 'p1', { a: '', b: '2', c: '3' }), {
          createMissing: false,
          now: NOW + 1000,
        });
        const profile = await store.getProfile('acme', { kind: 'pcId', id: 'p1' });
        assert.deepEqual(
          { ...profile?.attributes },
          {
            a: { value: '1', modifiedAt: NOW },
            b: { value: '2', modifiedAt: NOW },
            c: { value: '3', modifiedAt: NOW + 1000 },
          },
        );
        assert.equal(profile?.modifiedAt, NOW + 1000);
      });

      it('refuses an update that would take a profile over 64 KiB and keeps it unchanged', async () => {
        await store.updateProfile('acme', row('pcId', 'p1', { a: 'x'.repeat(5000) }), {
          createMissing: true,
          now: NOW,
        });
        const big: Record<string, string> = {};
        for (let i = 0; i < 13; i++) big[`n${i}`] = 'y'.repeat(5000);
        const outcome = await store.updateProfile('acme', row('pcId', 'p1', big), { createMissing: false, now: NOW });
        assert.equal(outcome.status, 'rejected');
        assert.match((outcome as { message: string }).message, /65536/);
        const profile = await store.getProfile('acme', { kind: 'pcId', id: 'p1' });
        assert.deepEqual(Object.keys(profile!.attributes), ['a']);
      });

      it('keeps clients apart', async () => {
        await store.updateProfile('acme', row('thirdPartyId', 'u1', { a: '1' }), { createMissing: true, now: NOW });
        assert.equal(await store.getProfile('other', { kind: 'thirdPartyId', id: 'u1' }), null);
      });

      it('stores names that are special in JavaScript as plain attributes', async () => {
        await store.updateProfile('acme', row('pcId', 'p1', { toString: 'x', hasOwnProperty: 'y' }), {
          createMissing: true,
          now: NOW,
        });
        const profile = await store.getProfile('acme', { kind: 'pcId', id: 'p1' });
        assert.equal(profile?.attributes['toString']?.value, 'x');
        assert.equal(profile?.attributes['hasOwnProperty']?.value, 'y');
      });
    });

    describe('batches', () => {
      const newBatch = (version: 'v1' | 'v2', batchSize: number) => ({
        client: 'acme',
        version,
        batchSize,
        parseFailures: [],
        parseFailedCount: 0,
        now: NOW,
      });

      it('creates batches as incomplete with ids in the contract shape', async () => {
        const a = await store.createBatch(newBatch('v2', 3));
        const b = await store.createBatch(newBatch('v2', 3));
        assert.match(a.batchId, new RegExp(`^acme-${NOW}-\\d+$`));
        assert.notEqual(a.batchId, b.batchId);
        assert.equal(a.status, 'incomplete');
        assert.deepEqual(await store.getBatch('acme', a.batchId), a);
        assert.equal(await store.getBatch('other', a.batchId), null);
      });

      it('v2 creates missing profiles; a later row for the same profile wins', async () => {
        const batch = await store.createBatch(newBatch('v2', 3));
        const done = await store.applyBatch(
          'acme',
          batch.batchId,
          chunks([
            row('thirdPartyId', 'u1', { tier: 'silver', city: 'Oslo' }),
            row('pcId', 'p9', { tier: 'bronze' }),
            row('thirdPartyId', 'u1', { tier: 'gold' }),
          ]),
          { createMissing: true, now: NOW },
        );
        assert.equal(done.status, 'complete');
        assert.equal(done.successfulUpdates, 3);
        assert.equal(done.consumedCount, 3);
        assert.deepEqual(await store.getBatch('acme', batch.batchId), done);
        const u1 = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' });
        assert.equal(u1?.attributes['tier']?.value, 'gold');
        assert.equal(u1?.attributes['city']?.value, 'Oslo');
        assert.ok(await store.getProfile('acme', { kind: 'pcId', id: 'p9' }));
      });

      it('v1 updates existing profiles only and counts the others as not found', async () => {
        await store.updateProfile('acme', row('pcId', 'p1', { a: '1' }), { createMissing: true, now: NOW });
        const batch = await store.createBatch(newBatch('v1', 2));
        const done = await store.applyBatch(
          'acme',
          batch.batchId,
          chunks([row('pcId', 'p1', { a: '2' }), row('pcId', 'p2', { a: '2' })]),
          { createMissing: false, now: NOW },
        );
        assert.equal(done.successfulUpdates, 1);
        assert.equal(done.profilesNotFound, 1);
        assert.equal(done.failedUpdates, 0);
        assert.equal(await store.getProfile('acme', { kind: 'pcId', id: 'p2' }), null);
      });

      it('keeps parse failures and adds rows refused while applying', async () => {
        const batch = await store.createBatch({
          ...newBatch('v2', 3),
          parseFailures: [{ id: 'bad+id', message: 'thirdPartyId must not contain "+" or "/"' }],
          parseFailedCount: 1,
        });
        const big: Record<string, string> = {};
        for (let i = 0; i < 14; i++) big[`n${i}`] = 'y'.repeat(5000);
        const done = await store.applyBatch(
          'acme',
          batch.batchId,
          chunks([row('pcId', 'p1', { a: '1' }), row('pcId', 'p2', big)]),
          { createMissing: true, now: NOW },
        );
        assert.equal(done.failedUpdates, 2);
        assert.equal(done.successfulUpdates, 1);
        assert.equal(done.consumedCount, 3);
        assert.deepEqual(
          done.failures.map((f) => f.id),
          ['bad+id', 'p2'],
        );
        assert.equal(await store.getProfile('acme', { kind: 'pcId', id: 'p2' }), null);
      });

      it('lists at most 1,000 failed rows but counts them all', async () => {
        const batch = await store.createBatch(newBatch('v1', 1500));
        const rows = Array.from({ length: 1500 }, (_, i) => row('pcId', `missing${i}`, { a: '1' }));
        const big: Record<string, string> = {};
        for (let i = 0; i < 14; i++) big[`n${i}`] = 'y'.repeat(5000);
        const created = rows.map((r) => ({ ...r, attributes: big }));
        const done = await store.applyBatch('acme', batch.batchId, chunks(created, 500), {
          createMissing: true,
          now: NOW,
        });
        assert.equal(done.failedUpdates, 1500);
        assert.equal(done.failures.length, 1000);
      });

      it('applies a batch atomically: a failure part-way stores nothing of it', async () => {
        await store.updateProfile('acme', row('pcId', 'p1', { a: 'before' }), { createMissing: true, now: NOW });
        const batch = await store.createBatch(newBatch('v2', 4));
        async function* failing(): AsyncIterable<BatchRow[]> {
          yield [row('pcId', 'p1', { a: 'after' }), row('pcId', 'p2', { a: 'new' })];
          throw new Error('disk on fire');
        }
        await assert.rejects(
          store.applyBatch('acme', batch.batchId, failing, { createMissing: true, now: NOW }),
          /disk on fire/,
        );
        assert.equal((await store.getProfile('acme', { kind: 'pcId', id: 'p1' }))?.attributes['a']?.value, 'before');
        assert.equal(await store.getProfile('acme', { kind: 'pcId', id: 'p2' }), null);
        assert.equal((await store.getBatch('acme', batch.batchId))?.status, 'incomplete');
        await store.markBatchStuck('acme', batch.batchId, 'disk on fire');
        const stuck = await store.getBatch('acme', batch.batchId);
        assert.equal(stuck?.status, 'stuck');
        assert.equal(stuck?.message, 'disk on fire');
      });

      it('answers reads with the last committed state while a batch is being applied', async () => {
        await store.updateProfile('acme', row('pcId', 'p1', { a: 'before' }), { createMissing: true, now: NOW });
        const batch = await store.createBatch(newBatch('v2', 2));
        const { slow, taken, release } = gatedRows(row('pcId', 'p1', { a: 'after' }), row('pcId', 'p2', { a: 'new' }));
        const applying = store.applyBatch('acme', batch.batchId, slow, { createMissing: true, now: NOW });
        await taken;
        const during = await store.getProfile('acme', { kind: 'pcId', id: 'p1' });
        assert.equal(during?.attributes['a']?.value, 'before');
        assert.equal((await store.getBatch('acme', batch.batchId))?.status, 'incomplete');
        release();
        await applying;
        assert.equal((await store.getProfile('acme', { kind: 'pcId', id: 'p1' }))?.attributes['a']?.value, 'after');
      });

      it('commits admin writes and their audit while a batch is being applied (issue 14.1)', async () => {
        const batch = await store.createBatch(newBatch('v2', 2));
        const { slow, taken, release } = gatedRows(
          row('thirdPartyId', 'first', { a: '1' }),
          row('thirdPartyId', 'last', { a: '2' }),
        );
        const applying = store.applyBatch('acme', batch.batchId, slow, { createMissing: true, now: NOW });
        await taken;
        // A store whose admin writes queue behind the batch never settles these before release().
        const event = { at: NOW, actor: 'ops', action: 'token.generated' as const, details: {} };
        await store.replaceToken('acme', tokenRecord('t1'), null, NOW, event);
        await store.putSettings('acme', { requireAuthentication: false });
        assert.equal(await store.revokeTokens('acme'), true);
        await store.appendAudit('acme', { ...event, action: 'token.revoked' });
        assert.equal((await store.getBatch('acme', batch.batchId))?.status, 'incomplete');
        release();
        assert.equal((await applying).status, 'complete');
        assert.deepEqual(await store.getSettings('acme'), { requireAuthentication: false, profileRetentionDays: null });
        assert.equal((await store.listAudit('acme', 10)).length, 2);
      });

      it('refuses to apply a batch twice', async () => {
        const batch = await store.createBatch(newBatch('v2', 1));
        await store.applyBatch('acme', batch.batchId, chunks([row('pcId', 'p1', { a: '1' })]), {
          createMissing: true,
          now: NOW,
        });
        await assert.rejects(
          store.applyBatch('acme', batch.batchId, chunks([row('pcId', 'p1', { a: '2' })]), {
            createMissing: true,
            now: NOW,
          }),
          /already complete/,
        );
      });

      it('recovery leaves alone a batch this store created and has not applied yet', async () => {
        const batch = await store.createBatch(newBatch('v2', 1));
        assert.equal(await store.recoverIncompleteBatches(), 0);
        assert.equal((await store.getBatch('acme', batch.batchId))?.status, 'incomplete');
        const done = await store.applyBatch('acme', batch.batchId, chunks([row('pcId', 'p1', { a: '1' })]), {
          createMissing: true,
          now: NOW,
        });
        assert.equal(done.status, 'complete');
      });

      it('never gives two new profiles one pcId, even when the random pcId repeats', async () => {
        // Random pcIds of one millisecond do repeat (see freePcId): force repeats.
        const real = ids.newPcId;
        const draws = ['same', 'same', 'same', 'other', 'same', 'same', 'third'];
        const stub = sinon.stub(ids, 'newPcId').callsFake((now) => draws.shift() ?? real(now));
        try {
          const batch = await store.createBatch(newBatch('v2', 2));
          const done = await store.applyBatch(
            'acme',
            batch.batchId,
            chunks([row('thirdPartyId', 'u1', { a: '1' }), row('thirdPartyId', 'u2', { a: '2' })]),
            { createMissing: true, now: NOW },
          );
          assert.equal(done.successfulUpdates, 2);
          await store.updateProfile('acme', row('thirdPartyId', 'u3', { a: '3' }), { createMissing: true, now: NOW });
        } finally {
          stub.restore();
        }
        const profiles = await Promise.all(
          ['u1', 'u2', 'u3'].map((id) => store.getProfile('acme', { kind: 'thirdPartyId', id })),
        );
        assert.deepEqual(
          profiles.map((p) => p?.attributes['a']?.value),
          ['1', '2', '3'],
        );
        assert.equal(new Set(profiles.map((p) => p!.pcId)).size, 3);
        for (const p of profiles) {
          assert.equal((await store.getProfile('acme', { kind: 'pcId', id: p!.pcId }))?.thirdPartyId, p!.thirdPartyId);
        }
      });

      it('prunes old statuses beyond the newest ones to keep', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await store.createBatch({ ...newBatch('v2', 1), now: NOW + i })).batchId);
        await store.pruneBatches('acme', 2, NOW + 10);
        const kept = [];
        for (const id of ids) if (await store.getBatch('acme', id)) kept.push(id);
        assert.deepEqual(kept, ids.slice(3));
        await store.pruneBatches('acme', 0, NOW);
        assert.equal(
          (await Promise.all(ids.slice(3).map((id) => store.getBatch('acme', id)))).filter(Boolean).length,
          2,
        );
      });
    });

    describeTextRule(() => store);
    describeProfileDeletion(() => store);
    describeAttributeRemoval(() => store);
    describeProfileExport(() => store);
    describeMarketingCloudVisitorIds(
      () => store,
      harness.reopen ? async () => (store = await harness.reopen!(store)) : undefined,
    );
    describeRetention(() => store, harness.reopen ? async () => (store = await harness.reopen!(store)) : undefined);

    describe('settings', () => {
      it('starts with authentication required and stores changes per client', async () => {
        assert.deepEqual(await store.getSettings('acme'), { requireAuthentication: true, profileRetentionDays: null });
        const seen: StoreChange[] = [];
        const unsubscribe = store.onChange((c) => seen.push(c));
        await store.putSettings('acme', { requireAuthentication: false });
        unsubscribe();
        await store.putSettings('acme', { requireAuthentication: false });
        assert.deepEqual(await store.getSettings('acme'), { requireAuthentication: false, profileRetentionDays: null });
        assert.deepEqual(await store.getSettings('other'), { requireAuthentication: true, profileRetentionDays: null });
        assert.deepEqual(seen, [{ client: 'acme', kind: 'settings' }]);
      });
    });

    describe('token state', () => {
      it('starts empty', async () => {
        assert.deepEqual(await store.getTokenState('acme'), { current: null, graced: [] });
      });

      it('replaces the current token without grace', async () => {
        await store.replaceToken('acme', tokenRecord('t1'), null, NOW);
        const state = await store.replaceToken('acme', tokenRecord('t2'), null, NOW);
        assert.equal(state.current?.jti, 't2');
        assert.deepEqual(state.graced, []);
        assert.deepEqual(await store.getTokenState('acme'), state);
      });

      it('keeps the replaced token in grace until the given time, then drops it', async () => {
        await store.replaceToken('acme', tokenRecord('t1'), null, NOW);
        await store.replaceToken('acme', tokenRecord('t2'), NOW + 60_000, NOW);
        assert.deepEqual((await store.getTokenState('acme')).graced, [
          { jti: 't1', graceUntil: NOW + 60_000, record: tokenRecord('t1') },
        ]);
        const later = await store.replaceToken('acme', tokenRecord('t3'), NOW + 120_000, NOW + 61_000);
        assert.deepEqual(
          later.graced.map((g) => g.jti),
          ['t2'],
        );
      });

      it('a replacement ends every older graced token: only the replaced one may stay (issue 14.2)', async () => {
        await store.replaceToken('acme', tokenRecord('t1'), null, NOW);
        await store.replaceToken('acme', tokenRecord('t2'), NOW + 3_600_000, NOW);
        const none = await store.replaceToken('acme', tokenRecord('t3'), null, NOW + 1000);
        assert.deepEqual(none.graced, []);
        await store.replaceToken('acme', tokenRecord('t4'), NOW + 3_600_000, NOW + 2000);
        const one = await store.replaceToken('acme', tokenRecord('t5'), NOW + 3_600_000, NOW + 3000);
        assert.deepEqual(
          one.graced.map((g) => g.jti),
          ['t4'],
        );
        assert.deepEqual(await store.getTokenState('acme'), one);
      });

      it('writes the audit event of a change in the same transaction (issue 14.4)', async () => {
        const event = (action: AuditEvent['action'], details: Record<string, unknown>): AuditEvent => ({
          at: NOW,
          actor: 'ops',
          action,
          details,
        });
        await store.replaceToken('acme', tokenRecord('t1'), null, NOW, event('token.generated', { n: 1 }));
        assert.equal(await store.revokeTokens('acme', (had) => event('token.revoked', { had })), true);
        const before = await store.putSettings('acme', { requireAuthentication: false }, (b) =>
          event('settings.changed', { from: b.requireAuthentication }),
        );
        assert.deepEqual(before, { requireAuthentication: true, profileRetentionDays: null });
        assert.deepEqual(
          (await store.listAudit('acme', 10)).map((e) => [e.action, e.details]),
          [
            ['settings.changed', { from: true }],
            ['token.revoked', { had: true }],
            ['token.generated', { n: 1 }],
          ],
        );
      });

      it('revokes every token and tells subscribers', async () => {
        const seen: StoreChange[] = [];
        store.onChange((c) => seen.push(c));
        await store.replaceToken('acme', tokenRecord('t1'), null, NOW);
        await store.replaceToken('acme', tokenRecord('t2'), NOW + 60_000, NOW);
        assert.equal(await store.revokeTokens('acme'), true);
        assert.deepEqual(await store.getTokenState('acme'), { current: null, graced: [] });
        assert.equal(await store.revokeTokens('acme'), false);
        assert.ok(seen.length >= 3 && seen.every((c) => c.client === 'acme' && c.kind === 'token'));
      });

      it('serialises concurrent replacements: the last one stands alone', async () => {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.replaceToken('acme', tokenRecord(`t${i}`), null, NOW)),
        );
        const state = await store.getTokenState('acme');
        assert.ok(state.current);
        assert.deepEqual(state.graced, []);
      });
    });

    describe('audit', () => {
      it('lists events newest first, limited, per client', async () => {
        for (let i = 0; i < 5; i++) {
          await store.appendAudit('acme', { at: NOW + i, actor: 'ops', action: 'settings.changed', details: { i } });
        }
        await store.appendAudit('other', { at: NOW, actor: 'x', action: 'token.revoked', details: {} });
        const events = await store.listAudit('acme', 3);
        assert.deepEqual(
          events.map((e) => e.details['i']),
          [4, 3, 2],
        );
        assert.equal(events[0]?.actor, 'ops');
        assert.equal(events[0]?.action, 'settings.changed');
      });
    });

    describe('signing key fingerprints', () => {
      const register = (...kids: string[]) => ({
        by: 'a/1',
        register: kids.map((kid) => ({ kid, fingerprint: `fp-${kid}` })),
        retire: [],
      });

      it('starts with none, and records what decide returns, stamped with now and the instance', async () => {
        assert.deepEqual(await store.listSigningKeys(), []);
        let seen: unknown;
        const records = await store.syncSigningKeys((recorded) => {
          seen = recorded;
          return register('kid-bbbb', 'kid-aaaa');
        }, NOW);
        assert.deepEqual(seen, []);
        const expected = ['kid-aaaa', 'kid-bbbb'].map((kid) => ({
          kid,
          fingerprint: `fp-${kid}`,
          registeredBy: 'a/1',
          registeredAt: NOW,
          retiredAt: null,
        }));
        assert.deepEqual(records, expected, 'by kid');
        assert.deepEqual(await store.listSigningKeys(), expected);
      });

      it('passes the records to decide, and never overwrites a recorded kid', async () => {
        await store.syncSigningKeys(() => register('kid-aaaa'), NOW);
        let seen: unknown;
        await store.syncSigningKeys((recorded) => {
          seen = recorded.map((r) => r.kid);
          return { by: 'b/2', register: [{ kid: 'kid-aaaa', fingerprint: 'other' }], retire: [] };
        }, NOW + 1);
        assert.deepEqual(seen, ['kid-aaaa']);
        const [record] = await store.listSigningKeys();
        assert.equal(record?.fingerprint, 'fp-kid-aaaa');
        assert.equal(record?.registeredBy, 'a/1');
      });

      it('retires once, and records a kid it did not know as retired with no fingerprint', async () => {
        await store.syncSigningKeys(() => register('kid-aaaa'), NOW);
        await store.syncSigningKeys(() => ({ by: 'b/2', register: [], retire: ['kid-aaaa', 'kid-lost'] }), NOW + 5);
        await store.syncSigningKeys(() => ({ by: 'b/2', register: [], retire: ['kid-aaaa'] }), NOW + 9);
        assert.deepEqual(await store.listSigningKeys(), [
          { kid: 'kid-aaaa', fingerprint: 'fp-kid-aaaa', registeredBy: 'a/1', registeredAt: NOW, retiredAt: NOW + 5 },
          { kid: 'kid-lost', fingerprint: '', registeredBy: 'b/2', registeredAt: NOW + 5, retiredAt: NOW + 5 },
        ]);
      });

      it('writes nothing when decide throws, and throws its error', async () => {
        await store.syncSigningKeys(() => register('kid-aaaa'), NOW);
        const refusal = new Error('keys differ');
        await assert.rejects(
          store.syncSigningKeys(() => {
            throw refusal;
          }, NOW),
          (error) => error === refusal,
        );
        assert.equal((await store.listSigningKeys()).length, 1);
      });

      it('tells listeners about a change, not about a sync that changed nothing', async () => {
        let heard = 0;
        const unsubscribe = store.onSigningKeysChange(() => heard++);
        await store.syncSigningKeys(() => register('kid-aaaa'), NOW);
        const afterChange = heard;
        await store.syncSigningKeys(() => register('kid-aaaa'), NOW);
        unsubscribe();
        assert.ok(afterChange >= 1, 'a change is announced');
        assert.equal(heard, afterChange, 'a sync that changed nothing is not');
      });

      it('runs concurrent syncs one after the other: the second sees what the first wrote', async () => {
        const firstOnly = (kid: string) => (recorded: SigningKeyRecord[]) => {
          if (recorded.length > 0) throw new Error('already registered');
          return register(kid);
        };
        const results = await Promise.allSettled([
          store.syncSigningKeys(firstOnly('kid-aaaa'), NOW),
          store.syncSigningKeys(firstOnly('kid-bbbb'), NOW),
        ]);
        assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
        assert.equal((await store.listSigningKeys()).length, 1);
      });

      if (harness.reopen) {
        it('keeps the records across a reopen', async () => {
          await store.syncSigningKeys(() => register('kid-aaaa'), NOW);
          store = await harness.reopen!(store);
          assert.deepEqual(
            (await store.listSigningKeys()).map((r) => r.kid),
            ['kid-aaaa'],
          );
        });
      }
    });

    if (harness.reopen) {
      describe('durability', () => {
        it('keeps profiles, batches, settings, token state and audit across a reopen', async () => {
          await store.updateProfile('acme', row('thirdPartyId', 'u1', { a: '1' }), { createMissing: true, now: NOW });
          const batch = await store.createBatch({
            client: 'acme',
            version: 'v2',
            batchSize: 1,
            parseFailures: [],
            parseFailedCount: 0,
            now: NOW,
          });
          await store.applyBatch('acme', batch.batchId, chunks([row('pcId', 'p1', { b: '2' })]), {
            createMissing: true,
            now: NOW,
          });
          await store.putSettings('acme', { requireAuthentication: false });
          await store.replaceToken('acme', tokenRecord('t1'), null, NOW);
          await store.appendAudit('acme', { at: NOW, actor: 'ops', action: 'token.generated', details: {} });
          store = await harness.reopen!(store);
          assert.equal(
            (await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' }))?.attributes['a']?.value,
            '1',
          );
          assert.equal((await store.getBatch('acme', batch.batchId))?.status, 'complete');
          assert.deepEqual(await store.getSettings('acme'), {
            requireAuthentication: false,
            profileRetentionDays: null,
          });
          assert.equal((await store.getTokenState('acme')).current?.jti, 't1');
          assert.equal((await store.listAudit('acme', 10)).length, 1);
        });

        it('marks stuck the batches an earlier run left incomplete, and only those', async () => {
          const newBatch = {
            client: 'acme',
            version: 'v2' as const,
            batchSize: 1,
            parseFailures: [],
            parseFailedCount: 0,
          };
          const left = await store.createBatch({ ...newBatch, now: NOW });
          store = await harness.reopen!(store);
          const fresh = await store.createBatch({ ...newBatch, now: NOW - 1000 });
          assert.equal(await store.recoverIncompleteBatches(), 1);
          const stuck = await store.getBatch('acme', left.batchId);
          assert.equal(stuck?.status, 'stuck');
          assert.match(stuck?.message ?? '', /stopped before the batch was applied/);
          assert.equal((await store.getBatch('acme', fresh.batchId))?.status, 'incomplete');
          assert.equal(await store.recoverIncompleteBatches(), 0);
        });
      });
    }
  });
}
