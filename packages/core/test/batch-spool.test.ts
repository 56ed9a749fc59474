import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchSpool } from '../src/batch/spool';
import { encodeBatchRow } from '../src/store/encoded-rows';
import type { BatchRow } from '../src/store/types';

function update(i: number): BatchRow {
  return {
    key: { kind: i % 2 ? 'pcId' : 'thirdPartyId', id: `id-${i}` },
    attributes: { a: 'x'.repeat(200), n: `${i}` },
  };
}

describe('BatchSpool', () => {
  it('reads back every row in order, in chunks', async () => {
    const spool = await BatchSpool.create();
    for (let i = 0; i < 2500; i++) await spool.write(update(i));
    await spool.finish();
    const sizes: number[] = [];
    const ids: string[] = [];
    for await (const chunk of spool.chunks(1000)) {
      sizes.push(chunk.length);
      ids.push(...chunk.map((r) => r.key.id));
    }
    assert.deepEqual(sizes, [1000, 1000, 500]);
    assert.deepEqual(ids.slice(0, 3), ['id-0', 'id-1', 'id-2']);
    assert.deepEqual((await collect(spool))[2499], update(2499));
    await spool.dispose();
  });

  it('writes the file as the encoded rows, one a line, whatever their sizes and characters', async () => {
    // Rows of 1 to 3 UTF-8 bytes a character (and pairs of 4), some longer than a slice of the file
    // (256 KB), mixed with short ones, written with and without waiting for the file: slice
    // boundaries are crossed every way.
    const texts = ['x', 'é', '€', '😀', '"\\\n\u0001'];
    const rows: BatchRow[] = [];
    for (let i = 0; i < 600; i++) {
      const text = texts[i % texts.length]!.repeat(i % 97 === 0 ? 30_000 : (i * 37) % 300);
      rows.push({
        key: { kind: i % 2 ? 'pcId' : 'thirdPartyId', id: `id-${i}-${text.slice(0, 4)}` },
        attributes: { a: text },
      });
    }
    const spool = await BatchSpool.create();
    for (let i = 0; i < rows.length; i++) {
      if (i % 3 === 0) await spool.write(rows[i]!);
      else {
        spool.append(rows[i]!);
        if (spool.full) await spool.flush();
      }
    }
    await spool.finish();
    const file = readFileSync(join((spool as unknown as { dir: string }).dir, 'rows.ndjson'), 'utf8');
    assert.equal(file, rows.map((row) => encodeBatchRow(row) + '\n').join(''));
    assert.deepEqual(await collect(spool), rows);
    await spool.dispose();
  });

  it('keeps the names a row removes (issue 19), and writes no removal for a row without', async () => {
    const spool = await BatchSpool.create();
    const rows: BatchRow[] = [
      { key: { kind: 'pcId', id: 'p1' }, attributes: { a: 'x' }, remove: ['b', 'c'] },
      { key: { kind: 'thirdPartyId', id: 'u2' }, attributes: {} },
      { key: { kind: 'thirdPartyId', id: 'u3' }, attributes: {}, remove: [] },
    ];
    for (const row of rows) await spool.write(row);
    await spool.finish();
    assert.deepEqual(await collect(spool), [rows[0], rows[1], { key: rows[2]!.key, attributes: {} }]);
    await spool.dispose();
  });

  it('can be disposed with writes still pending, without an unhandled error (a batch refused part-way)', async () => {
    const unhandled: unknown[] = [];
    const onError = (error: unknown) => unhandled.push(error);
    process.on('uncaughtException', onError);
    try {
      const spool = await BatchSpool.create();
      // Fill the stream's buffer without waiting, as a parser that fails mid-body leaves it.
      const big: BatchRow = { key: { kind: 'pcId', id: 'p' }, attributes: { a: 'x'.repeat(5000) } };
      const pending = Array.from({ length: 8 }, () => spool.write(big).catch(() => undefined));
      await spool.dispose();
      await Promise.all(pending);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('uncaughtException', onError);
    }
  });

  it('turns a write error into a rejected write, and deletes its folder on dispose', async () => {
    const spool = await BatchSpool.create();
    const out = (spool as unknown as { out: NodeJS.WritableStream & { destroy(e?: Error): void } }).out;
    const dir = (spool as unknown as { dir: string }).dir;
    out.destroy(new Error('ENOSPC: no space left on device'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    await assert.rejects(spool.write(update(1)), /ENOSPC/);
    await assert.rejects(spool.finish(), /ENOSPC/);
    await spool.dispose();
    assert.equal(existsSync(dir), false);
  });
});

async function collect(spool: BatchSpool): Promise<BatchRow[]> {
  const rows: BatchRow[] = [];
  for await (const chunk of spool.chunks()) rows.push(...chunk);
  return rows;
}
