/**
 * Batch rows handed to the SQLite batch worker still encoded (issue 18): the worker decodes them,
 * so this thread neither decodes nor copies row objects; the batch stays all or nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { encodeBatchRow, scanBatchRow } from '../src/store/encoded-rows';
import { SqliteStore } from '../src/store/sqlite';
import type { BatchRow, BatchRows, EncodedBatchRows } from '../src/store/types';
import { NOW } from './postgres-harness';

const rows: BatchRow[] = [
  { key: { kind: 'thirdPartyId', id: 'u1' }, attributes: { tier: 'gold', city: 'Oslo' } },
  { key: { kind: 'thirdPartyId', id: 'u2' }, attributes: { tier: 'silver' } },
  { key: { kind: 'thirdPartyId', id: 'u1' }, attributes: {}, remove: ['city'] },
];

/** Rows that can only be read encoded: decoding them on this thread fails the test. */
function encodedOnly(chunks: EncodedBatchRows[], failAfter = Infinity): BatchRows {
  const decoded = () => {
    throw new Error('decoded on the main thread');
  };
  return Object.assign(decoded, {
    encoded: async function* () {
      for (const [i, chunk] of chunks.entries()) {
        if (i >= failAfter) throw new Error('the body broke off');
        yield chunk;
      }
    },
  });
}

function encode(list: BatchRow[]): EncodedBatchRows {
  return { lines: list.map(encodeBatchRow) };
}

describe('SqliteStore: batch rows handed to the worker encoded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'profilegate-sqlite-encoded-'));
  let n = 0;
  let store: SqliteStore;
  beforeEach(() => (store = new SqliteStore(join(dir, `s${++n}.db`))));
  afterEach(() => store.close());
  after(() => rmSync(dir, { recursive: true, force: true }));

  const newBatch = () =>
    store.createBatch({
      client: 'acme',
      version: 'v2',
      batchSize: rows.length,
      parseFailures: [],
      parseFailedCount: 0,
      parseFailedRowBytes: 0,
      now: NOW,
    });

  it('applies them as decoded rows would be, removals included', async () => {
    const batch = await newBatch();
    const chunks = [encode(rows.slice(0, 2)), encode(rows.slice(2))];
    const done = await store.applyBatch('acme', batch.batchId, encodedOnly(chunks), { createMissing: true, now: NOW });
    assert.equal(done.status, 'complete');
    assert.equal(done.successfulUpdates, 3);
    const u1 = await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' });
    assert.deepEqual({ ...u1?.attributes }, { tier: { value: 'gold', modifiedAt: NOW } });
    assert.equal(
      (await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u2' }))?.attributes['tier']?.value,
      'silver',
    );
  });

  it('stores nothing when the rows fail late, or a chunk cannot be decoded', async () => {
    const first = await newBatch();
    const failing = encodedOnly([encode(rows.slice(0, 2)), encode(rows.slice(2))], 1);
    await assert.rejects(
      store.applyBatch('acme', first.batchId, failing, { createMissing: true, now: NOW }),
      /broke off/,
    );
    const second = await newBatch();
    const garbled = encodedOnly([encode(rows.slice(0, 2)), { lines: ['[1,"u3",{'] }]);
    await assert.rejects(store.applyBatch('acme', second.batchId, garbled, { createMissing: true, now: NOW }));
    assert.equal(await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' }), null);
    assert.equal(await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u2' }), null);
    assert.equal((await store.getBatch('acme', second.batchId))?.status, 'incomplete');
  });
});

describe('scanBatchRow', () => {
  // The SQLite stage reads a row's key and its attributes' JSON text without decoding the row,
  // and stores a new profile from that text: it must read exactly what encodeBatchRow wrote.
  const text = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('"', '\\', '\\"', '","', '}]', '{', '\u2028', 'é😀', '\ud800', ']'),
  );
  const row: fc.Arbitrary<BatchRow> = fc.record(
    {
      key: fc.record({ kind: fc.constantFrom('pcId' as const, 'thirdPartyId' as const), id: text }),
      attributes: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), text, { maxKeys: 6 }),
      remove: fc.array(text, { maxLength: 3 }),
    },
    { requiredKeys: ['key', 'attributes'] },
  );

  it('reads the key and the attributes JSON that encodeBatchRow wrote; no attributes text when names are removed', () => {
    fc.assert(
      fc.property(row, (r) => {
        const scanned = scanBatchRow(encodeBatchRow(r));
        assert.deepEqual({ ...scanned.key }, { ...r.key });
        const removes = r.remove !== undefined && r.remove.length > 0;
        assert.equal(scanned.attributes, removes ? null : JSON.stringify(r.attributes));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses text that is not an encoded row', () => {
    for (const line of ['', '[', '[2,"a",{}]', '{"a":1}', '[1,a,{}]', '[1,"a"', '[1,"a\\"', '[1,"a"{}]'])
      assert.throws(() => scanBatchRow(line), /Not an encoded batch row/, line);
  });
});
