/**
 * The PostgreSQL store merges attributes in SQL; the other stores use mergeAttributes in
 * JavaScript. These tests check that both give the same profiles and batch counters.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { BatchKey, Profile, ProfileUpdate } from '../src/profiles/types';
import { MemoryStore } from '../src/store/memory';
import { PostgresStore } from '../src/store/postgres';
import type { BatchRecord, Store } from '../src/store/types';
import { NOW, URL, chunks, dropSchemas, newSchema, requirePostgres, row } from './postgres-harness';

/** One step of a scenario: a batch, or a single update. */
type Step =
  | { kind: 'batch'; version: 'v1' | 'v2'; rows: ProfileUpdate<BatchKey>[]; chunkSize: number }
  | { kind: 'update'; update: ProfileUpdate; createMissing: boolean };

const KEYS: BatchKey[] = [
  { kind: 'pcId', id: 'p1' },
  { kind: 'pcId', id: 'p2' },
  { kind: 'thirdPartyId', id: 'u1' },
  { kind: 'thirdPartyId', id: 'u2' },
];
/** 14 values of 5,000 characters: over 64 KiB on their own. */
const HUGE = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`h${i}`, 'z'.repeat(5000)]));
/** 7 values of 5,000 characters: fine alone, over the limit with the other tag's 7. */
const LARGE = (tag: string) =>
  Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`${tag}${i}`, 'w'.repeat(5000)]));

const attributesArb = fc.oneof(
  { weight: 8, arbitrary: fc.dictionary(fc.constantFrom('a', 'b', 'c', '7', 'é'), fc.constantFrom('', 'x', 'y', 'ü')) },
  { weight: 1, arbitrary: fc.constant(HUGE) },
  { weight: 1, arbitrary: fc.constantFrom('q', 'r').map(LARGE) },
);
const updateArb = fc.record(
  {
    key: fc.constantFrom(...KEYS),
    attributes: attributesArb,
    // Attribute removal (issue 19): names that may or may not be stored, or set by the same row.
    remove: fc.subarray(['a', 'b', 'c', '7', 'é', 'h0', 'q1']),
  },
  { requiredKeys: ['key', 'attributes'] },
);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('batch' as const),
    version: fc.constantFrom('v1' as const, 'v2' as const),
    rows: fc.array(updateArb, { minLength: 1, maxLength: 8 }),
    chunkSize: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({ kind: fc.constant('update' as const), update: updateArb, createMissing: fc.boolean() }),
);

/** Runs the steps on one store; returns what a client could observe. */
async function run(store: Store, client: string, steps: Step[]): Promise<unknown[]> {
  const seen: unknown[] = [];
  let now = NOW;
  for (const step of steps) {
    now += 1000;
    if (step.kind === 'update') {
      const outcome = await store.updateProfile(client, step.update, { createMissing: step.createMissing, now });
      seen.push(outcome.status === 'updated' ? { ...outcome, profile: view(outcome.profile) } : outcome);
    } else {
      const batch = await store.createBatch({
        client,
        version: step.version,
        batchSize: step.rows.length,
        parseFailures: [],
        parseFailedCount: 0,
        now,
      });
      const done = await store.applyBatch(client, batch.batchId, chunks(step.rows, step.chunkSize), {
        createMissing: step.version === 'v2',
        now,
      });
      seen.push(counters(done));
    }
  }
  for (const key of KEYS) seen.push(view(await store.getProfile(client, key)));
  return seen;
}

/** A profile without its random pcId, attributes as ordered entries. */
function view(profile: Profile | null): unknown {
  if (!profile) return null;
  const pcId = profile.thirdPartyId === undefined ? profile.pcId : '(random)';
  return { pcId, thirdPartyId: profile.thirdPartyId, modifiedAt: profile.modifiedAt, attributes: entries(profile) };
}

function entries(profile: Profile): unknown[] {
  return Object.keys(profile.attributes).map((name) => [
    name,
    profile.attributes[name]!.value,
    profile.attributes[name]!.modifiedAt,
  ]);
}

function counters(batch: BatchRecord): unknown {
  const { status, consumedCount, successfulUpdates, profilesNotFound, failedUpdates, failures } = batch;
  return { status, consumedCount, successfulUpdates, profilesNotFound, failedUpdates, failures };
}

describe('PostgresStore merges like the other stores', function () {
  this.timeout(60_000);
  let pg: PostgresStore;

  before(requirePostgres);
  before(async () => {
    pg = await PostgresStore.open(URL, { schema: newSchema(), batchChunkRows: 3 });
  });
  after(async () => {
    await pg?.close();
    await dropSchemas();
  });

  it('gives the same profiles and batch counters as MemoryStore for random updates and batches', async () => {
    let run_ = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 6 }), async (steps) => {
        const client = `c${++run_}`;
        const memory = new MemoryStore();
        assert.deepEqual(await run(pg, client, steps), await run(memory, client, steps));
      }),
      { numRuns: 40 },
    );
  });

  it('applies rows naming one profile by thirdPartyId and by pcId in their order', async () => {
    const client = 'alias';
    await pg.updateProfile(client, row('thirdPartyId', 'u1', { a: '0' }), { createMissing: true, now: NOW });
    const pcId = (await pg.getProfile(client, { kind: 'thirdPartyId', id: 'u1' }))!.pcId;
    const batch = await pg.createBatch({
      client,
      version: 'v1',
      batchSize: 4,
      parseFailures: [],
      parseFailedCount: 0,
      now: NOW,
    });
    const rows = [
      row('thirdPartyId', 'u1', { a: '1', b: '1' }),
      row('pcId', pcId, { a: '2' }),
      row('thirdPartyId', 'u1', { b: '3' }),
      row('pcId', pcId, { c: '4' }),
    ];
    const done = await pg.applyBatch(client, batch.batchId, chunks(rows, 4), { createMissing: false, now: NOW + 1 });
    assert.equal(done.successfulUpdates, 4);
    const profile = await pg.getProfile(client, { kind: 'pcId', id: pcId });
    assert.deepEqual(entries(profile!), [
      ['a', '2', NOW + 1],
      ['b', '3', NOW + 1],
      ['c', '4', NOW + 1],
    ]);
  });
});
