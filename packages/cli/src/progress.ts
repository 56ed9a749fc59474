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
