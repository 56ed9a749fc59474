import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import {
  DEFAULT_BATCH_LIMITS,
  parseBatch,
  type BatchFormat,
  type BatchLimits,
  type ParsedRow,
  type RowFailure,
} from '../src/batch/parse';
import { BatchRejectedError, PayloadTooLargeError } from '../src/errors';

type Item = ParsedRow | RowFailure;

/** A body fed in chunks of `size` bytes (the whole body in one chunk by default). */
async function* chunked(body: string | Buffer, size = Infinity): AsyncGenerator<Buffer> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
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

function parse(
  body: string | Buffer,
  format: BatchFormat,
  limits?: Partial<BatchLimits>,
  size?: number,
): Promise<Item[]> {
  return collect(chunked(body, size), format, limits);
}

function row(line: number, kind: 'pcId' | 'thirdPartyId', id: string, attributes: Record<string, string>): ParsedRow {
  return { type: 'row', line, update: { key: { kind, id }, attributes } };
}

/** Asserts a whole-batch 400 with its line (undefined: no line) and a message matching `message`. */
async function rejects(items: Promise<unknown>, line: number | undefined, message: RegExp): Promise<void> {
  await assert.rejects(items, (error: unknown) => {
    assert.ok(error instanceof BatchRejectedError, `expected BatchRejectedError, got ${String(error)}`);
    assert.equal(error.status, 400);
    assert.equal(error.line, line, `line of "${error.message}"`);
    assert.match(error.message, message);
    if (line !== undefined) assert.ok(error.message.startsWith(`Line ${line}: `), error.message);
    return true;
  });
}

async function tooLarge(items: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(items, (error: unknown) => {
    assert.ok(error instanceof PayloadTooLargeError, `expected PayloadTooLargeError, got ${String(error)}`);
    assert.equal(error.status, 413);
    assert.match(error.message, message);
    return true;
  });
}

const ADOBE_EXAMPLE =
  'batch=pcId,param1,param2,param3,param4\n' +
  '123,value1,value2,value3,value4\n' +
  '124,value1,value2,value3,value4\n' +
  '125,value1,value2,value3,value4\n' +
  '126,value1,value1,value3,value4\n';

