/**
 * Attacks on the SQLite batch stage (sqlite-stage.ts, staged-keys.ts): awkward keys (quotes,
 * backslashes, unicode, ids at the length limit, pcIds shaped like the batch's own random ones),
 * profiles crossing 64 KiB on a later row of the same key, and single updates and deletions made
 * while the batch is being staged. SqliteStore must end as MemoryStore does when the single writes
 * come first and the batch after them (its merge then falls back to the direct apply).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BatchKey, Profile, ProfileKey, ProfileUpdate } from '../src/profiles/types';
import { MemoryStore } from '../src/store/memory';
import { SqliteStore } from '../src/store/sqlite';
import type { BatchRecord, BatchRow, BatchRows, Store } from '../src/store/types';
import { encodeBatchRow } from '../src/store/encoded-rows';

const B = Date.UTC(2026, 10, 22, 10, 0, 0);
const PCIDS = ['p"1', 'p\\2', 'ü😀', 'x'.repeat(256), `${B}-000001.01_0`, `${B}-1`, `${B - 1}-000002.02_0`, "o'neil"];
const TPIDS = ['t1', 't"\\', 'é'.repeat(256), '😀', `${B}-000003.03_0`, '[]', 'null'];
/** `@` + a thirdPartyId: the random pcId of that profile (the same profile named by its other key). */
const LINKED = ['@t1', '@😀'];
const KEYS: BatchKey[] = [
  ...[...PCIDS, ...LINKED].map((id) => ({ kind: 'pcId' as const, id })),
  ...TPIDS.map((id) => ({ kind: 'thirdPartyId' as const, id })),
];

/** The random pcIds that `@` keys stand for in the run under way, shown as those keys. */
const aliases = new Map<string, string>();

/** The rows with `@` keys named by the pcId each store drew for that thirdPartyId (now). */
async function resolve<T extends { key: ProfileKey }>(store: Store, client: string, rows: T[]): Promise<T[]> {
  const out: T[] = [];
  for (const row of rows) {
    if (!row.key.id.startsWith('@')) {
      out.push(row);
      continue;
    }
    const p = await store.getProfile(client, { kind: 'thirdPartyId', id: row.key.id.slice(1) });
    if (p) aliases.set(p.pcId, row.key.id);
    out.push({ ...row, key: { kind: 'pcId', id: p ? p.pcId : `none${row.key.id}` } } as T);
  }
  return out;
}

/** Deterministic pseudo-random numbers (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Single =
  { kind: 'update'; update: ProfileUpdate; createMissing: boolean; now: number } | { kind: 'delete'; key: ProfileKey };

interface Scenario {
  before: Single[];
  rows: BatchRow[];
  chunkSize: number;
  version: 'v1' | 'v2';
  during: Single[];
}

function scenario(seed: number): Scenario {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const attrs = (): Record<string, string> => {
    const roll = r();
    // 3 x 8,000 characters: 72,000 bytes at most, over the limit from the 3rd row of a key on.
    if (roll < 0.15) return { [pick(['big1', 'big2', 'big3'])]: 'B'.repeat(8000) };
    if (roll < 0.2) return { huge: 'H'.repeat(22_000) };
    const out: Record<string, string> = {};
    const n = Math.floor(r() * 3);
    for (let i = 0; i < n; i++) out[pick(['a', 'b"', 'c\\', '7', 'é', '😀'])] = pick(['', 'x', 'y', 'ü"\\', '0']);
    return out;
  };
  const single = (now: number): Single =>
    r() < 0.2
      ? { kind: 'delete', key: pick(KEYS) }
      : { kind: 'update', update: { key: pick(KEYS), attributes: attrs() }, createMissing: r() < 0.7, now };
  const row = (): BatchRow => {
    const remove = r() < 0.3 ? [pick(['a', 'b"', 'big1', 'big2', 'huge'])] : undefined;
    return { key: pick(KEYS), attributes: attrs(), ...(remove ? { remove } : {}) };
  };
  return {
    before: Array.from({ length: Math.floor(r() * 6) }, () => single(r() < 0.5 ? B - 1 : B)),
    rows: Array.from({ length: 1 + Math.floor(r() * 24) }, row),
    chunkSize: pick([1, 2, 3, 1000]),
    version: r() < 0.8 ? 'v2' : 'v1',
    during: Array.from({ length: Math.floor(r() * 3) }, () => single(B)),
  };
}

async function doSingle(store: Store, client: string, s: Single): Promise<unknown> {
  if (s.kind === 'delete') return view(await store.deleteProfile(client, s.key));
  const outcome = await store.updateProfile(client, s.update, { createMissing: s.createMissing, now: s.now });
  return outcome.status === 'updated' ? { ...outcome, profile: view(outcome.profile) } : outcome;
}

/**
 * Runs the scenario; `whileStaging` true sends the `during` writes after the batch's first chunk
 * has been read (SqliteStore: while it is staged), false before the batch.
 */
