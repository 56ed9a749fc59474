/**
 * How long something lasts or has left, in the words the CLI and the VS Code extension both show
 * ("New token expires in 90 days", "keeps working for 10 minutes"): written once so both say it
 * the same way.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** `1 day`, `2 days`. */
function count(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/**
 * Whole days (or hours, minutes) left, for "expires in …". A minute of slack absorbs the second
 * the server spent answering, so a fresh 90-day token reads "90 days", not "89 days".
 */
export function describeTimeLeft(ms: number): string {
  const slack = ms + MINUTE;
  if (slack >= DAY) return count(Math.floor(slack / DAY), 'day');
  if (slack >= HOUR) return count(Math.floor(slack / HOUR), 'hour');
  if (ms >= MINUTE) return count(Math.floor(ms / MINUTE), 'minute');
  return 'less than a minute';
}

/** "90 days", "1 hour", "45 seconds" for a duration in whole seconds (a setting, not a time left). */
export function describeSeconds(seconds: number): string {
  if (seconds >= 86_400 && seconds % 86_400 === 0) return count(seconds / 86_400, 'day');
  if (seconds >= 3600 && seconds % 3600 === 0) return count(seconds / 3600, 'hour');
  if (seconds >= 60 && seconds % 60 === 0) return count(seconds / 60, 'minute');
  return count(seconds, 'second');
}
