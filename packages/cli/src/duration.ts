import { describeSeconds } from '@profilegate/client';
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

/**
 * `parseDuration`, checked against the server's limits here, so that a mistake names `flag` as the
 * user typed it (not the body field) and is a usage error before any call.
 */
export function parseDurationWithin(text: string, flag: string, min: number, max: number): number {
  const seconds = parseDuration(text, flag);
  if (seconds < min || seconds > max) {
    const range =
      min === 0
        ? `at most ${describeSeconds(max)} (${max} seconds)`
        : `from ${describeSeconds(min)} to ${describeSeconds(max)} (${min} to ${max} seconds)`;
    throw new UsageError(`${flag} must be ${range} (got "${text}")`);
  }
  return seconds;
}
