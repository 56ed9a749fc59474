import assert from 'node:assert/strict';
import { readAhead } from '../src/store/postgres-batches';

/** A source that logs what it is asked for. */
function source(log: string[], items: number[], failAt?: number) {
  return {
    async *[Symbol.asyncIterator]() {
      try {
        for (const item of items) {
          await Promise.resolve();
          if (item === failAt) throw new Error(`read ${item} failed`);
          log.push(`read ${item}`);
          yield item;
        }
      } finally {
        log.push('closed');
      }
    },
  };
}

describe('readAhead (PostgreSQL batches, issue 18)', () => {
  it('yields every chunk in order, reading the next one while the caller works on the current one', async () => {
    const log: string[] = [];
    for await (const item of readAhead(source(log, [1, 2, 3]))) {
      await new Promise((resolve) => setTimeout(resolve, 5)); // the caller's database work
      log.push(`applied ${item}`);
    }
    // Reading ahead past the last chunk finds the end, so the source closes before the last is applied.
    assert.deepEqual(log, ['read 1', 'read 2', 'applied 1', 'read 3', 'applied 2', 'closed', 'applied 3']);
  });

  it('closes the source when the caller stops early', async () => {
    const log: string[] = [];
    await assert.rejects(async () => {
      for await (const item of readAhead(source(log, [1, 2, 3]))) {
        log.push(`applied ${item}`);
        throw new Error('deadlock');
      }
    }, /deadlock/);
    assert.deepEqual(log, ['read 1', 'read 2', 'applied 1', 'closed']);
  });

  it("reports the caller's error, not a read ahead that failed meanwhile (never an unhandled rejection)", async () => {
    const log: string[] = [];
    await assert.rejects(async () => {
      for await (const item of readAhead(source(log, [1, 2, 3], 2))) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.push(`applied ${item}`);
        throw new Error('deadlock');
      }
    }, /deadlock/);
    assert.deepEqual(log, ['read 1', 'closed', 'applied 1']);
  });

  it('passes a failed read on to the caller', async () => {
    const log: string[] = [];
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const item of readAhead(source(log, [1, 2, 3], 2))) seen.push(item);
    }, /read 2 failed/);
    assert.deepEqual(seen, [1]);
  });
});
