/**
 * The one knob of the reliability suite: `PROFILEGATE_RELIABILITY=long` (what `npm run
 * test:reliability` sets) runs every section at full size; unset (or `fast`, in `npm test`) runs
 * the same checks small enough to add about a minute. `PROFILEGATE_RELIABILITY_SEED` replays a
 * run's random choices (fast-check and the crash moments); the seed is printed with the summary.
 */
const raw = (process.env['PROFILEGATE_RELIABILITY'] ?? 'fast').trim().toLowerCase() || 'fast';
if (raw !== 'fast' && raw !== 'long') {
  throw new Error(`PROFILEGATE_RELIABILITY must be "fast" or "long" (got ${JSON.stringify(raw.slice(0, 20))})`);
}

/** True in the long run (`npm run test:reliability`). */
export const LONG = raw === 'long';

/** The mode's name, for messages. */
export const MODE: 'fast' | 'long' = raw;

const seedText = process.env['PROFILEGATE_RELIABILITY_SEED'];
if (seedText !== undefined && !/^\d{1,10}$/.test(seedText.trim())) {
  throw new Error('PROFILEGATE_RELIABILITY_SEED must be a whole number (as printed by an earlier run)');
}

/** Seed of every random choice of this run. */
export const SEED = seedText !== undefined ? Number(seedText.trim()) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;

/** Sizes per section. */
export const SIZES = LONG
  ? {
      fuzzRuns: 1000,
      fuzzBatchRuns: 300,
      fuzzCorruptRuns: 2000,
      crashTrials: 10,
      crashRows: 500_000,
      concurrentProfiles: 2000,
      toggleRounds: 200,
      loadSeconds: 30,
    }
  : {
      fuzzRuns: 100,
      fuzzBatchRuns: 40,
      fuzzCorruptRuns: 100,
      crashTrials: 2,
      crashRows: 40_000,
      concurrentProfiles: 200,
      toggleRounds: 30,
      loadSeconds: 4,
    };

/** A small seeded PRNG (mulberry32): the same seed gives the same choices. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
