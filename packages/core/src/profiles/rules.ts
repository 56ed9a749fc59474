import { ValidationError } from '../errors';
import { isStorableText, storableText, textProblem } from '../storable-text';
import type { AttributeValue, ProfileKey } from './types';

/** Limits of API.md 2.1. */
export const PROFILE_LIMITS = Object.freeze({
  maxAttributeNameLength: 128,
  maxValueLength: 5000,
  maxIdLength: 256,
  maxProfileBytes: 64 * 1024,
});

/** Control characters (C0, DEL, C1): the only characters an attribute name may not hold. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex -- the same, to escape them in messages
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/** The client-code rule is shared with the front ends: it lives in @profilegate/client. */
export { isValidClientCode } from '@profilegate/client';

/** Strips the optional `profile.` prefix from an attribute name. */
export function normalizeAttributeName(raw: string): string {
  return raw.startsWith('profile.') ? raw.slice('profile.'.length) : raw;
}

/**
 * Why an attribute name is refused, or null when it is fine. A name is 1 to 128 characters (code
 * points), any but control characters, under the text rule (storable-text.ts); `__proto__`,
 * `constructor` and `prototype` are reserved. Adobe documents no character set, and its clients
 * send names such as `first name` (Segment) or `address.city`.
 */
export function attributeNameProblem(name: string): string | null {
  const label = `Attribute name "${shownName(name)}"`;
  const text = textProblem(label, name);
  if (text !== null) return text;
  const max = PROFILE_LIMITS.maxAttributeNameLength;
  // Counted in characters: a name of 128 emoji (256 UTF-16 units) is fine.
  if (name.length === 0 || (name.length > max && characterCount(name) > max)) {
    return `${label} must be 1 to ${max} characters`;
  }
  if (CONTROL.test(name)) return `${label} must not contain control characters (U+0000 to U+001F, U+007F to U+009F)`;
  if (FORBIDDEN_NAMES.has(name)) return `${label} is reserved`;
  return null;
}

/**
 * A name as error messages show it: cut off after 40 characters (so a failed row's reason stays
 * small, whatever the name), control characters as `\uXXXX`.
 */
export function shownName(name: string): string {
  return storableText(truncate(name)).replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * Why an attribute value is refused, or null when it is fine. The name's label is built only for
 * a refused value: a batch checks millions of values, and shownName costs more than the checks.
 */
export function attributeValueProblem(name: string, value: string): string | null {
  if (value.length > PROFILE_LIMITS.maxValueLength) {
    return `Value of attribute "${shownName(name)}" is ${value.length} characters; the limit is ${PROFILE_LIMITS.maxValueLength}`;
  }
  if (isStorableText(value)) return null;
  return textProblem(`Value of attribute "${shownName(name)}"`, value);
}

/** Why a profile id is refused, or null when it is fine. */
export function profileIdProblem(key: ProfileKey): string | null {
  const label = key.kind;
  if (key.id.length === 0) return `${label} is empty`;
  if (key.id.length > PROFILE_LIMITS.maxIdLength) {
    return `${label} is ${key.id.length} characters; the limit is ${PROFILE_LIMITS.maxIdLength}`;
  }
  if (key.kind === 'thirdPartyId' && /[+/]/.test(key.id)) return 'thirdPartyId must not contain "+" or "/"';
  return textProblem(label, key.id);
}

/** Throws a ValidationError when an attribute name is refused. */
export function assertAttributeName(name: string): void {
  const problem = attributeNameProblem(name);
  if (problem) throw new ValidationError(problem);
}

/** UTF-8 bytes of a profile's attributes (names plus values), the measure of the 64 KiB limit. */
export function attributesByteSize(attributes: Record<string, AttributeValue>): number {
  let size = 0;
  for (const name of Object.keys(attributes)) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(attributes[name]!.value, 'utf8');
  }
  return size;
}

/** The first 40 characters and "…", never splitting a surrogate pair. */
function truncate(text: string): string {
  if (text.length <= 40) return text;
  const cut = isHighSurrogate(text.charCodeAt(39)) ? 39 : 40;
  return `${text.slice(0, cut)}…`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
