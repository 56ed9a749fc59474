/**
 * Attacks on the SQLite ingest of issue 18 (sixth pass): values changed with their profile stored
 * as plain strings, rows handed to the batch worker one string a row, and a row that creates a
 * profile stored from the JSON text of its attributes without being decoded (scanBatchRow,
 * newAttributesFromText). Hostile ids, names and values (quotes, backslashes, `}]`, `","`, `""`,
 * integer-like names, U+2028, emoji, values near the size limits), duplicates within and across
 * chunks, removals, v1 and v2, rows written by earlier versions (a time for every value), and whole
 * bodies through ProfileService (the rows staged while the body is parsed): every result must be
 * MemoryStore's.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { ProfileService } from '../src/profile-service';
import type { BatchKey, Profile, ProfileUpdate } from '../src/profiles/types';
import { decodeBatchRows, encodeBatchRow, scanBatchRow } from '../src/store/encoded-rows';
import { MemoryStore } from '../src/store/memory';
import { SqliteStore } from '../src/store/sqlite';
import { encodeNewAttributes, newAttributesFromText, toProfile, type ProfileRow } from '../src/store/sqlite-rows';
import type { BatchRow, Store } from '../src/store/types';
import { NOW } from './postgres-harness';
import { counters, run, view } from './store-differential';

const IDS = ['q"1', 'a\\', '}]', '","', 'ü😀', '7', '0', '""x', 'x\\"y', '[1,"x"]', '\u2028', 'a\\"', '\\'];
const NAMES = ['a', '7', '0', '10', '"q"', 'b\\', '}]', 'é', '1e3', '01', '-1', '4294967295', 'x y'];
const VALUES = ['x', '""', '"', '\\', '}]', '","', 'ü😀', '\u2028', 'a""b', ' ', '0', '\\"', '"]]', '{}'];
const KEYS: BatchKey[] = IDS.flatMap((id) => [
  { kind: 'pcId' as const, id },
  { kind: 'thirdPartyId' as const, id },
]);

/** Values near the limits: 5,000 characters each; 13 of them fit in 64 KiB, 14 do not. */
const wide = (count: number, unit: string) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`h${i}`, unit.repeat(5000 / unit.length)]));

const attributesArb = fc.oneof(
  { weight: 10, arbitrary: fc.dictionary(fc.constantFrom(...NAMES), fc.constantFrom('', ...VALUES), { maxKeys: 5 }) },
  { weight: 1, arbitrary: fc.integer({ min: 12, max: 14 }).map((n) => wide(n, 'w')) },
  // 4 × 2,500 emoji: 40,000 UTF-8 bytes in 20,000 UTF-16 units; 7 of them are over the limit.
  { weight: 1, arbitrary: fc.integer({ min: 4, max: 7 }).map((n) => wide(n, '😀')) },
);
const updateArb: fc.Arbitrary<ProfileUpdate<BatchKey>> = fc.record(
  { key: fc.constantFrom(...KEYS), attributes: attributesArb, remove: fc.subarray(NAMES.slice(0, 6)) },
  { requiredKeys: ['key', 'attributes'] },
);
type Step =
  | { kind: 'batch'; version: 'v1' | 'v2'; rows: BatchRow[]; chunkSize: number }
  | { kind: 'update'; update: ProfileUpdate<BatchKey>; createMissing: boolean };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('batch' as const),
      version: fc.constantFrom('v1' as const, 'v2' as const, 'v2' as const),
      rows: fc.array(updateArb, { minLength: 1, maxLength: 12 }),
      chunkSize: fc.integer({ min: 1, max: 6 }),
    }),
  },
  fc.record({ kind: fc.constant('update' as const), update: updateArb, createMissing: fc.boolean() }),
);

/** The scenario run of store-differential.ts on these keys, rows also handed over still encoded. */
const runOn = (store: Store, client: string, steps: Step[], start: number) =>
  run(store, client, steps, { encoded: true, keys: KEYS, start });

