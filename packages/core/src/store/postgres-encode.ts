import { PROFILE_LIMITS } from '../profiles/rules';
import type { BatchKey, ProfileUpdate } from '../profiles/types';
import type { Pending } from './postgres-write';

/**
 * The random pcIds a batch drew. Every row of a batch shares one `now`, so a row could draw the
 * pcId of a profile an earlier chunk created (about a thousand times in 500,000 rows): the INSERT
 * then finds it taken and the row is written again in a second round. Kept as numbers (the
 * random digits), about 20 bytes a row.
 */
export class DrawnPcIds {
  private readonly drawn = new Set<number>();
  private readonly prefix: string;
  constructor(now: number) {
    this.prefix = `${now}-`;
  }
  /** `<now>-<6 digits>.<2 digits>_0` as the number of its 8 digits; NaN for any other pcId. */
  private key(pcId: string): number {
    if (pcId.length !== this.prefix.length + 11 || !pcId.startsWith(this.prefix)) return NaN;
    const at = this.prefix.length;
    return Number(pcId.slice(at, at + 6) + pcId.slice(at + 7, at + 9));
  }
  has(pcId: string): boolean {
    return this.drawn.has(this.key(pcId));
  }
  add(pcId: string): void {
    const key = this.key(pcId);
    if (!Number.isNaN(key)) this.drawn.add(key);
  }
}

/** What encodeRow makes of a row. */
export type EncodedRow = Pick<Pending, 'entries' | 'entriesJson' | 'bytes' | 'removals'>;

/**
 * A row's new values as stored (`[[name, value, now], …]`, empty values left out) and its size;
 * a batch encodes its next rows while the database writes the ones before.
 */
export function encodeRow(row: ProfileUpdate<BatchKey>, now: number): EncodedRow {
  const entries: Array<[string, string, number]> = [];
  let chars = 0;
  for (const name of Object.keys(row.attributes)) {
    const value = row.attributes[name]!;
    if (value === '') continue;
    entries.push([name, value, now]);
    chars += name.length + value.length;
  }
  // UTF-8 takes at most 3 bytes per UTF-16 unit: the exact size is counted only for rows that
  // might be over the limit (the only use of it).
  let bytes = chars;
  if (chars * 3 > PROFILE_LIMITS.maxProfileBytes) {
    bytes = 0;
    for (const [name, value] of entries) bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  const removals = row.remove && row.remove.length > 0 ? JSON.stringify(row.remove) : null;
  // The JSON is sent only when the row is within the limit (the usual case).
  const entriesJson = bytes > PROFILE_LIMITS.maxProfileBytes ? '' : JSON.stringify(entries);
  return { entries, entriesJson, bytes, removals };
}
