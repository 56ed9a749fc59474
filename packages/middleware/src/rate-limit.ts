import type { Clock } from '@profilegate/core';
import type { BulkRateLimit } from './options';

/** A fixed-window request counter per key (here: per client). */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: BulkRateLimit,
    private readonly clock: Clock,
  ) {}

  /** Counts one request; returns 0 when allowed, else the seconds until the window ends. */
  take(key: string): number {
    const now = this.clock();
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.limit.windowMs) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    if (window.count >= this.limit.max)
      return Math.max(1, Math.ceil((window.start + this.limit.windowMs - now) / 1000));
    window.count++;
    return 0;
  }
}
