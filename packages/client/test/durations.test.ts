import assert from 'node:assert/strict';
import { daysLeft, describeSeconds, describeTimeLeft } from '../src/durations';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;

describe('durations (the words of the CLI and the VS Code extension)', () => {
  it('says a fresh 90-day token expires in 90 days, a second, a minute or an hour after the server answered', () => {
    assert.equal(describeTimeLeft(90 * DAY), '90 days');
    assert.equal(describeTimeLeft(7_775_999_000), '90 days');
    assert.equal(describeTimeLeft(90 * DAY - 2 * MINUTE), '90 days', 'the status bar a moment after the toast');
    assert.equal(describeTimeLeft(90 * DAY - 5 * HOUR), '90 days');
    assert.equal(describeTimeLeft(DAY), '1 day');
  });

  it('has one rounding rule: "in N days" means within N days (rounded up), as the warning window counts them', () => {
    assert.equal(daysLeft(6.5 * DAY), 7);
    assert.equal(describeTimeLeft(6.5 * DAY), '7 days');
    assert.equal(daysLeft(7 * DAY), 7);
    assert.equal(daysLeft(7 * DAY + 1), 8);
    assert.equal(daysLeft(1), 1);
    assert.equal(daysLeft(0), 0);
    assert.equal(daysLeft(-DAY), 0);
  });

  it('counts hours under a day and minutes under an hour, rounded up the same way', () => {
    assert.equal(describeTimeLeft(5 * HOUR), '5 hours');
    assert.equal(describeTimeLeft(4.2 * HOUR), '5 hours');
    assert.equal(describeTimeLeft(3 * MINUTE), '3 minutes');
    assert.equal(describeTimeLeft(2.5 * MINUTE), '3 minutes');
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
