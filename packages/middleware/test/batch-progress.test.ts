/** API.md 2.2, a project extension: batchStatus reports `appliedCount` while a batch is `incomplete` (issue 20). */
import { strict as assert } from 'node:assert';
import {
  MemoryStore,
  type ApplyBatchOptions,
  type BatchRecord,
  type BatchRow,
  type BatchRows,
} from '@profilegate/core';
import { CLIENT, postBatch, startApp, waitForBatch, type TestApp } from './helpers';

/** A memory store that waits for `release` before its second chunk of rows, saying when it got there. */
class PausingStore extends MemoryStore {
  paused!: Promise<void>;
  release!: () => void;
  private reached!: () => void;

  constructor() {
    super();
    this.paused = new Promise((resolve) => (this.reached = resolve));
  }

  override applyBatch(
    client: string,
    batchId: string,
    rows: BatchRows,
    options: ApplyBatchOptions,
  ): Promise<BatchRecord> {
    const pause = async (): Promise<void> => {
      const released = new Promise<void>((resolve) => (this.release = resolve));
      this.reached();
      await released;
    };
    const gated = async function* (): AsyncGenerator<BatchRow[]> {
      let n = 0;
      for await (const chunk of rows()) {
        if (++n === 2) await pause();
        yield chunk;
      }
    };
    return super.applyBatch(client, batchId, gated, options);
  }
}

describe('batchStatus appliedCount while incomplete (API.md 2.2, issue 20)', () => {
  let t: TestApp;
  let store: PausingStore;
  beforeEach(async () => {
    store = new PausingStore();
    t = await startApp({ store });
  });
  afterEach(async () => {
    store.release?.();
    await t.close();
  });

  it('counts the rows worked through with showDetails, keeps Adobe’s fields, and drops it once complete', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => `p${i},gold`).join('\n');
    const { batchId, batchStatus } = await postBatch(t, `batch=thirdPartyId,tier\nbad%2Bid,x\n${rows}\n`);
    await store.paused;
    const path = `/m2/${CLIENT}/v2/profile/batchStatus?batchId=${encodeURIComponent(batchId)}`;

    const json = await t.http.get(`${path}&showDetails=true`).set('Accept', 'application/json');
    assert.equal(json.status, 200);
    assert.deepEqual(json.body, {
      batchId,
      status: 'incomplete',
      batchSize: 2501,
      consumedCount: 1,
      successfulUpdates: 0,
      profilesNotFound: 0,
      failedUpdates: 1,
      appliedCount: 1001,
      profiles: [{ id: 'bad+id', status: 'failed', message: json.body.profiles[0].message }],
    });
    const xml = await t.http.get(`${path}&showDetails=true`);
    assert.match(xml.text, /<failedUpdates>1<\/failedUpdates><appliedCount>1001<\/appliedCount><profile>/);
    const plain = await t.http.get(path).set('Accept', 'application/json');
    assert.deepEqual(plain.body, { batchId, status: 'incomplete', batchSize: 2501 }, 'Adobe’s answer without details');

    store.release();
    const done = await waitForBatch(batchStatus, { details: true });
    assert.equal(done['status'], 'complete');
    assert.equal(done['consumedCount'], 2501);
    assert.equal(done['appliedCount'], undefined);
  });
});
