/** The failure log (issue 15.5): exact for what it keeps, and never larger than its bound. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FAILURE_LOG_SLACK,
  MAX_FAILURE_LOG_BYTES,
  decodeFailureLog,
  decodeLegacyFailures,
  encodeFailureLog,
  failedRowBytesOf,
  failureMessage,
  keptFailure,
} from '../src/store/failure-log';
import type { BatchFailure } from '../src/store/types';

const text = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom('', '\u0000', '\ud800', 'a\uFFFE', '007 and 0 and 12345678901234567890', 'x'.repeat(300)),
);
const failure: fc.Arbitrary<BatchFailure> = fc
  .record({ line: fc.option(fc.integer({ min: 1, max: 600_000 }), { nil: undefined }), id: text, message: text })
  .map(({ line, id, message }) => (line === undefined ? { id, message } : { line, id, message }));

describe('failure log (issue 15.5)', () => {
  it('gives back exactly what it keeps: ids cut off, unstorable text as U+FFFD, lines and numbers intact', () => {
    fc.assert(
      fc.property(fc.array(failure, { maxLength: 40 }), (failures) => {
        const { failures: read } = decodeFailureLog(encodeFailureLog(failures, 10_000_000));
        assert.deepEqual(read, failures.map(keptFailure));
      }),
    );
  });

  it('never keeps more than the failing rows took (plus the slack, at most 128 KiB); what it lists is a prefix', () => {
    fc.assert(
      fc.property(fc.array(failure, { maxLength: 1000 }), fc.nat(5000), (failures, unlisted) => {
        const rowBytes = failedRowBytesOf(failures, failures.length + unlisted);
        const blob = encodeFailureLog(failures, rowBytes);
        assert.ok(blob.length <= Math.min(rowBytes + FAILURE_LOG_SLACK, MAX_FAILURE_LOG_BYTES), `${blob.length}`);
        const read = decodeFailureLog(blob);
        assert.equal(read.failedRowBytes, rowBytes);
        assert.deepEqual(read.failures, failures.slice(0, read.failures.length).map(keptFailure));
      }),
      { numRuns: 50 },
    );
  });

  it('lists all 1,000 rows of the shortest failing rows that can differ: one random character and "+"', () => {
    const failures: BatchFailure[] = [];
    for (let i = 0; i < 1000; i++) {
      failures.push({
        line: i + 2,
        id: `${String.fromCharCode(0x21 + ((i * 7919) % 90))}+`,
        message: 'thirdPartyId must not contain "+" or "/"',
      });
    }
    const rowBytes = 1000 * 3; // "X+\n"
    const blob = encodeFailureLog(failures, failedRowBytesOf(failures, 1000));
    assert.ok(blob.length <= rowBytes, `${blob.length} bytes kept for ${rowBytes} bytes of rows`);
    assert.equal(decodeFailureLog(blob).failures.length, 1000);
  });

  it('reads the JSON failures of batches written before, and shows lines as batchStatus does', () => {
    const legacy = [{ id: 'a', message: 'Line 2: thirdPartyId is empty' }];
    assert.deepEqual(decodeLegacyFailures(JSON.stringify(legacy), 3), { failures: legacy, failedRowBytes: 3 });
    assert.equal(failureMessage({ line: 7, id: 'x', message: 'why' }), 'Line 7: why');
    assert.equal(failureMessage({ id: 'x', message: 'why' }), 'why');
  });
});