async function play(
  store: Store,
  client: string,
  s: Scenario,
  whileStaging: boolean,
  prestage = false,
): Promise<unknown[]> {
  const seen: unknown[] = [];
  aliases.clear();
  for (const w of s.before) seen.push(await doSingle(store, client, w));
  const updates = s.during.filter((w) => w.kind === 'update').map((w) => w.update);
  const resolved = await resolve(store, client, updates);
  const during = s.during.map((w) =>
    w.kind === 'update' ? { ...w, update: resolved[updates.indexOf(w.update)]! } : w,
  );
  s = { ...s, rows: await resolve(store, client, s.rows), during };
  if (!whileStaging) for (const w of s.during) seen.push(await doSingle(store, client, w));
  const options = { createMissing: s.version === 'v2', now: B };
  // As the middleware does while a body is parsed: rows handed over encoded, the batch recorded after.
  const early = prestage ? store.prestageBatch?.(client, options) : undefined;
  if (prestage) {
    assert.ok(early);
    for (let i = 0; i < s.rows.length; i += s.chunkSize) {
      const chunk = s.rows.slice(i, i + s.chunkSize);
      await early.add({ lines: chunk.map(encodeBatchRow) });
      if (whileStaging && i === 0) for (const w of s.during) seen.push(await doSingle(store, client, w));
    }
    whileStaging = false;
  }
  const batch = await store.createBatch({
    client,
    version: s.version,
    batchSize: s.rows.length,
    parseFailures: [],
    parseFailedCount: 0,
    now: B,
  });
  // The rows are read again from the start when the merge falls back to the direct apply (under
  // the write lock): the writes are made during the first reading only.
  let pending = whileStaging;
  const rows: BatchRows = async function* () {
    for (let i = 0; i < s.rows.length; i += s.chunkSize) {
      yield s.rows.slice(i, i + s.chunkSize);
      if (pending) {
        pending = false;
        for (const w of s.during) seen.push(await doSingle(store, client, w));
      }
    }
  };
  const done = await store.applyBatch(client, batch.batchId, rows, options, early ?? undefined);
  seen.push(counters(done));
  const all: unknown[] = [];
  for await (const page of store.exportProfiles(client)) for (const p of page) all.push(JSON.stringify(view(p)));
  seen.push(all.sort());
  return seen;
}

function view(profile: Profile | null): unknown {
  if (!profile) return null;
  const pcId = aliases.get(profile.pcId) ?? (profile.thirdPartyId === undefined ? profile.pcId : '(random)');
  const attributes = Object.keys(profile.attributes)
    .sort()
    .map((n) => [n, profile.attributes[n]!.value, profile.attributes[n]!.modifiedAt]);
  return { pcId, thirdPartyId: profile.thirdPartyId, modifiedAt: profile.modifiedAt, attributes };
}

function counters(batch: BatchRecord): unknown {
  const { status, consumedCount, successfulUpdates, profilesNotFound, failedUpdates, failures } = batch;
  return { status, consumedCount, successfulUpdates, profilesNotFound, failedUpdates, failures };
}

const root = mkdtempSync(join(tmpdir(), 'profilegate-attack-stage-'));
after(() => rmSync(root, { recursive: true, force: true }));

for (const batchWorker of [true, false]) {
  describe(`Attack on the SQLite stage (${batchWorker ? 'batch worker' : 'main thread'})`, function () {
    this.timeout(120_000);
    let store: SqliteStore;
    before(() => {
      store = new SqliteStore(join(root, `attack-${batchWorker}.db`), { batchWorker });
    });
    after(async () => {
      await store.close();
    });

    it('awkward keys, 64 KiB crossed on a later row, writes made while staging: as MemoryStore', async () => {
      for (let seed = 1; seed <= 80; seed++) {
        const s = scenario(seed);
        const client = `c${seed}`;
        const want = await play(new MemoryStore(), client, s, false);
        // The single writes' outcomes come in the same order; then the batch's counters and every profile.
        assert.deepEqual(await play(store, client, s, true), want, `seed ${seed}`);
        assert.deepEqual(
          await play(store, `${client}-early`, s, true, true),
          want,
          `seed ${seed}, staged while parsed`,
        );
      }
    });
  });
}
