import assert from 'node:assert/strict';
import { csvToBatchForm, isBatchForm, parseCsv } from '../src/batch-form';
import { parseDuration } from '../src/duration';

describe('batch form conversion', () => {
  it('parses RFC 4180 CSV: quotes, doubled quotes, line breaks in quotes, CRLF, BOM, blank lines', () => {
    assert.deepEqual(parseCsv('\uFEFFa,b\r\n"x, y","say ""hi"""\n\n"multi\nline",\n'), [
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['multi\nline', ''],
    ]);
  });

  it("URL-encodes every header and cell into Adobe's form", () => {
    assert.equal(
      csvToBatchForm('thirdPartyId,city\nu1,"New York, NY"\nu2,A&B 100%\n'),
      'batch=thirdPartyId,city\nu1,New+York%2C+NY\nu2,A%26B+100%25\n',
    );
    assert.ok(isBatchForm('batch=thirdPartyId\n'));
    assert.ok(!isBatchForm('thirdPartyId\n'));
  });
});

describe('durations', () => {
  it('reads 90d, 12h, 30m and seconds', () => {
    assert.equal(parseDuration('90d', '--expires-in'), 7_776_000);
    assert.equal(parseDuration('12h', '--expires-in'), 43_200);
    assert.equal(parseDuration('30m', '--expires-in'), 1800);
    assert.equal(parseDuration('300', '--expires-in'), 300);
    assert.throws(() => parseDuration('soon', '--expires-in'), /--expires-in/);
  });
});
