import { randomBytes } from 'node:crypto';

/** A new visitor id in Adobe's mboxPC shape: `<epochMillis>-<6 digits>.<2 digits>_0`, randomised. */
export function newPcId(now: number): string {
  const bytes = randomBytes(4);
  const six = (bytes.readUInt32BE(0) % 1_000_000).toString().padStart(6, '0');
  const two = (bytes[0]! % 100).toString().padStart(2, '0');
  return `${now}-${six}.${two}_0`;
}
