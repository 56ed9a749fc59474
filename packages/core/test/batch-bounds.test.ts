/** Issue 15, points 1 and 2: every body form is parsed in bounded memory, with every limit enforced while parsing. */
import assert from 'node:assert/strict';
import { parseBatch, type BatchFormat, type BatchLimits, type ParsedRow, type RowFailure } from '../src/batch/parse';
import { BatchRejectedError, PayloadTooLargeError } from '../src/errors';

type Item = ParsedRow | RowFailure;

const MB = 1024 * 1024;

/** A body made of `head`, then `unit` repeated (in chunks of about 64 KB) until `total` bytes or forever; counts bytes pulled. */
function repeated(
  head: string,
  unit: string,
  total = Infinity,
): { source: AsyncGenerator<Buffer>; pulled: () => number } {
  let pulled = 0;
  const chunk = Buffer.from(unit.repeat(Math.max(1, Math.floor(65536 / unit.length))), 'utf8');
  async function* source(): AsyncGenerator<Buffer> {
    const first = Buffer.from(head, 'utf8');
    pulled += first.length;
    yield first;
    while (pulled < total) {
      const part = chunk.subarray(0, Math.min(chunk.length, total - pulled));
      pulled += part.length;
      yield part;
    }
  }
  return { source: source(), pulled: () => pulled };
}

async function collect(
  source: AsyncIterable<Buffer | string>,
  format: BatchFormat,
  limits?: Partial<BatchLimits>,
): Promise<Item[]> {
  const items: Item[] = [];
  for await (const item of parseBatch(source, { format, limits })) items.push(item);
  return items;
}

async function* once(body: string): AsyncGenerator<Buffer> {
  yield Buffer.from(body, 'utf8');
}

async function refused(items: Promise<unknown>, status: 400 | 413, message: RegExp, line?: number): Promise<void> {
  await assert.rejects(items, (error: unknown) => {
    const type = status === 400 ? BatchRejectedError : PayloadTooLargeError;
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.equal(error.status, status);
    assert.match(error.message, message);
    if (line !== undefined) assert.ok(error.message.startsWith(`Line ${line}: `), error.message);
    if (line !== undefined && error instanceof BatchRejectedError) assert.equal(error.line, line);
    return true;
  });
}

