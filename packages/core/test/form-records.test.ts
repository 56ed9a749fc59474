import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { FormRecords } from '../src/batch/form-records';

/** Records of `text` fed to FormRecords in chunks cut at the given byte offsets. */
function split(text: string, cuts: number[]): string[][] {
  const bytes = Buffer.from(text, 'utf8');
  const records: string[][] = [];
  const splitter = new FormRecords({
    accept: (record) => records.push(record),
    maxCells: () => Infinity,
    tooWide: () => new Error('too wide'),
    tooLong: () => new Error('too long'),
  });
  let at = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1)), bytes.length].sort((a, b) => a - b)) {
    if (cut <= at) continue;
    let end = cut;
    while (end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end++; // whole UTF-8 sequences only
    splitter.push(bytes.subarray(at, end));
    at = end;
  }
  splitter.push(null);
  return records;
}

/** What csv-parse makes of a form body, as the parser used it before the hand-written split. */
function csvParse(text: string): string[][] {
  return parse(text, {
    bom: false,
    quote: false,
    record_delimiter: ['\r\n', '\n'],
    relax_column_count: true,
    skip_empty_lines: false,
  }) as string[][];
}

describe('FormRecords', () => {
  it('splits lines on \\n and \\r\\n and cells on commas, keeping blank lines and a lone \\r', () => {
    assert.deepEqual(split('id,a\r\nu1,x\n\nu2,"y",\rz\nu3', []), [
      ['id', 'a'],
      ['u1', 'x'],
      [''],
      ['u2', '"y"', '\rz'],
      ['u3'],
    ]);
  });

  it('gives the records csv-parse gives with quote: false, in any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', ',', '\n', '\r', '"', ' ', 'é', '€', '%2C'), { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (pieces, cuts) => {
          const text = pieces.join('');
          assert.deepEqual(split(text, cuts), csvParse(text));
        },
      ),
      { numRuns: 500 },
    );
  });
});