describe('parseBatch', function () {
  this.timeout(20_000);

  describe('limits', () => {
    it('defaults to 50 MB and 500,000 rows', () => {
      assert.deepEqual({ ...DEFAULT_BATCH_LIMITS }, { maxBytes: 50 * 1024 * 1024, maxRows: 500_000 });
    });
  });

  describe('form (Adobe batch file)', () => {
    it("parses Adobe's documented example", async () => {
      const values = { param1: 'value1', param2: 'value2', param3: 'value3', param4: 'value4' };
      assert.deepEqual(await parse(ADOBE_EXAMPLE, 'form'), [
        row(2, 'pcId', '123', values),
        row(3, 'pcId', '124', values),
        row(4, 'pcId', '125', values),
        row(5, 'pcId', '126', { ...values, param2: 'value1' }),
      ]);
    });

    it("parses Adobe's older sample verbatim: spaces after the header's commas are trimmed, values keep theirs", async () => {
      // As Adobe's Bulk Profile Update API page printed it until 2024 (and its older pages still do).
      const sample =
        'batch=pcId, param1, param2, param3, param4\n' +
        '123, value1\n' +
        '124, value1,,, value4\n' +
        '125,, value2\n' +
        '126, value1, value2, value3, value4\n';
      assert.deepEqual(await parse(sample, 'form'), [
        row(2, 'pcId', '123', { param1: ' value1' }),
        row(3, 'pcId', '124', { param1: ' value1', param4: ' value4' }),
        row(4, 'pcId', '125', { param2: ' value2' }),
        row(5, 'pcId', '126', { param1: ' value1', param2: ' value2', param3: ' value3', param4: ' value4' }),
      ]);
    });

    it('parses the same rows whatever the chunk size, from a Readable or from strings', async () => {
      const whole = await parse(ADOBE_EXAMPLE, 'form');
      for (const size of [1, 2, 3, 5, 7, 64]) assert.deepEqual(await parse(ADOBE_EXAMPLE, 'form', {}, size), whole);
      assert.deepEqual(await collect(Readable.from(chunked(ADOBE_EXAMPLE, 4)), 'form'), whole);
      assert.deepEqual(
        await collect(
          Readable.from(['batch=pcId,param1,param2,', 'param3,param4\n123,value1,value2,value3,value4\n']),
          'form',
        ),
        [whole[0]],
      );
    });

    it('decodes "+" as a space and percent-encoded UTF-8, in cells and in the header', async () => {
      const body =
        'batch=thirdPartyId,profile.city,note%2Ename\nu%40x,New+York,a%2Cb%2Bc+%25+%C3%A9%E6%97%A5%F0%9F%8E%89\n';
      assert.deepEqual(await parse(body, 'form'), [
        row(2, 'thirdPartyId', 'u@x', { city: 'New York', 'note.name': 'a,b+c % é日🎉' }),
      ]);
    });

    it('accepts raw (unencoded) UTF-8, split across 1-byte chunks', async () => {
      const body = 'batch=pcId,a,b\n1,café,日本🎉\n2,%C3%A9,ünï\n';
      const expected = [row(2, 'pcId', '1', { a: 'café', b: '日本🎉' }), row(3, 'pcId', '2', { a: 'é', b: 'ünï' })];
      assert.deepEqual(await parse(body, 'form', {}, 1), expected);
      assert.deepEqual(await parse(body, 'form'), expected);
    });

    it('handles CRLF line ends, a missing final newline, and a BOM', async () => {
      const body = '\uFEFFbatch=pcId,a,b\r\n1,x,y\r\n\r\n2,z,w';
      const expected = [row(2, 'pcId', '1', { a: 'x', b: 'y' }), row(4, 'pcId', '2', { a: 'z', b: 'w' })];
      assert.deepEqual(await parse(body, 'form'), expected);
      assert.deepEqual(await parse(body, 'form', {}, 1), expected);
    });

    it('ignores a BOM after "batch="', async () => {
      assert.deepEqual(await parse('batch=\uFEFFpcId,a\n1,x\n', 'form'), [row(2, 'pcId', '1', { a: 'x' })]);
    });

    it('treats double quotes as data (they would be %22)', async () => {
      assert.deepEqual(await parse('batch=pcId,a,b\n1,"x,y"\n', 'form'), [row(2, 'pcId', '1', { a: '"x', b: 'y"' })]);
    });

    it('accepts the id column name in any case', async () => {
      assert.deepEqual(await parse('batch=PCID,a\n1,x\n', 'form'), [row(2, 'pcId', '1', { a: 'x' })]);
      assert.deepEqual(await parse('batch=THIRDpartyid,a\n1,x\n', 'form'), [row(2, 'thirdPartyId', '1', { a: 'x' })]);
    });

    it('refuses a body without "batch="', async () => {
      await rejects(parse('pcId,a\n1,x\n', 'form'), 1, /must start with "batch="/);
      await rejects(parse('batch', 'form'), 1, /must start with "batch="/);
      await rejects(parse('foo=1&batch=pcId,a\n1,x\n', 'form', {}, 1), 1, /must start with "batch="/);
    });

    it('refuses an unencoded "&" anywhere, with its line', async () => {
      await rejects(parse('batch=pcId,a&b\n1,x\n', 'form'), 1, /Unencoded "&" in a form body; encode it as %26/);
      await rejects(parse('batch=pcId,a\n1,x\n2,tom&jerry\n', 'form'), 3, /Unencoded "&"/);
      await rejects(parse('batch=pcId,a\n1,x\n2,y\n&more=1', 'form', {}, 1), 4, /Unencoded "&"/);
      // even on a row that would fail on its own
      await rejects(parse('batch=pcId,a\n,x,y,&\n', 'form'), 2, /Unencoded "&"/);
    });

    it('refuses a "%" not followed by two hex digits, with its line', async () => {
      await rejects(parse('batch=pcId,a\n1,100%\n', 'form'), 2, /"%" not followed by two hex digits.*%25/);
      await rejects(parse('batch=pcId,a\n1,x\n2,%zz\n', 'form'), 3, /two hex digits/);
      await rejects(parse('batch=pcId,a\n1,%4\n', 'form'), 2, /two hex digits/);
      await rejects(parse('batch=pc%Id,a\n1,x\n', 'form'), 1, /two hex digits/);
    });

    it('refuses percent-encoding that is not UTF-8, with its line', async () => {
      await rejects(parse('batch=pcId,a\n1,%C3%28\n', 'form'), 2, /not valid UTF-8/);
      await rejects(parse('batch=pcId,a\n1,x\n2,%FF\n', 'form'), 3, /not valid UTF-8/);
      await rejects(parse('batch=pcId,a\n1,%ED%A0%80\n', 'form'), 2, /not valid UTF-8/); // a surrogate
      await rejects(parse('batch=pcId,a\n1,%C3\n', 'form'), 2, /not valid UTF-8/); // cut short
    });

    it('refuses raw bytes that are not UTF-8, with their line, whatever the chunks', async () => {
      const body = Buffer.concat([
        Buffer.from('batch=pcId,a\n1,x\n2,caf'),
        Buffer.from([0xe9]),
        Buffer.from('\n3,y\n'),
      ]);
      await rejects(parse(body, 'form'), 3, /not valid UTF-8/);
      await rejects(parse(body, 'form', {}, 1), 3, /not valid UTF-8/);
      const cut = Buffer.concat([Buffer.from('batch=pcId,a\n1,'), Buffer.from([0xe6, 0x97])]);
      await rejects(parse(cut, 'form', {}, 1), 2, /not valid UTF-8/);
    });

    it('explains a body that was URL-encoded as a whole', async () => {
      await rejects(parse('batch=pcId%2Ca%0A1%2Cx%0A', 'form'), 1, /URL-encoded as a whole/);
    });
  });

  describe('csv', () => {
    it('parses RFC 4180 CSV with quotes, escaped quotes and commas', async () => {
      const body = 'thirdPartyId,a,b\nu1,"x,y","say ""hi"""\nu2,%41+b,\n';
      assert.deepEqual(await parse(body, 'csv'), [
        row(2, 'thirdPartyId', 'u1', { a: 'x,y', b: 'say "hi"' }),
        row(3, 'thirdPartyId', 'u2', { a: '%41+b' }), // no URL-decoding
      ]);
    });

    it('gives later rows their physical line after quoted line breaks (LF and CRLF)', async () => {
      const body = 'pcId,a,b\n1,"two\nlines",x\n2,y,"three\r\nline\nvalue"\n\n3,z,w\n';
      const expected = [
        row(2, 'pcId', '1', { a: 'two\nlines', b: 'x' }),
        row(4, 'pcId', '2', { a: 'y', b: 'three\r\nline\nvalue' }),
        row(8, 'pcId', '3', { a: 'z', b: 'w' }),
      ];
      assert.deepEqual(await parse(body, 'csv'), expected);
      assert.deepEqual(await parse(body, 'csv', {}, 1), expected);
      const crlf = body.replace(/\n/g, '\r\n');
      const items = await parse(crlf, 'csv', {}, 1);
      assert.deepEqual(
        items.map((item) => item.line),
        [2, 4, 8],
      );
      assert.equal((items[2] as ParsedRow).update.attributes['b'], 'w');
    });

    it('strips a UTF-8 BOM and keeps multi-byte characters split across 1-byte chunks', async () => {
      const body = '\uFEFFpcId,naive\n1,日本語 ü 🎉\n';
      assert.deepEqual(await parse(body, 'csv', {}, 1), [row(2, 'pcId', '1', { naive: '日本語 ü 🎉' })]);
    });

    it('does not treat "&" or "%" as special', async () => {
      assert.deepEqual(await parse('pcId,a\n1,R&D 100%\n', 'csv'), [row(2, 'pcId', '1', { a: 'R&D 100%' })]);
    });

    it('refuses malformed quoting with the line where the record starts', async () => {
      await rejects(parse('pcId,a\n1,x\n2,"open\nstill open\n', 'csv'), 3, /quoted field is not closed/);
      await rejects(parse('pcId,a\n1,"x"y\n', 'csv'), 2, /closing double quote/);
      await rejects(parse('pcId,a\n1,x\n2,ab"c\n', 'csv'), 3, /double quote/);
      await rejects(parse('pcId,a\n1,"a\nb"\n2,ab"c\n', 'csv', {}, 1), 4, /double quote/);
    });

    it('refuses bytes that are not UTF-8', async () => {
      await rejects(parse(Buffer.from([...Buffer.from('pcId,a\n1,caf'), 0xe9, 0x0a]), 'csv'), 2, /not valid UTF-8/);
    });
  });

  describe('header (form and csv)', () => {
    for (const format of ['form', 'csv'] as const) {
      const prefix = format === 'form' ? 'batch=' : '';
      it(`${format}: drops a "profile." prefix`, async () => {
        assert.deepEqual(await parse(`${prefix}pcId,profile.tier,x\n1,gold,y\n`, format), [
          row(2, 'pcId', '1', { tier: 'gold', x: 'y' }),
        ]);
      });

      it(`${format}: refuses a bad first column on line 1`, async () => {
        await rejects(
          parse(`${prefix}id,a\n1,x\n`, format),
          1,
          /first column of the header must be "pcId" or "thirdPartyId"/,
        );
        await rejects(parse(`${prefix}profile.pcId,a\n1,x\n`, format), 1, /first column/);
      });

      it(`${format}: refuses a header without attribute columns`, async () => {
        await rejects(parse(`${prefix}pcId\n1\n`, format), 1, /no attribute columns/);
      });

      it(`${format}: refuses duplicate attribute columns`, async () => {
        await rejects(parse(`${prefix}pcId,a,b,a\n1,x,y,z\n`, format), 1, /"a" appears more than once/);
        await rejects(parse(`${prefix}pcId,tier,profile.tier\n1,x,y\n`, format), 1, /"tier" appears more than once/);
      });

      it(`${format}: trims spaces and tabs around header cells (the "+" of a form too), never around values`, async () => {
        const space = format === 'form' ? '+' : ' ';
        assert.deepEqual(await parse(`${prefix}  thirdPartyId ,\ta${space}, profile.b\t\nu1, x ,y \n`, format), [
          row(2, 'thirdPartyId', 'u1', { a: ' x ', b: 'y ' }),
        ]);
      });

      it(`${format}: accepts any attribute name but control characters (spaces, dots, punctuation, any script)`, async () => {
        const names = ['first name', 'address.city', 'Größe', 'a:b/c?d', '名前', '🙂', 'x"y', "o'k"];
        const cell = (name: string) =>
          format === 'form' ? encodeURIComponent(name) : `"${name.replaceAll('"', '""')}"`;
        const body = `${prefix}pcId,${names.map(cell).join(',')}\n1,${names.map((_, i) => `v${i}`).join(',')}\n`;
        assert.deepEqual(await parse(body, format), [
          row(2, 'pcId', '1', Object.fromEntries(names.map((name, i) => [name, `v${i}`]))),
        ]);
      });

      it(`${format}: refuses bad or reserved attribute names`, async () => {
        const control = format === 'form' ? '%01' : '\u0001';
        const del = format === 'form' ? '%7F' : '\u007f';
        const c1 = format === 'form' ? '%C2%85' : '\u0085';
        await rejects(
          parse(`${prefix}pcId,a,b${control}c\n1,x,y\n`, format),
          1,
          /Header column 3: Attribute name "b\\u0001c" .*control/,
        );
        await rejects(parse(`${prefix}pcId,a${del}\n1,x\n`, format), 1, /Header column 2: .*control/);
        await rejects(parse(`${prefix}pcId,a${c1}\n1,x\n`, format), 1, /Header column 2: .*control/);
        await rejects(parse(`${prefix}pcId,a,   \n1,x,y\n`, format), 1, /Attribute name ""/);
        await rejects(parse(`${prefix}pcId,a,\n1,x,y\n`, format), 1, /Attribute name ""/);
        await rejects(parse(`${prefix}pcId,${'n'.repeat(129)}\n1,x\n`, format), 1, /1 to 128 characters/);
        // 128 characters are counted as characters, not UTF-16 units: 128 emoji are fine.
        const emoji = format === 'form' ? encodeURIComponent('🙂'.repeat(128)) : '🙂'.repeat(128);
        assert.equal((await parse(`${prefix}pcId,${emoji}\n1,x\n`, format)).length, 1);
        await rejects(parse(`${prefix}pcId,__proto__\n1,x\n`, format), 1, /reserved/);
        await rejects(parse(`${prefix}pcId,profile.constructor\n1,x\n`, format), 1, /reserved/);
      });

      it(`${format}: reports the header's own line after leading blank lines`, async () => {
        const body = format === 'form' ? 'batch=\n\npcId,a%01b\n1,x\n' : '\n\npcId,a\u0001b\n1,x\n';
        await rejects(parse(body, format), 3, /Attribute name/);
      });
    }
  });

  describe('rows (form and csv)', () => {
    for (const format of ['form', 'csv'] as const) {
      const prefix = format === 'form' ? 'batch=' : '';

      it(`${format}: removes empty cells and accepts short rows`, async () => {
        assert.deepEqual(await parse(`${prefix}pcId,a,b,c\n1,,y,\n2,x\n3\n`, format), [
          row(2, 'pcId', '1', { b: 'y' }),
          row(3, 'pcId', '2', { a: 'x' }),
          row(4, 'pcId', '3', {}),
        ]);
      });

      it(`${format}: skips blank and all-empty lines and keeps physical line numbers`, async () => {
        assert.deepEqual(await parse(`${prefix}pcId,a,b\n\n1,x,y\n   \n,,\n\r\n2,z,w\n\n\n`, format), [
          row(3, 'pcId', '1', { a: 'x', b: 'y' }),
          row(7, 'pcId', '2', { a: 'z', b: 'w' }),
        ]);
      });

      it(`${format}: fails only the row with a bad id, and goes on`, async () => {
        const long = 'i'.repeat(257);
        const items = await parse(`${prefix}thirdPartyId,a\n,x\nok,y\n${long},z\na/b,w\n`, format);
        assert.deepEqual(items, [
          { type: 'failure', line: 2, id: '', message: 'thirdPartyId is empty' },
          row(3, 'thirdPartyId', 'ok', { a: 'y' }),
          { type: 'failure', line: 4, id: long, message: 'thirdPartyId is 257 characters; the limit is 256' },
          { type: 'failure', line: 5, id: 'a/b', message: 'thirdPartyId must not contain "+" or "/"' },
        ]);
      });

      it(`${format}: fails only the row with a value over 5,000 characters`, async () => {
        const items = await parse(`${prefix}pcId,a,b\n1,x,${'v'.repeat(5001)}\n2,${'v'.repeat(5000)},y\n`, format);
        assert.equal(items.length, 2);
        assert.deepEqual(items[0], {
          type: 'failure',
          line: 2,
          id: '1',
          message: 'Value of attribute "b" is 5001 characters; the limit is 5000',
        });
        assert.equal(items[1]?.type, 'row');
        assert.equal((items[1] as ParsedRow).update.attributes['a']?.length, 5000);
      });

      it(`${format}: fails only the row with more cells than the header`, async () => {
        assert.deepEqual(await parse(`${prefix}pcId,a\n1,x,y\n2,z\n`, format), [
          { type: 'failure', line: 2, id: '1', message: 'Row has 3 cells; the header has 2 columns' },
          row(3, 'pcId', '2', { a: 'z' }),
        ]);
      });

      it(`${format}: refuses a batch without data rows`, async () => {
        await rejects(parse(`${prefix}pcId,a\n`, format), undefined, /^Batch is empty$/);
        await rejects(parse(`${prefix}pcId,a\n\n,,\n`, format), undefined, /^Batch is empty$/);
        await rejects(parse(prefix, format), undefined, /^Batch is empty$/);
        await rejects(parse('', format), undefined, /^Batch is empty$/);
      });

      it(`${format}: refuses a body over maxBytes, counting raw bytes as they arrive`, async () => {
        const body = `${prefix}pcId,a\n1,é\n`; // é is 2 bytes
        const size = Buffer.byteLength(body);
        assert.equal((await parse(body, format, { maxBytes: size }, 3)).length, 1);
        await tooLarge(parse(body, format, { maxBytes: size - 1 }, 3), /^Batch body is over \d+ bytes$/);
        await tooLarge(parse(body, format, { maxBytes: 10 }), /^Batch body is over 10 bytes$/);
        const big = `${prefix}pcId,a\n` + '1,x\n'.repeat(300_000);
        await tooLarge(parse(big, format, { maxBytes: 1024 * 1024 }, 65536), /^Batch body is over 1 MB$/);
      });

      it(`${format}: refuses more than maxRows data rows, failed rows included`, async () => {
        const body = `${prefix}pcId,a\n1,x\n\n,y\n3,z\n`;
        assert.equal((await parse(body, format, { maxRows: 3 })).length, 3);
        await tooLarge(parse(body, format, { maxRows: 2 }), /^Batch has more than 2 rows$/);
      });
    }
  });

  describe('json', () => {
    it('parses pcId and thirdPartyId profiles, with line = index + 1', async () => {
      const body = JSON.stringify({
        profiles: [
          { thirdPartyId: 'u1', attributes: { tier: 'gold', 'profile.city': 'Paris', empty: '' } },
          { pcId: 'p-2', attributes: {} },
        ],
      });
      const expected = [row(1, 'thirdPartyId', 'u1', { tier: 'gold', city: 'Paris' }), row(2, 'pcId', 'p-2', {})];
      assert.deepEqual(await parse(body, 'json'), expected);
      assert.deepEqual(await parse(`\uFEFF${body}`, 'json', {}, 1), expected);
    });

    it('fails only the elements that break a rule', async () => {
      const profiles = [
        'not an object',
        { attributes: { a: 'x' } },
        { pcId: '1', thirdPartyId: 'u', attributes: {} },
        { thirdPartyId: 42, attributes: {} },
        { thirdPartyId: 'a+b', attributes: {} },
        { thirdPartyId: 'u6' },
        { thirdPartyId: 'u7', attributes: ['x'] },
        { thirdPartyId: 'u8', attributes: { a: 1 } },
        { thirdPartyId: 'u9', attributes: { 'a\nb': 'x' } },
        { thirdPartyId: 'u10', attributes: { a: 'v'.repeat(5001) } },
        { thirdPartyId: 'u11', attributes: { a: 'x', 'profile.a': 'y' } },
        { thirdPartyId: 'ok', attributes: { a: 'x' } },
      ];
      const items = await parse(JSON.stringify({ profiles }), 'json');
      assert.deepEqual(
        items.map((item) => [item.line, item.type, item.type === 'failure' ? item.id : item.update.key.id]),
        [
          [1, 'failure', ''],
          [2, 'failure', ''],
          [3, 'failure', '1'],
          [4, 'failure', '42'],
          [5, 'failure', 'a+b'],
          [6, 'failure', 'u6'],
          [7, 'failure', 'u7'],
          [8, 'failure', 'u8'],
          [9, 'failure', 'u9'],
          [10, 'failure', 'u10'],
          [11, 'failure', 'u11'],
          [12, 'row', 'ok'],
        ],
      );
      const messages = items.map((item) => (item.type === 'failure' ? item.message : ''));
      assert.match(messages[0]!, /must be an object/);
      assert.match(messages[1]!, /needs a "pcId" or a "thirdPartyId"/);
      assert.match(messages[2]!, /not both/);
      assert.match(messages[3]!, /"thirdPartyId" must be a string/);
      assert.match(messages[4]!, /must not contain "\+"/);
      assert.match(messages[5]!, /"attributes" must be an object/);
      assert.match(messages[6]!, /"attributes" must be an object/);
      assert.match(messages[7]!, /Value of attribute "a" must be a string/);
      assert.match(messages[8]!, /Attribute name "a\\u000ab" must not contain control characters/);
      assert.match(messages[9]!, /5001 characters/);
      assert.match(messages[10]!, /"a" is given more than once/);
    });

    it('reads a null value as removing the attribute (issue 19), after the same name checks', async () => {
      const profiles = [
        { pcId: 'p1', attributes: { a: null, 'profile.b': null, c: 'x', d: '' } },
        { thirdPartyId: 'u2', attributes: { only: null } },
        { thirdPartyId: 'u3', attributes: { '': null } },
        { thirdPartyId: 'u4', attributes: { __proto__: null } },
        { thirdPartyId: 'u5', attributes: { a: null, 'profile.a': 'y' } },
        { thirdPartyId: 'u6', attributes: { 'a\u0001': null } },
        { thirdPartyId: 'u7', attributes: { [`${'n'.repeat(129)}`]: null } },
      ];
      const body = JSON.stringify({ profiles }).replace('"u4","attributes":{}', '"u4","attributes":{"__proto__":null}');
      const items = await parse(body, 'json');
      assert.deepEqual(items.slice(0, 2), [
        {
          type: 'row',
          line: 1,
          update: { key: { kind: 'pcId', id: 'p1' }, attributes: { c: 'x' }, remove: ['a', 'b'] },
        },
        { type: 'row', line: 2, update: { key: { kind: 'thirdPartyId', id: 'u2' }, attributes: {}, remove: ['only'] } },
      ]);
      const messages = items.slice(2).map((item) => (item.type === 'failure' ? item.message : 'row'));
      assert.match(messages[0]!, /must be 1 to 128 characters/);
      assert.match(messages[1]!, /"__proto__" is reserved/);
      assert.match(messages[2]!, /"a" is given more than once/);
      assert.match(messages[3]!, /control characters/);
      assert.match(messages[4]!, /1 to 128 characters/);
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    });

    it('still refuses values that are neither a string nor null', async () => {
      const profiles = [true, 1, [], {}].map((value, i) => ({ pcId: `p${i}`, attributes: { a: value } }));
      const items = await parse(JSON.stringify({ profiles }), 'json');
      for (const item of items) {
        assert.equal(item.type, 'failure');
        if (item.type === 'failure') assert.match(item.message, /Value of attribute "a" must be a string or null/);
      }
    });

    it('refuses "__proto__" and other reserved names without polluting anything', async () => {
      const body =
        '{"profiles":[{"pcId":"1","attributes":{"__proto__":{"polluted":"yes"}}},' +
        '{"pcId":"2","attributes":{"constructor":"x"}},{"__proto__":{"pcId":"3"},"attributes":{}},' +
        '{"pcId":"4","attributes":{"ok":"y"}}]}';
      const items = await parse(body, 'json');
      assert.deepEqual(
        items.map((item) => item.type),
        ['failure', 'failure', 'failure', 'row'],
      );
      assert.match((items[0] as RowFailure).message, /reserved/);
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
      assert.equal(Object.getPrototypeOf((items[3] as ParsedRow).update.attributes), Object.prototype);
    });

    it('refuses a body that is not JSON or has no "profiles" array', async () => {
      await rejects(parse('{"profiles":[', 'json'), undefined, /not valid JSON/);
      await rejects(parse('batch=pcId,a\n1,x\n', 'json'), undefined, /not valid JSON/);
      await rejects(parse('[]', 'json'), undefined, /"profiles" array/);
      await rejects(parse('null', 'json'), undefined, /"profiles" array/);
      await rejects(parse('{"profile":[]}', 'json'), undefined, /"profiles" array/);
      await rejects(parse('{"profiles":{"0":{}}}', 'json'), undefined, /"profiles" array/);
      await rejects(parse(Buffer.from([0x7b, 0xff, 0x7d]), 'json'), undefined, /not valid UTF-8/);
    });

    it('refuses an empty batch', async () => {
      await rejects(parse('{"profiles":[]}', 'json'), undefined, /^Batch is empty$/);
      await rejects(parse('', 'json'), undefined, /^Batch is empty$/);
    });

    it('enforces maxBytes while reading and maxRows', async () => {
      const body = JSON.stringify({
        profiles: [
          { pcId: '1', attributes: {} },
          { pcId: '2', attributes: {} },
        ],
      });
      assert.equal((await parse(body, 'json', { maxBytes: body.length, maxRows: 2 })).length, 2);
      await tooLarge(parse(body, 'json', { maxBytes: body.length - 1 }, 1), /^Batch body is over \d+ bytes$/);
      await tooLarge(parse(body, 'json', { maxRows: 1 }), /^Batch has more than 1 rows$/);
      let pulled = 0;
      async function* endless(): AsyncGenerator<string> {
        yield '{"profiles":[';
        for (;;) {
          pulled++;
          yield '{"pcId":"1","attributes":{}},';
        }
      }
      await tooLarge(collect(endless(), 'json', { maxBytes: 2048 }), /over 2 KB/);
      assert.ok(pulled < 100, `pulled ${pulled} chunks`);
    });
  });

  describe('streaming', () => {
    it('yields rows before the body has been read, and stops reading when the caller stops', async () => {
      let pulled = 0;
      let closed = false;
      async function* body(): AsyncGenerator<string> {
        try {
          yield 'batch=pcId,a\n';
          for (let i = 0; ; i++) {
            pulled++;
            yield `${i},x\n`.repeat(100);
          }
        } finally {
          closed = true;
        }
      }
      let rows = 0;
      for await (const item of parseBatch(body(), { format: 'form' })) {
        assert.equal(item.type, 'row');
        if (++rows === 1000) break;
      }
      assert.ok(pulled <= 11, `pulled ${pulled} chunks for 1000 rows`);
      assert.ok(closed, 'source closed');
    });

    it('turns a failing source into a BatchRejectedError', async () => {
      async function* failing(): AsyncGenerator<string> {
        yield 'pcId,a\n1,x\n';
        throw new Error('socket hang up at /secret/path');
      }
      const items: Item[] = [];
      await assert.rejects(
        (async () => {
          for await (const item of parseBatch(failing(), { format: 'csv' })) items.push(item);
        })(),
        (error: unknown) => error instanceof BatchRejectedError && !error.message.includes('secret'),
      );
    });

    it('passes a 413 thrown by the source through', async () => {
      // eslint-disable-next-line require-yield
      async function* failing(): AsyncGenerator<string> {
        throw new PayloadTooLargeError('Request body is too large');
      }
      await tooLarge(collect(failing(), 'form'), /too large/);
      await tooLarge(collect(failing(), 'json'), /too large/);
    });

    it('refuses an unknown format with a typed error', async () => {
      await rejects(collect(chunked('x'), 'xml' as BatchFormat), undefined, /Unsupported batch format/);
    });
  });

  describe('properties', () => {
    const fragments = [
      'batch=',
      'pcId',
      'thirdPartyId',
      'profile.',
      'tier',
      'a',
      '1',
      ',',
      ',',
      '\n',
      '\n',
      '\r\n',
      '\r',
      '%',
      '%2',
      '%2C',
      '%C3',
      '%A9',
      '%ZZ',
      '&',
      '+',
      '"',
      ' ',
      'é',
      '🎉',
      '\uFEFF',
      '__proto__',
    ];
    const bodyArbitrary = fc.tuple(
      fc.boolean(),
      fc.array(fc.oneof(fc.constantFrom(...fragments), fc.string({ maxLength: 4 })), { maxLength: 60 }),
      fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 3 }),
      fc.integer({ min: 1, max: 16 }),
    );

    async function outcome(body: Buffer, format: BatchFormat, size: number): Promise<Item[] | Error> {
      try {
        const items = await parse(body, format, { maxRows: 5 }, size);
        for (const item of items) {
          assert.ok(Number.isInteger(item.line) && item.line >= 1);
          if (item.type === 'row') {
            for (const value of Object.values(item.update.attributes)) assert.notEqual(value, '');
          } else {
            assert.equal(typeof item.id, 'string');
            assert.equal(typeof item.message, 'string');
          }
        }
        return items;
      } catch (error) {
        assert.ok(
          error instanceof BatchRejectedError || error instanceof PayloadTooLargeError,
          `unexpected ${error instanceof Error ? error.stack : String(error)}`,
        );
        return error;
      }
    }

    for (const format of ['form', 'csv', 'json'] as const) {
      it(`${format}: any body parses or throws only a typed 400/413, the same in any chunk size`, async () => {
        await fc.assert(
          fc.asyncProperty(bodyArbitrary, async ([prefixed, parts, raw, size]) => {
            const text = (prefixed && format === 'form' ? 'batch=' : '') + parts.join('');
            const body = Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from(raw)]);
            const whole = await outcome(body, format, Infinity);
            const split = await outcome(body, format, size);
            if (whole instanceof Error || split instanceof Error) {
              assert.ok(whole instanceof Error && split instanceof Error, 'both fail');
              assert.equal(split.constructor, whole.constructor);
              assert.equal(split.message, whole.message);
            } else {
              assert.deepEqual(split, whole);
            }
          }),
          { numRuns: 300 },
        );
      });
    }

    it('form: any well-formed batch round-trips through URL-encoding', async () => {
      const bare = (name: string): string => name.replace(/^profile\./, '');
      const name = fc
        .stringMatching(/^(profile\.)?[A-Za-z0-9_.-]{1,12}$/)
        .filter((n) => bare(n) !== '' && !['__proto__', 'constructor', 'prototype'].includes(bare(n)));
      const text = fc.string({ unit: 'grapheme', maxLength: 10 });
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(name, { minLength: 1, maxLength: 4, selector: bare }),
          fc.array(
            fc.tuple(
              text.filter((id) => id !== '' && !/[+/]/.test(id)),
              fc.array(text, { maxLength: 4 }),
            ),
            {
              minLength: 1,
              maxLength: 5,
            },
          ),
          fc.integer({ min: 1, max: 9 }),
          async (names, rows, size) => {
            const encode = (text: string): string => encodeURIComponent(text).replace(/%20/g, '+');
            const lines = [`batch=thirdPartyId,${names.map(encode).join(',')}`];
            const expected: Item[] = [];
            rows.forEach(([id, values], index) => {
              const cells = values.slice(0, names.length);
              lines.push([id, ...cells].map(encode).join(','));
              const attributes: Record<string, string> = {};
              cells.forEach((value, i) => {
                if (value !== '') attributes[bare(names[i]!)] = value;
              });
              const blank = [id, ...cells].every((cell) => cell.trim() === '');
              if (!blank) expected.push(row(index + 2, 'thirdPartyId', id, attributes));
            });
            const body = lines.join('\r\n');
            if (expected.length === 0) {
              await rejects(parse(body, 'form', {}, size), undefined, /^Batch is empty$/);
              return;
            }
            assert.deepEqual(await parse(body, 'form', {}, size), expected);
          },
        ),
        { numRuns: 200 },
      );
    });
  });
});
