import { newPcId } from '../profiles/ids';
import { mergeAttributes } from '../profiles/merge';
import type { AttributeValue, BatchKey, Profile, ProfileUpdate } from '../profiles/types';
import { failedRowBytes, failedRowBytesOf } from './failure-log';
import type { BatchFailure, BatchRecord } from './types';
import { MAX_REPORTED_FAILURES } from './types';

/** Counters of one batch application, filled row by row. */
export interface BatchTally {
  consumedCount: number;
  successfulUpdates: number;
  profilesNotFound: number;
  failedUpdates: number;
  failures: BatchFailure[];
  failedRowBytes: number;
}

/** Starts a tally from the batch record (which already counts rows refused while parsing). */
export function startTally(batch: BatchRecord): BatchTally {
  return {
    consumedCount: batch.consumedCount,
    successfulUpdates: batch.successfulUpdates,
    profilesNotFound: batch.profilesNotFound,
    failedUpdates: batch.failedUpdates,
    failures: [...batch.failures],
    failedRowBytes: batch.failedRowBytes ?? failedRowBytesOf(batch.failures, batch.failedUpdates),
  };
}

/** Records a failed row in the tally. */
export function tallyFailure(tally: BatchTally, failure: BatchFailure): void {
  tally.consumedCount++;
  tally.failedUpdates++;
  tally.failedRowBytes += failedRowBytes(failure.id);
  if (tally.failures.length < MAX_REPORTED_FAILURES) tally.failures.push(failure);
}

/** Records how one row of a batch went: applied, profile not found, or refused. */
export function tallyRow(
  tally: BatchTally,
  row: { key: { id: string } },
  result: { status: 'write' } | { status: 'notFound' } | { status: 'rejected'; message: string },
): void {
  if (result.status === 'write') {
    tally.consumedCount++;
    tally.successfulUpdates++;
  } else if (result.status === 'notFound') {
    tally.consumedCount++;
    tally.profilesNotFound++;
  } else {
    tallyFailure(tally, { id: row.key.id, message: result.message });
  }
}

/** How often a new pcId is drawn again because the random one is taken, before giving up. */
export const MAX_PCID_DRAWS = 100;

/**
 * A new random pcId that `taken` says is free. Random pcIds of one millisecond repeat (the
 * mboxPC shape leaves room for 10^8 of them): a 500,000-row batch, which shares one `now`,
 * draws hundreds of repeats, and using one would merge two visitors into one profile.
 */
export function freePcId(now: number, taken: (pcId: string) => boolean): string {
  for (let draw = 1; ; draw++) {
    const pcId = newPcId(now);
    if (!taken(pcId)) return pcId;
    if (draw >= MAX_PCID_DRAWS) throw new Error(`No free pcId found after ${draw} random draws`);
  }
}

/**
 * Computes a profile's next state for one update, shared by every store so that the merge
 * rules (and how a missing profile is created) live in one place. `existing` null means "not found";
 * `pcIdTaken` tells whether a pcId is in use, so a new profile never takes another's.
 */
export function nextProfileState(
  existing: Profile | null,
  update: ProfileUpdate<BatchKey>,
  createMissing: boolean,
  now: number,
  pcIdTaken: (pcId: string) => boolean,
):
  | { status: 'write'; profile: Profile; created: boolean; changed: boolean }
  | { status: 'notFound' }
  | { status: 'rejected'; message: string } {
  if (!existing && !createMissing) return { status: 'notFound' };
  const base: Record<string, AttributeValue> = existing ? existing.attributes : Object.create(null);
  const merged = mergeAttributes(base, update.attributes, now, update.remove);
  if (!merged.ok) return { status: 'rejected', message: merged.message };
  if (existing) {
    const profile: Profile = {
      ...existing,
      attributes: merged.attributes,
      modifiedAt: merged.changed ? now : existing.modifiedAt,
    };
    return { status: 'write', profile, created: false, changed: merged.changed };
  }
  // v2 semantics: a pcId row creates that pcId; a thirdPartyId row creates a new pcId linked to it.
  const profile: Profile =
    update.key.kind === 'pcId'
      ? { pcId: update.key.id, attributes: merged.attributes, modifiedAt: now }
      : {
          pcId: freePcId(now, pcIdTaken),
          thirdPartyId: update.key.id,
          attributes: merged.attributes,
          modifiedAt: now,
        };
  return { status: 'write', profile, created: true, changed: true };
}
