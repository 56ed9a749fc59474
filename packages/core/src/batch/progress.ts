/**
 * How far the batches this process is applying have got: batchStatus's `appliedCount` (API.md
 * 2.2, a project extension). A store applies a batch in one transaction, so its own counters only
 * move at the end; this count is kept here, in memory, outside that transaction, and only the
 * process applying a batch knows it.
 */
export class BatchProgress {
  private readonly applied = new Map<string, number>();

  /** Starts counting a batch from `start` (its rows refused while parsing). */
  begin(client: string, batchId: string, start: number): void {
    this.applied.set(key(client, batchId), start);
  }

  /** Rows worked through so far, or undefined when this process is not applying the batch. */
  get(client: string, batchId: string): number | undefined {
    return this.applied.get(key(client, batchId));
  }

  /** Forgets a batch once it is applied (or stuck). */
  end(client: string, batchId: string): void {
    this.applied.delete(key(client, batchId));
  }

  /**
   * The rows as the store reads them, counting each chunk once the store asks for the next one (it
   * has then worked the chunk through, inside its transaction). Each call counts again from
   * `start`: a store reads the rows again to retry its transaction.
   */
  async *counted<C>(
    client: string,
    batchId: string,
    start: number,
    chunks: AsyncIterable<C>,
    rowsOf: (chunk: C) => number,
  ): AsyncGenerator<C> {
    let count = start;
    this.applied.set(key(client, batchId), count);
    for await (const chunk of chunks) {
      yield chunk;
      count += rowsOf(chunk);
      this.applied.set(key(client, batchId), count);
    }
  }
}

function key(client: string, batchId: string): string {
  return `${client}\u0000${batchId}`;
}
