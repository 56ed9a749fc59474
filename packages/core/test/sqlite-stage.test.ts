/**
 * The SQLite stage finds the profiles a batch has staged through hashes of their keys kept in
 * memory (staged-keys.ts), not through an index. Here every key has the same hash, so each lookup
 * meets another key's row: the stage must still find exactly the rows it staged.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { mergeAttributes } from '../src/profiles/merge';
import { PROFILE_LIMITS } from '../src/profiles/rules';
import { StagedKeys, hashKey } from '../src/store/staged-keys';
import { SqliteStore } from '../src/store/sqlite';
import { encodeAttributes, encodeNewAttributes, newAttributesFromText } from '../src/store/sqlite-rows';
import { configureSqliteBatchConnection } from '../src/store/sqlite-schema';
import { SqliteBatchStage } from '../src/store/sqlite-stage';
import type { BatchRow } from '../src/store/types';

const NOW = Date.UTC(2026, 11, 3, 9, 0, 0);
const tp = (id: string, attributes: Record<string, string>): BatchRow => ({
  key: { kind: 'thirdPartyId', id },
  attributes,
});

describe('StagedKeys', () => {
  it('finds every key added, also when all of them share one hash', () => {
    const keys = new StagedKeys(() => () => 1);
    const rows = new Map<number, string>();
    const holds = (key: string) => (id: number) => rows.get(id) === key;
    // Enough keys to make the table grow several times, all on one hash.
    for (let id = 1; id <= 3000; id++) {
      rows.set(id, `k${id}`);
      keys.add(`k${id}`, id);
    }
    assert.equal(keys.find('k1', holds('k1')), 1);
    assert.equal(keys.find('k2999', holds('k2999')), 2999);
    assert.equal(keys.find('z', holds('z')), undefined);
    keys.clear();
    assert.equal(keys.find('k1', holds('k1')), undefined);
  });

  it('finds keys on distinct hashes without asking about other rows', () => {
    const keys = new StagedKeys();
    for (let id = 1; id <= 100_000; id++) keys.add(`c${String(id).padStart(7, '0')}`, id);
    let asked = 0;
    for (let id = 1; id <= 100_000; id += 997) {
      const key = `c${String(id).padStart(7, '0')}`;
      assert.equal(
        keys.find(key, (candidate) => (asked++, candidate === id)),
        id,
      );
    }
    assert.ok(asked < 110, `asked about ${asked} rows for 101 keys`);
  });

  it('draws a new hash seed for each stage (each clear)', () => {
    let draws = 0;
    const keys = new StagedKeys(() => {
      draws++;
      return () => 1;
    });
    assert.equal(draws, 1);
    keys.clear();
    keys.clear();
    assert.equal(draws, 3);
  });

  it('hashKey gives small integers', () => {
    for (const key of ['', 'c0000001', 'ünïcödé', 'x'.repeat(200)]) {
      const h = hashKey(key);
      assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 30, `${key}: ${h}`);
    }
    assert.notEqual(hashKey('c0000001'), hashKey('c0000002'));
    assert.notEqual(hashKey('c0000001', 1), hashKey('c0000001', 2), 'the seed changes the hash');
  });
});

describe('encodeNewAttributes', () => {
  it('writes what mergeAttributes into an empty profile and encodeAttributes write', () => {
    const name = fc.oneof(
      fc.constantFrom('1', '0', '10', 'a"b', 'x\\y', 'ü', '😀'),
      fc.string({ minLength: 1, maxLength: 8 }),
    );
    const value = fc.oneof(fc.constant(''), fc.string({ maxLength: 12 }), fc.constantFrom('"', '\u2028', 'é😀'));
    fc.assert(
      fc.property(fc.dictionary(name, value, { maxKeys: 12 }), fc.integer({ min: 0, max: 2 ** 42 }), (updates, now) => {
        const merged = mergeAttributes(Object.create(null), updates, now);
        assert.ok(merged.ok);
        assert.equal(encodeNewAttributes(updates), encodeAttributes(merged.attributes, now));
      }),
    );
  });

  it('newAttributesFromText gives what encodeNewAttributes writes, or null', () => {
    // A new profile is stored from the JSON text of its row's attributes when that text is what
    // encodeNewAttributes would write; any doubt (an empty value, a long text) gives null.
    const value = fc.oneof(fc.constant(''), fc.string({ maxLength: 12 }), fc.constantFrom('"', '""', '\\', 'é😀'));
    let kept = 0;
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), value, { maxKeys: 12 }), (updates) => {
        const fromText = newAttributesFromText(JSON.stringify(updates));
        if (fromText === null) return;
        kept++;
        assert.equal(fromText, encodeNewAttributes(updates));
      }),
      { numRuns: 1000 },
    );
    assert.ok(kept > 100, `only ${kept} texts were kept: the property must reach them`);
    assert.equal(newAttributesFromText(JSON.stringify({ a: '', b: 'x' })), null);
    assert.equal(newAttributesFromText(JSON.stringify({ a: 'x'.repeat(PROFILE_LIMITS.maxProfileBytes / 3) })), null);
  });

  it('leaves a profile that may be over the size limit to the general path', () => {
    const big = 'x'.repeat(PROFILE_LIMITS.maxProfileBytes / 3 + 1);
    assert.equal(encodeNewAttributes({ a: big }), null);
    assert.equal(encodeNewAttributes({ a: '' }), '{}');
  });
});

describe('SqliteBatchStage with every key on one hash', () => {
  let root: string;
  let store: SqliteStore;
  let db: Database.Database;
  let stage: SqliteBatchStage;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'profilegate-stage-'));
    store = new SqliteStore(join(root, 'profiles.db'), { batchWorker: false });
    db = new Database(join(root, 'profiles.db'));
    configureSqliteBatchConnection(db);
    stage = new SqliteBatchStage(db, () => 7);
  });
  afterEach(async () => {
    stage.discard();
    db.close();
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function record(batchSize: number) {
    return store.createBatch({
      client: 'acme',
      version: 'v2',
      batchSize,
      parseFailures: [],
      parseFailedCount: 0,
      now: NOW,
    });
  }

  it('merges repeated keys, stored profiles and new ones as one row at a time would', async () => {
    await store.updateProfile('acme', tp('s1', { a: '1' }), { createMissing: true, now: NOW - 1000 });
    const byPcId = await store.updateProfile(
      'acme',
      { key: { kind: 'pcId', id: '1700000000000-123456.78_0' }, attributes: { b: '2' } },
      { createMissing: true, now: NOW - 1000 },
    );
    assert.equal(byPcId.status, 'updated');

    stage.begin('acme', null, { createMissing: true, now: NOW });
    stage.applyRows([
      tp('n1', { x: '1' }),
      tp('n2', { x: '2' }),
      tp('n1', { y: '3' }),
      tp('s1', { a: '9' }),
      { key: { kind: 'pcId', id: '1700000000000-123456.78_0' }, attributes: { b: '8' } },
    ]);
    // One row at a time takes the other path (a lookup per row instead of one per chunk).
    stage.apply(tp('n2', { z: '4' }));
    stage.apply(tp('s1', { c: '5' }));
    stage.apply({ key: { kind: 'pcId', id: '1700000000000-000000.00_0' }, attributes: { d: '6' } });
    const batch = await record(8);
    const done = stage.merge([], { batchId: batch.batchId, now: NOW });
    assert.equal(done?.status, 'complete');
    assert.equal(done?.successfulUpdates, 8);

    const attributes = async (key: BatchRow['key']) => {
      const profile = await store.getProfile('acme', key);
      return profile && Object.fromEntries(Object.entries(profile.attributes).map(([n, v]) => [n, v.value]));
    };
    assert.deepEqual(await attributes({ kind: 'thirdPartyId', id: 'n1' }), { x: '1', y: '3' });
    assert.deepEqual(await attributes({ kind: 'thirdPartyId', id: 'n2' }), { x: '2', z: '4' });
    assert.deepEqual(await attributes({ kind: 'thirdPartyId', id: 's1' }), { a: '9', c: '5' });
    assert.deepEqual(await attributes({ kind: 'pcId', id: '1700000000000-123456.78_0' }), { b: '8' });
    assert.deepEqual(await attributes({ kind: 'pcId', id: '1700000000000-000000.00_0' }), { d: '6' });
    const n1 = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'n1' });
    const n2 = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'n2' });
    assert.notEqual(n1?.pcId, n2?.pcId);
    const count = db.prepare('SELECT count(*) AS n FROM profiles').get() as { n: number };
    assert.equal(count.n, 5);
  });

  it('copies the merge into the database file after its commit, not within it', async () => {
    // The commit only appends to the WAL, so the batch reads `complete` sooner; the merge then
    // checkpoints, so that no later single update on the main thread has the copying to do.
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0);
    const before = statSync(join(root, 'profiles.db')).size;
    stage.discard();
    stage = new SqliteBatchStage(db); // keys on their own hashes: 20,000 on one would take long
    stage.begin('acme', null, { createMissing: true, now: NOW });
    const rows = Array.from({ length: 20_000 }, (_, i) => tp(`v${i}`, { a: 'x'.repeat(100), b: `${i}` }));
    for (let i = 0; i < rows.length; i += 1000) stage.applyRows(rows.slice(i, i + 1000));
    const batch = await record(rows.length);
    assert.equal(stage.merge([], { batchId: batch.batchId, now: NOW })?.successfulUpdates, rows.length);
    const after = statSync(join(root, 'profiles.db')).size;
    assert.ok(after - before > 2_000_000, `the database file grew by ${after - before} bytes`);
  });

  it('a profile written meanwhile sends the batch to the direct apply only when the batch read it', async () => {
    stage.begin('acme', null, { createMissing: true, now: NOW });
    stage.applyRows([tp('n1', { x: '1' }), tp('n2', { x: '2' })]);
    const batch = await record(2);
    // Shares the hash of every staged key, but the batch never read it: the merge goes on.
    const done = stage.merge([{ client: 'acme', pcId: 'other', thirdPartyId: 'n3' }], {
      batchId: batch.batchId,
      now: NOW,
    });
    assert.equal(done?.status, 'complete');

    stage.begin('acme', null, { createMissing: true, now: NOW + 1 });
    stage.applyRows([tp('n4', { x: '1' }), tp('n5', { x: '2' })]);
    const second = await record(2);
    assert.equal(
      stage.merge([{ client: 'acme', pcId: 'other', thirdPartyId: 'n5' }], { batchId: second.batchId, now: NOW }),
      null,
    );
    assert.equal(await store.getProfile('acme', { kind: 'thirdPartyId', id: 'n4' }), null);
  });
});
