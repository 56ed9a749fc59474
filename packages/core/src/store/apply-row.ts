import { newPcId } from '../profiles/ids';
import { mergeAttributes } from '../profiles/merge';
import type { AttributeValue, Profile, ProfileUpdate } from '../profiles/types';
import type { BatchFailure, BatchRecord } from './types';
import { MAX_REPORTED_FAILURES } from './types';

/** Counters of one batch application, filled row by row. */
export interface BatchTally {
  consumedCount: number;
  successfulUpdates: number;
  profilesNotFound: number;
  failedUpdates: number;
  failures: BatchFailure[];
}

/** Starts a tally from the batch record (which already counts rows refused while parsing). */
export function startTally(batch: BatchRecord): BatchTally {
  return {
    consumedCount: batch.consumedCount,
    successfulUpdates: batch.successfulUpdates,
    profilesNotFound: batch.profilesNotFound,
    failedUpdates: batch.failedUpdates,
    failures: [...batch.failures],
  };
}

/** Records a failed row in the tally. */
export function tallyFailure(tally: BatchTally, failure: BatchFailure): void {
  tally.consumedCount++;
  tally.failedUpdates++;
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

/** Tries at finding a pcId no profile has yet; the chance of needing more than two is nil. */
const MAX_PCID_TRIES = 20;

/**
 * Computes a profile's next state for one update, shared by every store so that the merge
 * rules (and how a missing profile is created) live in one place. `existing` null means "not found".
 * `pcIdTaken` tells whether a new pcId already belongs to a profile (stored, or created earlier in
 * the same batch): a thirdPartyId row then gets another one instead of merging into a stranger.
 */
export function nextProfileState(
  existing: Profile | null,
  update: ProfileUpdate,
  createMissing: boolean,
  now: number,
  pcIdTaken: (pcId: string) => boolean = () => false,
):
  | { status: 'write'; profile: Profile; created: boolean; changed: boolean }
  | { status: 'notFound' }
  | { status: 'rejected'; message: string } {
  if (!existing && !createMissing) return { status: 'notFound' };
  const base: Record<string, AttributeValue> = existing ? existing.attributes : Object.create(null);
  const merged = mergeAttributes(base, update.attributes, now);
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
  if (update.key.kind === 'pcId') {
    return {
      status: 'write',
      profile: { pcId: update.key.id, attributes: merged.attributes, modifiedAt: now },
      created: true,
      changed: true,
    };
  }
  const profile: Profile = {
    pcId: freshPcId(now, pcIdTaken),
    thirdPartyId: update.key.id,
    attributes: merged.attributes,
    modifiedAt: now,
  };
  return { status: 'write', profile, created: true, changed: true };
}

/**
 * A new pcId that `taken` does not know. Every row of a batch shares one `now`, and the id's shape
 * leaves 8 random digits, so a 500,000-row batch would draw about a thousand duplicates: each one,
 * unchecked, merged two visitors into one profile and lost a thirdPartyId.
 */
function freshPcId(now: number, taken: (pcId: string) => boolean): string {
  for (let attempt = 1; ; attempt++) {
    const pcId = newPcId(now);
    if (!taken(pcId)) return pcId;
    if (attempt >= MAX_PCID_TRIES) throw new Error(`No free pcId after ${MAX_PCID_TRIES} tries`);
  }
}
