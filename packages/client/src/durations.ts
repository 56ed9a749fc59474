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
 * Whole days left, rounded up: "expires in N days" means it expires within N days, never later.
 * The one rounding rule of every "expires in …" (the CLI, the extension's toast, status bar and
 * status view) and of the extension's warning window (`left <= warningDays` counts the same days),
 * so a fresh 90-day token reads "90 days" everywhere for its whole first day. 0 once expired.
 */
export function daysLeft(ms: number): number {
  return ms <= 0 ? 0 : Math.ceil(ms / DAY);
}

/**
 * "expires in …": whole days from a day on, whole hours under a day, whole minutes under an hour,
 * each rounded up as `daysLeft` does.
 */
export function describeTimeLeft(ms: number): string {
  if (ms >= DAY) return count(daysLeft(ms), 'day');
  if (ms >= HOUR) return count(Math.ceil(ms / HOUR), 'hour');
  if (ms >= MINUTE) return count(Math.ceil(ms / MINUTE), 'minute');
  return 'less than a minute';
}

/** "90 days", "1 hour", "45 seconds" for a duration in whole seconds (a setting, not a time left). */
export function describeSeconds(seconds: number): string {
  if (seconds >= 86_400 && seconds % 86_400 === 0) return count(seconds / 86_400, 'day');
  if (seconds >= 3600 && seconds % 3600 === 0) return count(seconds / 3600, 'hour');
  if (seconds >= 60 && seconds % 60 === 0) return count(seconds / 60, 'minute');
  return count(seconds, 'second');
}