describe('parseBatch bounds (issue 15)', function () {
  this.timeout(60_000);

  describe('json is parsed as a stream', () => {
    it('refuses {"profiles":[{},{},…]} past 500,000 rows with 413, having read little more than those rows', async () => {
      const body = repeated('{"profiles":[{}', ',{}');
      await refused(collect(body.source, 'json'), 413, /^Batch has more than 500,000 rows$/);
      // 500,001 elements are 1.5 MB; the body would go on forever (50 MB in the issue).
      assert.ok(body.pulled() < 2 * MB, `read ${body.pulled()} bytes before refusing`);
    });

    it('refuses past maxRows without reading the rest of the body', async () => {
      const body = repeated('{"profiles":[{"pcId":"1","attributes":{}}', ',{"pcId":"1","attributes":{}}', 8 * MB);
      await refused(collect(body.source, 'json', { maxRows: 1000 }), 413, /^Batch has more than 1,000 rows$/);
      assert.ok(body.pulled() < 256 * 1024, `read ${body.pulled()} bytes before refusing`);
    });

    it('yields rows before the body has been read to its end', async () => {
      const body = repeated('{"profiles":[{"pcId":"1","attributes":{}}', ',{"pcId":"1","attributes":{}}', 8 * MB);
      let pulledAtFirstRow = -1;
      for await (const item of parseBatch(body.source, { format: 'json' })) {
        assert.equal(item.type, 'row');
        pulledAtFirstRow = body.pulled();
        break;
      }
      assert.ok(pulledAtFirstRow > 0 && pulledAtFirstRow < 256 * 1024, `first row after ${pulledAtFirstRow} bytes`);
    });

    it('refuses one profile over 1 MB with 413, while reading it', async () => {
      const body = repeated('{"profiles":[{"pcId":"1","attributes":{}},{"pcId":"2","attributes":{"a":"', 'x', 8 * MB);
      await refused(collect(body.source, 'json'), 413, /^Profile 2 of "profiles" is over 1 MB/);
      assert.ok(body.pulled() < 2 * MB, `read ${body.pulled()} bytes before refusing`);
      const deep = repeated('{"profiles":[{"pcId":"1","attributes":', '[', 8 * MB);
      await refused(collect(deep.source, 'json'), 413, /^Profile 1 of "profiles" is over 1 MB/);
      assert.ok(deep.pulled() < 2 * MB, `read ${deep.pulled()} bytes before refusing`);
    });

    it('refuses over 1 MB outside "profiles" with 413, and a second "profiles" with 400', async () => {
      const junk = repeated('{"other":[', '1,', 8 * MB);
      await refused(collect(junk.source, 'json'), 413, /outside the elements of "profiles"/);
      assert.ok(junk.pulled() < 2 * MB, `read ${junk.pulled()} bytes before refusing`);
      await refused(
        collect(once('{"profiles":[{"pcId":"1","attributes":{}}],"profiles":[{"pcId":"2","attributes":{}}]}'), 'json'),
        400,
        /"profiles" more than once/,
      );
    });

    it('still ignores small keys beside "profiles"', async () => {
      const items = await collect(
        once('{"note":{"a":[1,2,{"b":null}]},"profiles":[{"pcId":"1","attributes":{"a":"x"}}],"z":true}'),
        'json',
      );
      assert.deepEqual(items, [
        { type: 'row', line: 1, update: { key: { kind: 'pcId', id: '1' }, attributes: { a: 'x' } } },
      ]);
    });
  });

  for (const format of ['csv', 'form'] as const) {
    const prefix = format === 'form' ? 'batch=' : '';
    describe(format, () => {
      it('refuses a row of ",x" repeated without end with 400 and its line, having read little of it', async () => {
        const body = repeated(`${prefix}pcId,a\n1,ok\n2`, ',x');
        await refused(collect(body.source, format), 400, /Row has more than 18 cells; the header has 2 columns/, 3);
        assert.ok(body.pulled() < 2 * MB, `read ${body.pulled()} bytes before refusing`);
      });

      it('refuses a row of empty cells without end with 400 and its line', async () => {
        const body = repeated(`${prefix}pcId,a\n1`, ',');
        await refused(collect(body.source, format), 400, /Row has more than 18 cells/, 2);
        assert.ok(body.pulled() < 2 * MB, `read ${body.pulled()} bytes before refusing`);
      });

      it('keeps a row a little wider than the header a row failure, and refuses one past the margin', async () => {
        const ok = await collect(once(`${prefix}pcId,a\n1,x,y\n2,x${',z'.repeat(16)}\n3,x\n`), format);
        assert.deepEqual(
          ok.map((item) => item.type),
          ['failure', 'failure', 'row'],
        );
        assert.match((ok[0] as RowFailure).message, /Row has 3 cells; the header has 2 columns/);
        await refused(
          collect(once(`${prefix}pcId,a\n1,x\n2,x${',z'.repeat(17)}\n3,x\n`), format),
          400,
          /Row has more than 18 cells; the header has 2 columns/,
          3,
        );
      });

      it('refuses a header over 1,024 columns with 400 and line 1', async () => {
        const names = Array.from({ length: 1024 }, (_, i) => `a${i}`);
        const fits = await collect(once(`${prefix}pcId,${names.slice(0, 1023).join(',')}\n1,x\n`), format);
        assert.equal(fits.length, 1);
        await refused(
          collect(once(`${prefix}pcId,${names.join(',')}\n1,x\n`), format),
          400,
          /The header has more than 1,024 columns/,
          1,
        );
      });

      it('refuses a cell over 8,192 characters with 413 and its line; a long value below that fails only its row', async () => {
        const long = await collect(once(`${prefix}pcId,a\n1,${'v'.repeat(5001)}\n2,x\n`), format);
        assert.deepEqual(
          long.map((item) => item.type),
          ['failure', 'row'],
        );
        await refused(
          collect(once(`${prefix}pcId,a\n1,x\n2,${'v'.repeat(8193)}\n3,x\n`), format),
          413,
          /A cell is over 8,192 characters/,
          3,
        );
      });

      it('refuses a record over 1 MB with 413 and its line, having read little of it', async () => {
        const body = repeated(`${prefix}pcId,a\n1,x\n\n2,`, 'v');
        await refused(collect(body.source, format), 413, /The line is over 1 MB/, 4);
        assert.ok(body.pulled() < 2 * MB, `read ${body.pulled()} bytes before refusing`);
      });
    });
  }

  it('csv: a quoted field without end is refused as a record over 1 MB', async () => {
    const body = repeated('pcId,a\n1,"', 'line\n');
    await refused(collect(body.source, 'csv'), 413, /The line is over 1 MB/, 2);
    assert.ok(body.pulled() < 2 * MB, `read ${body.pulled()} bytes before refusing`);
  });

  describe('time', () => {
    for (const format of ['csv', 'form', 'json'] as const) {
      it(`${format}: lets the event loop run while a large body that arrived in one chunk is parsed`, async () => {
        const rows = 100_000;
        let body: string;
        if (format === 'json') {
          body = `{"profiles":[${Array.from({ length: rows }, (_, i) => `{"pcId":"p${i}","attributes":{"a":"x"}}`).join(',')}]}`;
        } else {
          body = `${format === 'form' ? 'batch=' : ''}pcId,a\n${Array.from({ length: rows }, (_, i) => `p${i},x`).join('\n')}\n`;
        }
        let ticks = 0;
        let running = true;
        const tick = (): void => {
          ticks++;
          if (running) setImmediate(tick);
        };
        setImmediate(tick);
        const items = await collect(once(body), format);
        running = false;
        assert.equal(items.length, rows);
        assert.ok(ticks >= 3, `the event loop ran ${ticks} times during the parse`);
      });
    }
  });
});
