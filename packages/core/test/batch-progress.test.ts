/**
 * batchStatus reports how far an `incomplete` batch has got (`appliedCount`, issue 20): the
 * service counts the rows the store has worked through, outside the store's transaction.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProfileService } from '../src/profile-service';
import { MemoryStore } from '../src/store/memory';
import type { ApplyBatchOptions, BatchRecord, BatchRow, BatchRows } from '../src/store/types';

const START = Date.UTC(2026, 10, 22, 10, 0, 0, 0);

/** A gate the test opens: the store waits at it before each chunk after the first. */
class Gate {
  private opened: (() => void) | null = null;
  private arrivedAt: ((chunk: number) => void) | null = null;
  private arrival: Promise<number> = new Promise((resolve) => (this.arrivedAt = resolve));

  /** Resolves with the chunk number once the store waits at the gate. */
  arrived(): Promise<number> {
    return this.arrival;
  }

  async wait(chunk: number): Promise<void> {
    const open = new Promise<void>((resolve) => (this.opened = resolve));
    this.arrivedAt?.(chunk);
    await open;
  }

  open(): void {
    this.arrival = new Promise((resolve) => (this.arrivedAt = resolve));
    const opened = this.opened;
    this.opened = null;
    opened?.();
  }
}

/** A memory store that stops before each chunk after the first; `restartAfterFirst` reads the rows again once (a retried transaction). */
class SlowStore extends MemoryStore {
  constructor(
    private readonly gate: Gate,
    private readonly restartAfterFirst = false,
  ) {
    super();
  }

  override applyBatch(
    client: string,
    batchId: string,
    rows: BatchRows,
    options: ApplyBatchOptions,
  ): Promise<BatchRecord> {
    const gate = this.gate;
    let restart = this.restartAfterFirst;
    const gated = async function* (): AsyncGenerator<BatchRow[]> {
      if (restart) {
        restart = false;
        for await (const _chunk of rows()) break; // one chunk worked through, then the transaction starts over
      }
      let n = 0;
      for await (const chunk of rows()) {
        n++;
        if (n > 1) await gate.wait(n);
        yield chunk;
      }
    };
    return super.applyBatch(client, batchId, gated, options);
  }
}

async function* csv(rows: number): AsyncGenerator<string> {
  yield 'thirdPartyId,tier\nbad+id,x\n';
  for (let i = 0; i < rows; i++) yield `p${i},gold\n`;
}

describe('batch progress while incomplete (issue 20)', function () {
  this.timeout(30_000);
  let spoolDir: string;
  beforeEach(() => (spoolDir = mkdtempSync(join(tmpdir(), 'pg-progress-'))));
  afterEach(() => rmSync(spoolDir, { recursive: true, force: true }));

  it('appliedCount counts the rows worked through (parse failures included) chunk by chunk', async () => {
    const gate = new Gate();
    const store = new SlowStore(gate);
    const service = new ProfileService({ store, clock: () => START, spoolDir });
    const { batch, applied } = await service.submitBatch('demo', 'v2', csv(2500), 'csv');
    assert.equal(batch.batchSize, 2501);

    assert.equal(await gate.arrived(), 2);
    let status = await service.getBatch('demo', batch.batchId);
    assert.equal(status.status, 'incomplete');
    assert.equal(status.appliedCount, 1001);
    assert.equal(status.consumedCount, 1, "Adobe's counters stay as the store has them");

    gate.open();
    assert.equal(await gate.arrived(), 3);
    status = await service.getBatch('demo', batch.batchId);
    assert.equal(status.appliedCount, 2001);

    // Another instance on the same store does not know how far this one has got.
    const elsewhere = new ProfileService({ store, clock: () => START, spoolDir });
    assert.equal((await elsewhere.getBatch('demo', batch.batchId)).appliedCount, undefined);

    gate.open();
    const done = await applied;
    assert.equal(done.status, 'complete');
    status = await service.getBatch('demo', batch.batchId);
    assert.equal(status.consumedCount, 2501);
    assert.equal(status.appliedCount, undefined, 'only while incomplete');
  });

  it('starts counting again when the store reads the rows again (a retried transaction)', async () => {
    const gate = new Gate();
    const store = new SlowStore(gate, true);
    const service = new ProfileService({ store, clock: () => START, spoolDir });
    const { batch, applied } = await service.submitBatch('demo', 'v2', csv(2500), 'csv');
    assert.equal(await gate.arrived(), 2);
    assert.equal((await service.getBatch('demo', batch.batchId)).appliedCount, 1001);
    gate.open();
    await gate.arrived();
    gate.open();
    assert.equal((await applied).status, 'complete');
  });
});
