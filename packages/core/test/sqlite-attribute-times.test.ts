/**
 * The SQLite store keeps a value's time of change only when it differs from its profile's
 * `modified_at` (issue 18): most values of a profile change with it, and ten 13-digit times a row
 * were a third of what a large batch wrote. Rows written before keep a time for every value and
 * read as they did.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import type { AttributeValue } from '../src/profiles/types';
import { SqliteStore } from '../src/store/sqlite';
import { encodeAttributes, toProfile } from '../src/store/sqlite-rows';

const T1 = Date.UTC(2026, 11, 3, 9, 0, 0);
const T2 = T1 + 60_000;

describe('SQLite attribute times', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'profilegate-times-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** The stored attributes text and modified_at of the profile with this thirdPartyId. */
  function storedRow(path: string, thirdPartyId: string): { attributes: string; modified_at: number } {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare('SELECT attributes, modified_at FROM profiles WHERE third_party_id = ?').get(thirdPartyId) as {
        attributes: string;
        modified_at: number;
      };
    } finally {
      db.close();
    }
  }

  for (const batchWorker of [true, false]) {
    it(`stores a value's time only when it is not the profile's (batch worker ${batchWorker ? 'on' : 'off'})`, async () => {
      const path = join(root, 'p.db');
      const store = new SqliteStore(path, { batchWorker });
      try {
        const batch = await store.createBatch({
          client: 'acme',
          version: 'v2',
          batchSize: 1,
          parseFailures: [],
          parseFailedCount: 0,
          now: T1,
        });
        async function* rows() {
          yield [{ key: { kind: 'thirdPartyId' as const, id: 'u1' }, attributes: { city: 'Berlin', tier: 'gold' } }];
        }
        await store.applyBatch('acme', batch.batchId, rows, { createMissing: true, now: T1 });
        assert.deepEqual(storedRow(path, 'u1'), { attributes: '{"city":"Berlin","tier":"gold"}', modified_at: T1 });

        await store.updateProfile(
          'acme',
          { key: { kind: 'thirdPartyId', id: 'u1' }, attributes: { tier: 'platinum' } },
          { createMissing: false, now: T2 },
        );
        assert.deepEqual(storedRow(path, 'u1'), {
          attributes: `{"city":["Berlin",${T1}],"tier":"platinum"}`,
          modified_at: T2,
        });
        const profile = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' });
        assert.deepEqual(
          { ...profile?.attributes },
          { city: { value: 'Berlin', modifiedAt: T1 }, tier: { value: 'platinum', modifiedAt: T2 } },
        );
      } finally {
        await store.close();
      }
    });
  }

  it('reads a row written with a time for every value (by earlier versions) as before', async () => {
    const path = join(root, 'old.db');
    const store = new SqliteStore(path, { batchWorker: false });
    await store.updateProfile(
      'acme',
      { key: { kind: 'thirdPartyId', id: 'u1' }, attributes: { city: 'x' } },
      { createMissing: true, now: T1 },
    );
    await store.close();
    const db = new Database(path);
    db.prepare('UPDATE profiles SET attributes = ?, modified_at = ?').run(
      `{"city":["Berlin",${T1}],"tier":["gold",${T2}]}`,
      T2,
    );
    db.close();
    const reopened = new SqliteStore(path, { batchWorker: false });
    try {
      const profile = await reopened.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' });
      assert.deepEqual(
        { ...profile?.attributes },
        { city: { value: 'Berlin', modifiedAt: T1 }, tier: { value: 'gold', modifiedAt: T2 } },
      );
    } finally {
      await reopened.close();
    }
  });

  it('encodeAttributes and toProfile give back every value and time', () => {
    const value = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('"', '\\', '\u2028', 'é😀'));
    const time = fc.constantFrom(T1, T2, 0);
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.tuple(value, time)),
        time,
        (entries, modifiedAt) => {
          const attributes: Record<string, AttributeValue> = Object.create(null);
          for (const [name, [v, at]] of Object.entries(entries)) attributes[name] = { value: v, modifiedAt: at };
          const text = encodeAttributes(attributes, modifiedAt);
          const read = toProfile({ pc_id: 'p', third_party_id: null, attributes: text, modified_at: modifiedAt });
          assert.deepEqual({ ...read.attributes }, { ...attributes });
        },
      ),
    );
  });
});

describe('SQLite schema version of plain-string attributes', () => {
  it('records a schema version that builds reading only [value, time] refuse to open', async () => {
    // Builds before plain-string values knew 6 migrations; they refuse a database whose
    // user_version is higher ("newer than this Profilegate") instead of misreading "gold" as
    // value "g", time "o".
    const root = mkdtempSync(join(tmpdir(), 'profilegate-times-version-'));
    try {
      const path = join(root, 'p.db');
      await new SqliteStore(path, { batchWorker: false }).close();
      const db = new Database(path, { readonly: true });
      assert.ok((db.pragma('user_version', { simple: true }) as number) > 6);
      db.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
