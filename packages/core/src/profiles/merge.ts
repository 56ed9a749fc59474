import { PROFILE_LIMITS, attributesByteSize } from './rules';
import type { AttributeValue } from './types';

/** Why a merge is refused: the profile would be over 64 KiB. Every store says it this way. */
export function profileTooLargeMessage(size: number): string {
  return `Profile would hold ${size} bytes of attributes; the limit is ${PROFILE_LIMITS.maxProfileBytes}`;
}

/**
 * False when the attributes are surely within the limit: a UTF-16 code unit is at most 3 UTF-8
 * bytes, so counting characters is enough for almost every profile, and quicker than bytes.
 */
function mayExceedLimit(attributes: Record<string, AttributeValue>): boolean {
  let units = 0;
  for (const name of Object.keys(attributes)) units += name.length + attributes[name]!.value.length;
  return units * 3 > PROFILE_LIMITS.maxProfileBytes;
}

/** The result of merging new values into a profile's attributes. */
export type MergeResult =
  { ok: true; attributes: Record<string, AttributeValue>; changed: boolean } | { ok: false; message: string };

/**
 * Merges `updates` into `current` (never mutates it). The names in `remove` go first (an absent
 * one is no change); then the values: empty ones are ignored (they never clear an attribute), an
 * unchanged value keeps its `modifiedAt`. Refuses a result over 64 KiB.
 */
export function mergeAttributes(
  current: Record<string, AttributeValue>,
  updates: Record<string, string>,
  now: number,
  remove: readonly string[] = [],
): MergeResult {
  const next: Record<string, AttributeValue> = Object.assign(Object.create(null), current);
  let changed = false;
  for (const name of remove) {
    if (!Object.hasOwn(next, name)) continue;
    delete next[name];
    changed = true;
  }
  for (const name of Object.keys(updates)) {
    const value = updates[name]!;
    if (value === '') continue;
    if (next[name]?.value === value) continue;
    next[name] = { value, modifiedAt: now };
    changed = true;
  }
  if (changed && mayExceedLimit(next)) {
    const size = attributesByteSize(next);
    if (size > PROFILE_LIMITS.maxProfileBytes) {
      return { ok: false, message: profileTooLargeMessage(size) };
    }
  }
  return { ok: true, attributes: next, changed };
}
