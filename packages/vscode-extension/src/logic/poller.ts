/**
 * When to ask the server about its token: every minute while VS Code is open, and when the window
 * gains focus (unless it was asked a moment ago), never twice at once. The clock and the timer are
 * injected, so tests never wait for either. No `vscode` import: the adapter passes a Scheduler and
 * the window's focus events.
 */

/** How often the server is asked while VS Code is open. */
export const SERVER_CHECK_INTERVAL_MS = 60_000;
/** A focus change asks again only when the last look is older than this (focus can flap). */
export const FOCUS_CHECK_MIN_GAP_MS = 10_000;

/** Runs a function every `intervalMs` (setInterval in VS Code; a fake in tests). */
export interface Scheduler {
  every(intervalMs: number, run: () => void): { dispose(): void };
}

/**
 * Runs `run` on a timer, on `poll()` (something changed) and on `nudge()` (window focus), never two
 * at once: a poll asked for while one runs is run once more after it, so it sees the change.
 */
export class Poller {
  private timer: { dispose(): void } | undefined;
  private lastStart = Number.NEGATIVE_INFINITY;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      scheduler: Scheduler;
      now: () => number;
      run: () => Promise<void>;
      intervalMs?: number;
      minGapMs?: number;
    },
  ) {}

  /** Starts the timer. */
  start(): void {
    this.timer ??= this.deps.scheduler.every(this.deps.intervalMs ?? SERVER_CHECK_INTERVAL_MS, () => {
      // A tick while a look runs is not queued: the next tick is a minute away anyway.
      if (this.running === undefined) this.poll().catch(() => undefined);
    });
  }

  /** The window gained focus: look now, unless the last look started a moment ago. */
  nudge(): Promise<void> {
    if (this.deps.now() - this.lastStart < (this.deps.minGapMs ?? FOCUS_CHECK_MIN_GAP_MS)) {
      return this.running ?? Promise.resolve();
    }
    return this.poll();
  }

  /** Looks now, or right after the look under way (one more look for any number of calls meanwhile). */
  poll(): Promise<void> {
    if (this.running !== undefined) {
      this.queued ??= this.running
        .catch(() => undefined)
        .then(() => {
          this.queued = undefined;
          return this.poll();
        });
      return this.queued;
    }
    this.lastStart = this.deps.now();
    this.running = this.deps.run().finally(() => (this.running = undefined));
    return this.running;
  }

  dispose(): void {
    this.timer?.dispose();
    this.timer = undefined;
  }
}
