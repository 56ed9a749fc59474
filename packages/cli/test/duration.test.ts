import assert from 'node:assert/strict';
import { parseDuration, parseDurationWithin } from '../src/duration';

describe('durations', () => {
  it('reads 90d, 12h, 30m and seconds', () => {
    assert.equal(parseDuration('90d', '--expires-in'), 7_776_000);
    assert.equal(parseDuration('12h', '--expires-in'), 43_200);
    assert.equal(parseDuration('30m', '--expires-in'), 1800);
    assert.equal(parseDuration('300', '--expires-in'), 300);
    assert.throws(() => parseDuration('soon', '--expires-in'), /--expires-in/);
  });
});

describe('durations within limits (issue 20)', () => {
  it('names the flag and the range, never a body field', () => {
    assert.equal(parseDurationWithin('5m', '--expires-in', 300, 31_536_000), 300);
    assert.equal(parseDurationWithin('0', '--grace', 0, 86_400), 0);
    assert.throws(
      () => parseDurationWithin('0', '--expires-in', 300, 31_536_000),
      /^UsageError: --expires-in must be from 5 minutes to 365 days \(300 to 31536000 seconds\) \(got "0"\)$/,
    );
    assert.throws(
      () => parseDurationWithin('999999', '--grace', 0, 86_400),
      /^UsageError: --grace must be at most 1 day \(86400 seconds\) \(got "999999"\)$/,
    );
  });
});
