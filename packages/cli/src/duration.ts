import { UsageError } from './errors';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Seconds of `90d`, `12h`, `30m`, `45s`, `2w` or a plain number of seconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d{1,9})([smhdw]?)$/.exec(text.trim());
  if (!match) {
    throw new UsageError(`${flag} must be a number of seconds or a duration like 90d, 12h, 30m (got "${text}")`);
  }
  return Number(match[1]) * (UNITS[match[2] || 's'] as number);
}

/** "90 days", "12 hours", "5 minutes" for a number of seconds. */
export function describeSeconds(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (seconds >= 86_400) return plural(Math.round(seconds / 86_400), 'day');
  if (seconds >= 3600) return plural(Math.round(seconds / 3600), 'hour');
  if (seconds >= 60) return plural(Math.round(seconds / 60), 'minute');
  return plural(Math.max(0, Math.round(seconds)), 'second');
}