/** Rewrites every stored profile as earlier versions stored it: `["value",modifiedAt]` for every value. */
function rewriteAsEarlierVersions(path: string): number {
  const db = new Database(path);
  try {
    const rows = db
      .prepare('SELECT rowid, pc_id, third_party_id, attributes, modified_at FROM profiles')
      .all() as Array<ProfileRow & { rowid: number }>;
    const update = db.prepare('UPDATE profiles SET attributes = ? WHERE rowid = ?');
    for (const row of rows) {
      const profile = toProfile(row);
      const old: Record<string, [string, number]> = {};
      for (const name of Object.keys(profile.attributes)) {
        const a = profile.attributes[name]!;
        old[name] = [a.value, a.modifiedAt];
      }
      update.run(JSON.stringify(old), row.rowid);
    }
    return rows.length;
  } finally {
    db.close();
  }
}

describe('Attack: SQLite rows encoded, stored as plain strings, created from undecoded text (issue 18)', function () {
  this.timeout(120_000);
  const root = mkdtempSync(join(tmpdir(), 'profilegate-attack-encoded-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('scanBatchRow reads the key JSON.parse reads, and newAttributesFromText stores what encodeNewAttributes would', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 8, unit: 'grapheme' }),
      fc.string({ maxLength: 8, unit: 'binary' }),
      fc.constantFrom('\\', '"', '\\"', '}]', '"]]', '","', '""', '\ud800', '\udc00x', '\u2028', '7', '__proto__'),
    );
    fc.assert(
      fc.property(
        fc.constantFrom('pcId' as const, 'thirdPartyId' as const),
        text,
        fc.dictionary(text, text, { maxKeys: 4 }),
        fc.option(fc.array(text, { maxLength: 3 })),
        (kind, id, attributes, remove) => {
          const row: BatchRow = remove ? { key: { kind, id }, attributes, remove } : { key: { kind, id }, attributes };
          const line = encodeBatchRow(row);
          const scanned = scanBatchRow(line);
          const decoded = decodeBatchRows([line])[0]!;
          assert.deepEqual(scanned.key, decoded.key);
          assert.equal(scanned.attributes === null, decoded.remove !== undefined);
          if (scanned.attributes === null) return;
          const stored = newAttributesFromText(scanned.attributes);
          if (stored !== null) assert.equal(stored, encodeNewAttributes(decoded.attributes));
        },
      ),
      { numRuns: 10_000, seed: 1812 },
    );
  });

  it('SqliteStore (rows encoded, through its worker) merges hostile rows like MemoryStore', async () => {
    const store = new SqliteStore(join(root, 'hostile.db'));
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 6 }), async (steps) => {
          const client = `c${++n}`;
          assert.deepEqual(await runOn(store, client, steps, NOW), await runOn(new MemoryStore(), client, steps, NOW));
        }),
        { numRuns: 120, seed: 1813 },
      );
    } finally {
      await store.close();
    }
  });

  it('profiles stored as earlier versions stored them (a time for every value) merge like MemoryStore', async () => {
    let n = 0;
    let rewritten = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { minLength: 1, maxLength: 4 }),
        fc.array(stepArb, { minLength: 1, maxLength: 4 }),
        async (before, afterwards) => {
          const path = join(root, `earlier-${++n}.db`);
          const memory = new MemoryStore();
          let store = new SqliteStore(path);
          await runOn(store, 'acme', before, NOW);
          await runOn(memory, 'acme', before, NOW);
          await store.close();
          rewritten += rewriteAsEarlierVersions(path);
          store = new SqliteStore(path);
          try {
            const later = NOW + 100_000;
            assert.deepEqual(
              await runOn(store, 'acme', afterwards, later),
              await runOn(memory, 'acme', afterwards, later),
            );
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 20, seed: 1814 },
    );
    assert.ok(rewritten > 10, `only ${rewritten} profiles were rewritten in the earlier form`);
  });

  it('a whole body (CSV, form, JSON) staged while parsed gives MemoryStore’s profiles and counters', async () => {
    const clock = () => NOW;
    const sqlite = new SqliteStore(join(root, 'bodies.db'));
    const memory = new MemoryStore();
    const services = [sqlite, memory].map((store) => new ProfileService({ store, clock, spoolDir: root }));
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const idOf = () => `${pick(IDS)}${random() < 0.6 ? Math.floor(random() * 30) : ''}`;
    const csvCell = (cell: string) => (/[",\n\r]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell);
    const plainValues = ['', '', ...VALUES, 'z'.repeat(5000), '😀'.repeat(2500)];
    function body(format: 'csv' | 'form' | 'json', kind: BatchKey['kind'], rows: number, wide: boolean): string {
      // Wide: 14 names of 5,000-character values, so rows and merged profiles cross 64 KiB.
      const names = wide
        ? Array.from({ length: 14 }, (_, i) => `h${i}`)
        : [...new Set(Array.from({ length: 4 }, () => pick(NAMES)))];
      const cellValues = wide ? ['', 'w'.repeat(5000), 'w'.repeat(5000), 'w'.repeat(4999)] : plainValues;
      if (format === 'json') {
        const profiles = Array.from({ length: rows }, () => {
          const attributes: Record<string, string | null> = {};
          for (const name of names) {
            const r = random();
            if (r < 0.15) attributes[name] = null;
            else if (r < 0.85) attributes[name] = pick(cellValues);
          }
          return { [kind]: idOf(), attributes };
        });
        return JSON.stringify({ profiles });
      }
      const records = [[kind, ...names]];
      for (let i = 0; i < rows; i++) records.push([idOf(), ...names.map(() => pick(cellValues))]);
      // A form body URL-encodes each cell (so it needs no CSV quotes); a CSV body quotes.
      const encode = format === 'csv' ? csvCell : encodeURIComponent;
      const text = records.map((cells) => cells.map(encode).join(',')).join('\n');
      return format === 'csv' ? `${text}\n` : `batch=${text}\n`;
    }
    async function* chunksOf(text: string) {
      for (let i = 0; i < text.length; i += 64 * 1024) yield text.slice(i, i + 64 * 1024);
    }
    const seenKeys = new Map<string, BatchKey>();
    try {
      const plan = [
        ['csv', 'thirdPartyId', 'v2', 1200],
        ['form', 'pcId', 'v2', 1001],
        ['json', 'thirdPartyId', 'v2', 1001],
        ['csv', 'pcId', 'v1', 1000],
        ['json', 'pcId', 'v2', 999],
        ['form', 'thirdPartyId', 'v1', 1100],
        ['json', 'thirdPartyId', 'v2', 3],
        ['csv', 'thirdPartyId', 'v2', 60, true],
        ['json', 'pcId', 'v2', 60, true],
        ['form', 'thirdPartyId', 'v2', 60, true],
      ] as const;
      for (const [format, kind, version, rows, wide = false] of plan) {
        const text = body(format, kind, rows, wide);
        const results: unknown[] = [];
        for (const service of services) {
          const submitted = await service.submitBatch('acme', version, chunksOf(text), format);
          results.push(counters(await submitted.applied));
        }
        assert.deepEqual(results[0], results[1], `${format} ${kind} ${version}`);
        for (const id of IDS)
          for (let i = -1; i < 30; i++) {
            const key: BatchKey = { kind, id: i < 0 ? id : `${id}${i}` };
            seenKeys.set(JSON.stringify(key), key);
          }
        for (const key of seenKeys.values()) {
          const [fromSqlite, fromMemory] = [await sqlite.getProfile('acme', key), await memory.getProfile('acme', key)];
          assert.deepEqual(view(fromSqlite), view(fromMemory), JSON.stringify(key));
          if (fromSqlite !== null) {
            // The same profile by its pcId (a random one for a thirdPartyId row).
            const byPcId: Profile | null = await sqlite.getProfile('acme', { kind: 'pcId', id: fromSqlite.pcId });
            assert.deepEqual(view(byPcId), view(fromSqlite));
          }
        }
      }
    } finally {
      await Promise.all(services.map((service) => service.drain()));
      await sqlite.close();
    }
  });
});
