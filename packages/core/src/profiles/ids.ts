import { randomBytes } from 'node:crypto';

/** Random bytes drawn at once: a batch creates up to 500,000 ids, and one call per id is slow. */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * Where newPcId takes its randomness. An object, not a bare function, so that tests can make
 * draws repeat (the clash of two random pcIds is otherwise too rare to reach on purpose).
 */
export const pcIdRandomness = {
  /** Four fresh random bytes. */
  next4: (): Buffer => random4(),
};

/** Four fresh random bytes from the pool (refilled from the CSPRNG when used up). */
function random4(): Buffer {
  if (offset + 4 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + 4);
  offset += 4;
  return bytes;
}

/** A new visitor id in Adobe's mboxPC shape: `<epochMillis>-<6 digits>.<2 digits>_0`, randomised. */
export function newPcId(now: number): string {
  const bytes = pcIdRandomness.next4();
  const six = (bytes.readUInt32BE(0) % 1_000_000).toString().padStart(6, '0');
  const two = (bytes[0]! % 100).toString().padStart(2, '0');
  return `${now}-${six}.${two}_0`;
}
