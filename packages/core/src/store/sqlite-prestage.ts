import { decodeBatchRows } from './encoded-rows';
import type { BatchRows, EncodedBatchRows } from './types';

/**
 * The rows of a batch whose body is still being parsed (SqliteStore.prestageBatch): the parser
 * pushes encoded chunks, the batch engine pulls them. A push resolves once its chunk is taken, so
 * the parser never runs far ahead of the engine; once the engine has stopped (`close`), pushes
 * resolve at once and their rows are dropped (the batch is then applied from its spool instead).
 */
export class RowFeed {
  private readonly queue: Array<{ chunk: EncodedBatchRows; taken: () => void }> = [];
  private wake: (() => void) | null = null;
  private ended = false;
  private closed = false;
  private failure: Error | null = null;
  /** Rows the engine has taken so far. */
  taken = 0;

  push(chunk: EncodedBatchRows): Promise<void> {
    if (this.closed || this.ended || this.failure) return Promise.resolve();
    return new Promise<void>((taken) => {
      this.queue.push({ chunk, taken });
      this.notify();
    });
  }

  /** The body is complete: the engine finishes with the rows pushed so far. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  /** The body was refused, or another batch waits: unless the body is complete, the engine stops with `error` (and drops its work). */
  fail(error: Error): void {
    if (this.ended) return; // the body is complete: the stage finishes
    this.failure ??= error;
    this.notify();
  }

  /** The engine has stopped: pushes waiting or to come resolve at once. */
  close(): void {
    this.closed = true;
    for (const { taken } of this.queue.splice(0)) taken();
  }

  /** The feed as a batch's rows, for one reading. */
  rows(): BatchRows {
    const decoded = async function* (feed: RowFeed) {
      for await (const chunk of feed.chunks()) yield decodeBatchRows(chunk.lines);
    };
    return Object.assign(() => decoded(this), { encoded: () => this.chunks() });
  }

  private async *chunks(): AsyncGenerator<EncodedBatchRows> {
    for (;;) {
      if (this.failure) throw this.failure;
      const next = this.queue.shift();
      if (next) {
        this.taken += next.chunk.lines.length;
        next.taken();
        yield next.chunk;
      } else if (this.ended) {
        return;
      } else {
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
