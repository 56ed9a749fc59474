import { randomBytes } from 'node:crypto';

/**
 * Where a batch's stage keeps each profile it has staged, by one kind of key (pcId or
 * thirdPartyId): the row id in `temp.staged`. Kept in memory instead of in an index of the TEMP
 * table, because most rows of a batch look for a key that is not staged (a new visitor, or the
 * first row of a profile): a probe of this table answers that without a call into SQLite, and the
 * staged rows are inserted without index entries (docs/sqlite-batches.md).
 *
 * An open-addressing hash table of (hash of the key, row id) pairs in two typed arrays: 8 bytes a
 * slot, at most half of them used, so a 500,000-row batch needs 8 MiB a kind of key (a Map with
 * the keys' strings would need several times that, in the server's RSS). Keys are not kept: two
 * keys may share a hash, so `find` asks the caller whether a candidate row holds the key.
 */
export class StagedKeys {
  private slotHashes = new Int32Array(INITIAL_SLOTS);
  /** Row ids; 0 marks a free slot (row ids start at 1). */
  private ids = new Int32Array(INITIAL_SLOTS);
  private used = 0;

  private hash: (key: string) => number;

  /**
   * `hashes` makes the hash function (tests pass one that gives every key one hash). By default
   * each stage (each `clear`) hashes with a seed of its own, so that no one can choose keys
   * (thirdPartyIds) that crowd one part of the table and make every lookup long.
   */
  constructor(private readonly hashes: () => (key: string) => number = seededHash) {
    this.hash = hashes();
  }

  /** The row id of `key`: the first candidate (a row staged under the same hash) that `holds` accepts. */
  find(key: string, holds: (id: number) => boolean): number | undefined {
    const h = this.hash(key);
    const mask = this.ids.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = this.ids[slot]!;
      if (id === 0) return undefined;
      if (this.slotHashes[slot] === h && holds(id)) return id;
    }
  }

  /** Records that `key`, not staged so far, is staged in row `id` (a positive 32-bit integer). */
  add(key: string, id: number): void {
    if (!(id > 0 && id <= 0x7fffffff)) throw new RangeError(`Row id ${id} cannot be kept`);
    if ((this.used + 1) * 2 > this.ids.length) this.grow();
    this.put(this.hash(key), id);
    this.used++;
  }

  clear(): void {
    // A large batch's table goes: the next batch starts small again, with a new seed.
    this.hash = this.hashes();
    this.slotHashes = new Int32Array(INITIAL_SLOTS);
    this.ids = new Int32Array(INITIAL_SLOTS);
    this.used = 0;
  }

  private put(h: number, id: number): void {
    const mask = this.ids.length - 1;
    let slot = h & mask;
    while (this.ids[slot] !== 0) slot = (slot + 1) & mask;
    this.slotHashes[slot] = h;
    this.ids[slot] = id;
  }

  private grow(): void {
    const { slotHashes, ids } = this;
    this.slotHashes = new Int32Array(ids.length * 2);
    this.ids = new Int32Array(ids.length * 2);
    for (let slot = 0; slot < ids.length; slot++) if (ids[slot] !== 0) this.put(slotHashes[slot]!, ids[slot]!);
  }
}

const INITIAL_SLOTS = 1024;

/** hashKey with a seed drawn now. */
function seededHash(): (key: string) => number {
  const seed = randomBytes(4).readUInt32LE(0);
  return (key) => hashKey(key, seed);
}

/**
 * FNV-1a over the UTF-16 code units from a seeded start, then mixed (MurmurHash3's finalizer) so
 * that keys that differ in their last characters spread over the table's low bits; 30 bits.
 */
export function hashKey(key: string, seed = 0): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & 0x3fffffff;
}
