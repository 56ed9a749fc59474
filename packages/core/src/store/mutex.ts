/** A FIFO async lock: serialises the writes of one store instance. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  /** Runs `task` once every earlier task has finished. */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
