import { displayText } from '@profilegate/client';
import { SingleBar, Presets } from 'cli-progress';
import type { CommandContext } from './context';

/** Progress of a long step: a bar on a terminal, a few plain lines otherwise, nothing with --json. */
export interface Progress {
  update(value: number, total: number): void;
  stop(): void;
}

/** Starts progress reporting for `label` (escaped here: it may name a batch id) on stderr. */
export function startProgress(ctx: CommandContext, text: string, unit: string): Progress {
  const label = displayText(text);
  const stderr = ctx.streams.stderr;
  if (ctx.json) return { update() {}, stop() {} };
  if (stderr.isTTY === true) {
    const bar = new SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit}`, stream: stderr, hideCursor: true },
      Presets.shades_classic,
    );
    let started = false;
    return {
      update(value, total) {
        if (!started) {
          bar.start(total, value);
          started = true;
        } else {
          bar.setTotal(total);
          bar.update(value);
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
      const tenth = total > 0 ? Math.floor((value / total) * 10) : 10;
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        stderr.write(`${label}: ${value}/${total} ${unit}\n`);
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
  if (stderr.isTTY === true) {
    const bar = new SingleBar(
      { format: `${label} {value} rows | {size}`, stream: stderr, hideCursor: true, fps: 5 },
      Presets.shades_classic,
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
