import assert from 'node:assert/strict';
import {
  MAX_CSV_ATTRIBUTES,
  csvCell,
  csvExportProblem,
  csvHeader,
  csvHeaderName,
  csvRow,
  parseExportRequest,
} from '../src/profile-export';
import { ValidationError } from '../src/errors';

describe('profile export helpers (API.md 5)', () => {
  it('reads format (required) and key (default pcId), refusing anything else', () => {
    assert.deepEqual(parseExportRequest('csv', undefined), { format: 'csv', key: 'pcId' });
    assert.deepEqual(parseExportRequest('ndjson', 'thirdPartyId'), { format: 'ndjson', key: 'thirdPartyId' });
    for (const [format, key] of [
      [undefined, undefined],
      ['', undefined],
      ['json', undefined],
      ['csv', 'ecid'],
      ['csv', ''],
    ] as const) {
      assert.throws(() => parseExportRequest(format, key), ValidationError, `${String(format)} ${String(key)}`);
    }
  });

  it('quotes a cell only when RFC 4180 or the spaces at its ends need it', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('a\r\nb'), '"a\r\nb"');
    assert.equal(csvCell(' lead'), '" lead"');
    assert.equal(csvCell('trail\t'), '"trail\t"');
    assert.equal(csvCell('mid dle'), 'mid dle');
  });

  it('writes header names the batch parser reads back: profile. before a name that starts with it or a space', () => {
    assert.equal(csvHeaderName('tier'), 'tier');
    assert.equal(csvHeaderName('profile.tier'), 'profile.profile.tier');
    assert.equal(csvHeaderName(' lead'), 'profile. lead');
    assert.equal(csvHeader('thirdPartyId', ['a', 'b,c']), 'thirdPartyId,a,"b,c"\r\n');
  });

  it('writes a row with empty cells where the profile lacks a name (never a prototype member)', () => {
    const profile = {
      pcId: 'pc-1',
      attributes: { b: { value: 'x', modifiedAt: 0 } },
      modifiedAt: 0,
    };
    assert.equal(csvRow(profile, 'pcId', ['a', 'b', 'toString']), 'pc-1,,x,\r\n');
  });

  it('refuses a CSV a batch cannot read back: a name ending with a space, or too many names', () => {
    assert.equal(csvExportProblem(['a', ' b']), null);
    assert.match(csvExportProblem(['a', 'b ']) ?? '', /ends with a space/);
    const many = Array.from({ length: MAX_CSV_ATTRIBUTES + 1 }, (_, i) => `n${i}`);
    assert.equal(csvExportProblem(many.slice(1)), null);
    assert.match(csvExportProblem(many) ?? '', /at most 1023/);
  });
});
