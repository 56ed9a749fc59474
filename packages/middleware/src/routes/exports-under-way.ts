/**
 * The exports being streamed (API.md 5), so that the router's `close()` can end them: each is
 * cut (the client sees an incomplete body) and writes its `profiles.exported` event before
 * `close()` resolves, that is before the host closes the store. Without it, an export to a client
 * that reads slowly kept going after close(), and its audit event met a closed store and was lost.
 */
export class ExportsUnderWay {
  private readonly running = new Map<AbortController, Promise<void>>();
  private closed = false;

  /** Runs one export; `stop` is aborted by close(). The export's own errors are its own. */
  async run(stop: AbortController, work: () => Promise<void>): Promise<void> {
    if (this.closed) stop.abort(new Error('The router is closing'));
    const done = work();
    this.running.set(
      stop,
      done.then(
        () => undefined,
        () => undefined,
      ),
    );
    try {
      await done;
    } finally {
      this.running.delete(stop);
    }
  }

  /** Cuts every export under way and waits until each has ended and written its audit event. */
  async close(): Promise<void> {
    this.closed = true;
    for (const stop of this.running.keys()) stop.abort(new Error('The router is closing'));
    await Promise.all(this.running.values());
  }
}
