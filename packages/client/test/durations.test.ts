import assert from 'node:assert/strict';
import { describeSeconds, describeTimeLeft } from '../src/durations';

const DAY = 86_400_000;

describe('durations (the words of the CLI and the VS Code extension)', () => {
  it('says a fresh 90-day token expires in 90 days, even a second after the server answered', () => {
    assert.equal(describeTimeLeft(7_775_999_000), '90 days');
    assert.equal(describeTimeLeft(90 * DAY), '90 days');
    assert.equal(describeTimeLeft(6.5 * DAY), '6 days');
    assert.equal(describeTimeLeft(DAY), '1 day');
    assert.equal(describeTimeLeft(5 * 3_600_000), '5 hours');
    assert.equal(describeTimeLeft(3 * 60_000), '3 minutes');
    assert.equal(describeTimeLeft(10_000), 'less than a minute');
  });

  it('names a setting in seconds exactly, in the largest unit that divides it', () => {
    assert.equal(describeSeconds(7_776_000), '90 days');
    assert.equal(describeSeconds(86_400), '1 day');
    assert.equal(describeSeconds(7200), '2 hours');
    assert.equal(describeSeconds(600), '10 minutes');
    assert.equal(describeSeconds(90), '90 seconds');
    assert.equal(describeSeconds(1), '1 second');
  });
});
