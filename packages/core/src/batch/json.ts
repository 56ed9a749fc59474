import { isUtf8 } from 'node:buffer';
import { BatchRejectedError } from '../errors';
import {
  attributeNameProblem,
  attributeValueProblem,
  normalizeAttributeName,
  profileIdProblem,
} from '../profiles/rules';
import type { ProfileKey } from '../profiles/types';
import { asTypedError, batchIsEmpty, bodyTooLarge, notUtf8, toBuffer, tooManyRows } from './text';
import type { BatchLimits, ParsedRow, RowFailure } from './types';

type Item = ParsedRow | RowFailure;

const JSON_POSITION = /at position (\d+)/;
const SHAPE = 'send {"profiles":[{"thirdPartyId":"…","attributes":{"name":"value"}}]}';

/**
 * Parses a JSON batch body: `{"profiles":[{"pcId"|"thirdPartyId": "…", "attributes": {…}}]}`.
 * The body (at most `limits.maxBytes`) is read whole, then each element becomes a row or a row
 * failure whose `line` is its 1-based index.
 */
export async function* parseJson(source: AsyncIterable<Buffer | string>, limits: BatchLimits): AsyncGenerator<Item> {
  const profiles = await readProfiles(source, limits);
  for (let i = 0; i < profiles.length; i++) yield readProfile(profiles[i], i + 1);
}

async function readProfiles(source: AsyncIterable<Buffer | string>, limits: BatchLimits): Promise<unknown[]> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of source) {
      const data = toBuffer(chunk);
      bytes += data.length;
      if (bytes > limits.maxBytes) throw bodyTooLarge(limits);
      chunks.push(data);
    }
  } catch (error) {
    throw asTypedError(error);
  }
  let body = Buffer.concat(chunks, bytes);
  if (body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
  if (body.length === 0) throw batchIsEmpty();
  if (!isUtf8(body)) throw notUtf8();
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch (error) {
    const position = error instanceof Error ? JSON_POSITION.exec(error.message) : null;
    const where = position ? ` (at character ${Number(position[1]) + 1})` : '';
    throw new BatchRejectedError(`The body is not valid JSON${where}; ${SHAPE}`);
  }
  if (!isObject(document) || !Object.hasOwn(document, 'profiles') || !Array.isArray(document['profiles'])) {
    throw new BatchRejectedError(`The JSON body must be an object with a "profiles" array; ${SHAPE}`);
  }
  const profiles = document['profiles'] as unknown[];
  if (profiles.length === 0) throw batchIsEmpty();
  if (profiles.length > limits.maxRows) throw tooManyRows(limits);
  return profiles;
}

function readProfile(element: unknown, line: number): Item {
  if (!isObject(element)) return failure(line, '', 'Each element of "profiles" must be an object');
  const hasPcId = Object.hasOwn(element, 'pcId');
  const hasThirdPartyId = Object.hasOwn(element, 'thirdPartyId');
  const kind: ProfileKey['kind'] = hasPcId ? 'pcId' : 'thirdPartyId';
  const rawId = element[kind];
  const shownId = typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId) : '';
  if (hasPcId && hasThirdPartyId) return failure(line, shownId, 'Give either "pcId" or "thirdPartyId", not both');
  if (!hasPcId && !hasThirdPartyId) return failure(line, '', 'Each profile needs a "pcId" or a "thirdPartyId"');
  if (typeof rawId !== 'string') return failure(line, shownId, `"${kind}" must be a string`);
  const key: ProfileKey = { kind, id: rawId };
  const idProblem = profileIdProblem(key);
  if (idProblem !== null) return failure(line, rawId, idProblem);

  const given = Object.hasOwn(element, 'attributes') ? element['attributes'] : undefined;
  if (!isObject(given)) {
    return failure(line, rawId, '"attributes" must be an object of attribute names and string values');
  }
  const attributes: Record<string, string> = {};
  const seen = new Set<string>();
  for (const rawName of Object.keys(given)) {
    const name = normalizeAttributeName(rawName);
    // Checked before anything is read or written under that name: "__proto__" and friends stop here.
    const nameProblem = attributeNameProblem(name);
    if (nameProblem !== null) return failure(line, rawId, nameProblem);
    if (seen.has(name)) return failure(line, rawId, `Attribute "${name}" is given more than once`);
    seen.add(name);
    const value = given[rawName];
    if (typeof value !== 'string') return failure(line, rawId, `Value of attribute "${name}" must be a string`);
    if (value === '') continue;
    const valueProblem = attributeValueProblem(name, value);
    if (valueProblem !== null) return failure(line, rawId, valueProblem);
    attributes[name] = value;
  }
  return { type: 'row', line, update: { key, attributes } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function failure(line: number, id: string, message: string): RowFailure {
  return { type: 'failure', line, id, message };
}
