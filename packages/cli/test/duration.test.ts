import assert from 'node:assert/strict';
import { parseDuration } from '../src/duration';

describe('durations', () => {
  it('reads 90d, 12h, 30m and seconds', () => {
    assert.equal(parseDuration('90d', '--expires-in'), 7_776_000);
    assert.equal(parseDuration('12h', '--expires-in'), 43_200);
    assert.equal(parseDuration('30m', '--expires-in'), 1800);
    assert.equal(parseDuration('300', '--expires-in'), 300);
    assert.throws(() => parseDuration('soon', '--expires-in'), /--expires-in/);
  });
});
