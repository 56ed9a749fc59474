import type { SigningKeyChanges, SigningKeyRecord } from './types';

/** Checks what a `decide` function returned, so a store never writes a malformed record. */
export function checkSigningKeyChanges(changes: SigningKeyChanges): SigningKeyChanges {
  const ok =
    typeof changes === 'object' &&
    changes !== null &&
    typeof changes.by === 'string' &&
    Array.isArray(changes.register) &&
    changes.register.every((r) => typeof r?.kid === 'string' && typeof r.fingerprint === 'string') &&
    Array.isArray(changes.retire) &&
    changes.retire.every((kid) => typeof kid === 'string');
  if (!ok)
    throw new TypeError('syncSigningKeys: decide must return { by, register: [{ kid, fingerprint }], retire: [kid] }');
  return changes;
}

/** Applies `changes` to records kept in a map (the memory store); returns whether anything changed. */
export function applySigningKeyChanges(
  records: Map<string, SigningKeyRecord>,
  changes: SigningKeyChanges,
  now: number,
): boolean {
  let changed = false;
  for (const { kid, fingerprint } of changes.register) {
    if (records.has(kid)) continue;
    records.set(kid, { kid, fingerprint, registeredBy: changes.by, registeredAt: now, retiredAt: null });
    changed = true;
  }
  for (const kid of changes.retire) {
    const record = records.get(kid);
    if (record === undefined) {
      records.set(kid, { kid, fingerprint: '', registeredBy: changes.by, registeredAt: now, retiredAt: now });
      changed = true;
    } else if (record.retiredAt === null) {
      record.retiredAt = now;
      changed = true;
    }
  }
  return changed;
}

/** Copies of the records, by kid. */
export function sortedSigningKeys(records: Iterable<SigningKeyRecord>): SigningKeyRecord[] {
  return [...records].map((r) => ({ ...r })).sort((a, b) => (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0));
}
