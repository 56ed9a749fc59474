/**
 * Random scenarios of single updates and batches, run on two stores to compare what a client
 * could observe (postgres-semantics.test.ts, sqlite-semantics.test.ts): every store must merge
 * like MemoryStore.
 */
import fc from 'fast-check';
import type { BatchKey, Profile, ProfileUpdate } from '../src/profiles/types';
import { encodeBatchRow } from '../src/store/encoded-rows';
import type { BatchRecord, BatchRow, BatchRows, Store } from '../src/store/types';
import { NOW } from './postgres-harness';

/** One step of a scenario: a batch, or a single update. */
export type Step =
  | { kind: 'batch'; version: 'v1' | 'v2'; rows: ProfileUpdate<BatchKey>[]; chunkSize: number }
  | { kind: 'update'; update: ProfileUpdate; createMissing: boolean };

export const KEYS: BatchKey[] = [
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
export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('batch' as const),
    version: fc.constantFrom('v1' as const, 'v2' as const),
    rows: fc.array(updateArb, { minLength: 1, maxLength: 8 }),
    chunkSize: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({ kind: fc.constant('update' as const), update: updateArb, createMissing: fc.boolean() }),
);

/**
 * Runs the steps on one store from `start` on; returns what a client could observe of the profiles
 * `keys` name. `encoded`: batch rows are also readable still encoded, as a spooled batch is.
 */
export async function run(
  store: Store,
  client: string,
  steps: Step[],
  { encoded = false, keys = KEYS, start = NOW }: { encoded?: boolean; keys?: readonly BatchKey[]; start?: number } = {},
): Promise<unknown[]> {
  const seen: unknown[] = [];
  let now = start;
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
      const rows = encoded ? encodedChunks(step.rows, step.chunkSize) : chunks(step.rows, step.chunkSize);
      const done = await store.applyBatch(client, batch.batchId, rows, {
        createMissing: step.version === 'v2',
        now,
      });
      seen.push(counters(done));
    }
  }
  for (const key of keys) seen.push(view(await store.getProfile(client, key)));
  return seen;
}

/** A profile without its random pcId, attributes as ordered entries. */
export function view(profile: Profile | null): unknown {
  if (!profile) return null;
  const pcId = profile.thirdPartyId === undefined ? profile.pcId : '(random)';
  return { pcId, thirdPartyId: profile.thirdPartyId, modifiedAt: profile.modifiedAt, attributes: entries(profile) };
}

export function entries(profile: Profile): unknown[] {
  return Object.keys(profile.attributes).map((name) => [
    name,
    profile.attributes[name]!.value,
    profile.attributes[name]!.modifiedAt,
  ]);
}

/** A batch record's status and counters, what batchStatus shows of it. */
export function counters(batch: BatchRecord): unknown {
  const { status, consumedCount, successfulUpdates, profilesNotFound, failedUpdates, failures } = batch;
  return { status, consumedCount, successfulUpdates, profilesNotFound, failedUpdates, failures };
}

/** The rows in chunks of `size`, readable again from the start (as a store may). */
export function chunks(rows: BatchRow[], size: number): BatchRows {
  return async function* () {
    for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
  };
}

/** The same, also readable still encoded, as a spooled batch is (the SQLite worker decodes them). */
function encodedChunks(rows: BatchRow[], size: number): BatchRows {
  return Object.assign(chunks(rows, size), {
    encoded: async function* () {
      for (let i = 0; i < rows.length; i += size) {
        const chunk = rows.slice(i, i + size);
        yield { lines: chunk.map(encodeBatchRow) };
      }
    },
  });
}
