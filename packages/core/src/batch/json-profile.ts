import {
  attributeNameProblem,
  attributeValueProblem,
  normalizeAttributeName,
  profileIdProblem,
  shownName,
} from '../profiles/rules';
import type { BatchKey } from '../profiles/types';
import type { ParsedRow, RowFailure } from './types';

/** A row of a JSON batch, or its failure. */
export type Item = ParsedRow | RowFailure;

/**
 * The failure of a row that gives one key twice (API.md 5: a name is given once, so it is set or
 * removed, never both): the row as read kept only one of them. A bad attribute name fails as such.
 */
export function repeatedKeyFailure(item: Item, name: string, inAttributes: boolean): RowFailure {
  const id = item.type === 'row' ? item.update.key.id : item.id;
  if (!inAttributes) return failure(item.line, id, `"${name.slice(0, 40)}" is given more than once`);
  const normalized = normalizeAttributeName(name);
  const problem = attributeNameProblem(normalized);
  return failure(item.line, id, problem ?? `Attribute "${shownName(normalized)}" is given more than once`);
}

export function readProfile(element: unknown, line: number): Item {
  if (!isObject(element)) return failure(line, '', 'Each element of "profiles" must be an object');
  const hasPcId = Object.hasOwn(element, 'pcId');
  const hasThirdPartyId = Object.hasOwn(element, 'thirdPartyId');
  const kind: BatchKey['kind'] = hasPcId ? 'pcId' : 'thirdPartyId';
  const rawId = element[kind];
  const shownId = typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId) : '';
  if (hasPcId && hasThirdPartyId) return failure(line, shownId, 'Give either "pcId" or "thirdPartyId", not both');
  if (!hasPcId && !hasThirdPartyId) return failure(line, '', 'Each profile needs a "pcId" or a "thirdPartyId"');
  if (typeof rawId !== 'string') return failure(line, shownId, `"${kind}" must be a string`);
  const key: BatchKey = { kind, id: rawId };
  const idProblem = profileIdProblem(key);
  if (idProblem !== null) return failure(line, rawId, idProblem);

  const given = Object.hasOwn(element, 'attributes') ? element['attributes'] : undefined;
  if (!isObject(given)) {
    return failure(line, rawId, '"attributes" must be an object of attribute names and string (or null) values');
  }
  const attributes: Record<string, string> = {};
  const remove: string[] = [];
  const seen = new Set<string>();
  for (const rawName of Object.keys(given)) {
    const name = normalizeAttributeName(rawName);
    // Checked before anything is read or written under that name: "__proto__" and friends stop here.
    const nameProblem = attributeNameProblem(name);
    if (nameProblem !== null) return failure(line, rawId, nameProblem);
    if (seen.has(name)) return failure(line, rawId, `Attribute "${shownName(name)}" is given more than once`);
    seen.add(name);
    const value = given[rawName];
    // null removes the attribute (API.md 5); a name is given once, so it is never also set.
    if (value === null) {
      remove.push(name);
      continue;
    }
    if (typeof value !== 'string')
      return failure(line, rawId, `Value of attribute "${shownName(name)}" must be a string or null`);
    if (value === '') continue;
    const valueProblem = attributeValueProblem(name, value);
    if (valueProblem !== null) return failure(line, rawId, valueProblem);
    attributes[name] = value;
  }
  return { type: 'row', line, update: remove.length > 0 ? { key, attributes, remove } : { key, attributes } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function failure(line: number, id: string, message: string): RowFailure {
  return { type: 'failure', line, id, message };
}
