import { displayText } from '@profilegate/client';
import { SingleBar, Presets } from 'cli-progress';
import type { CommandContext } from './context';

/** Progress of a long step: a bar on a terminal, a few plain lines otherwise, nothing with --json. */
export interface Progress {
  update(value: number, total: number): void;
  stop(): void;
}

/** Options of `startProgress`. */
export interface ProgressOptions {
  /** Also show the rate and the time left, measured with `clock` (milliseconds; default Date.now). */
  rate?: boolean;
  clock?: () => number;
}

/** How fast a count grows, from its first value seen: per second, and seconds left to `total`. */
export class RateMeter {
  private first: { at: number; value: number } | null = null;

  constructor(private readonly clock: () => number) {}

  /** The rate so far, once the count has grown since its first value (null until then). */
  observe(value: number, total: number): { perSecond: number; secondsLeft: number } | null {
    const now = this.clock();
    if (this.first === null) {
      this.first = { at: now, value };
      return null;
    }
    const seconds = (now - this.first.at) / 1000;
    const grown = value - this.first.value;
    if (seconds <= 0 || grown <= 0) return null;
    const perSecond = grown / seconds;
    return { perSecond, secondsLeft: Math.max(0, Math.ceil((total - value) / perSecond)) };
  }
}

/** `4s`, `2m 05s`, `1h 02m`. */
export function describeDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/** `, 1,250 rows/s, 2m 05s left`, or nothing while the rate is not known. */
export function describeRate(rate: { perSecond: number; secondsLeft: number } | null, unit: string): string {
  if (rate === null) return '';
  const perSecond = Math.round(rate.perSecond).toLocaleString('en-US');
  return `, ${perSecond} ${unit}/s, ${describeDuration(rate.secondsLeft)} left`;
}

/**
 * Whether stderr can draw a bar: a terminal that understands cursor control (not TERM=dumb, as in
 * Emacs shells and some CI pseudo-terminals, where the escape sequences show as garbage).
 */
function drawsBar(ctx: CommandContext): boolean {
  return ctx.streams.stderr.isTTY === true && ctx.streams.env['TERM'] !== 'dumb';
}

/**
 * The bar's characters: blocks on a UTF-8 terminal, `=` and `-` when the locale says it is not
 * UTF-8 (LANG=C, ISO-8859-1…), where the blocks show as mojibake. No locale set: UTF-8.
 */
function barPreset(env: NodeJS.ProcessEnv) {
  const locale = env['LC_ALL'] || env['LC_CTYPE'] || env['LANG'] || '';
  return locale === '' || /utf-?8/i.test(locale) ? Presets.shades_classic : Presets.legacy;
}

/** Starts progress reporting for `label` (escaped here: it may name a batch id) on stderr. */
export function startProgress(
  ctx: CommandContext,
  text: string,
  unit: string,
  options: ProgressOptions = {},
): Progress {
  const label = displayText(text);
  const stderr = ctx.streams.stderr;
  if (ctx.json) return { update() {}, stop() {} };
  const meter = options.rate === true ? new RateMeter(options.clock ?? Date.now) : null;
  const rateOf = (value: number, total: number) =>
    meter === null ? '' : describeRate(meter.observe(value, total), unit);
  if (drawsBar(ctx)) {
    const bar = new SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit}{rate}`,
        stream: stderr,
        hideCursor: true,
      },
      barPreset(ctx.streams.env),
    );
    let started = false;
    return {
      update(value, total) {
        const payload = { rate: rateOf(value, total) };
        if (!started) {
          bar.start(total, value, payload);
          started = true;
        } else {
          bar.setTotal(total);
          bar.update(value, payload);
        }
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  // Not a terminal (CI logs): a line at most every 10% so logs stay short.
  let lastTenth = -1;
  return {
    update(value, total) {
      const rate = rateOf(value, total);
      const tenth = total > 0 ? Math.floor((value / total) * 10) : 10;
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        stderr.write(`${label}: ${value}/${total} ${unit}${rate}\n`);
      }
    },
    stop() {},
  };
}

/** Progress of a step whose total is not known: counts so far (a line on a terminal, a few plain lines otherwise). */
export interface Counter {
  update(rows: number, bytes: number): void;
  stop(): void;
}

/**
 * Starts counting rows and bytes for `text` on stderr: a bar that shows the counts on a terminal,
 * otherwise a line at 1,000 rows and each time the count doubles (a short log for any size).
 */
export function startCount(ctx: CommandContext, text: string): Counter {
  const label = displayText(text);
  const stderr = ctx.streams.stderr;
  if (ctx.json) return { update() {}, stop() {} };
  if (drawsBar(ctx)) {
    const bar = new SingleBar(
      { format: `${label} {value} rows | {size}`, stream: stderr, hideCursor: true, fps: 5 },
      barPreset(ctx.streams.env),
    );
    bar.start(0, 0, { size: formatSize(0) });
    return {
      update(rows, bytes) {
        bar.update(rows, { size: formatSize(bytes) });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let next = 1000;
  return {
    update(rows, bytes) {
      if (rows < next) return;
      while (next <= rows) next *= 2;
      stderr.write(`${label}: ${rows} rows, ${formatSize(bytes)}\n`);
    },
    stop() {},
  };
}

/** `512 bytes`, `1.5 MB`. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}
