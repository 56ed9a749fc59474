import { ValidationError } from '../errors';
import { storableText, textProblem } from '../storable-text';
import type { AttributeValue, ProfileKey } from './types';

/** Limits of API.md 2.1. */
export const PROFILE_LIMITS = Object.freeze({
  maxAttributeNameLength: 128,
  maxValueLength: 5000,
  maxIdLength: 256,
  maxProfileBytes: 64 * 1024,
});

const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const CLIENT_CODE = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Whether a client code has the shape API.md allows. */
export function isValidClientCode(code: string): boolean {
  return CLIENT_CODE.test(code);
}

/** Strips the optional `profile.` prefix from an attribute name. */
export function normalizeAttributeName(raw: string): string {
  return raw.startsWith('profile.') ? raw.slice('profile.'.length) : raw;
}

/** Why an attribute name is refused, or null when it is fine. */
export function attributeNameProblem(name: string): string | null {
  const text = textProblem(`Attribute name "${storableText(truncate(name))}"`, name);
  if (text !== null) return text;
  if (!ATTRIBUTE_NAME.test(name)) {
    return `Attribute name "${truncate(name)}" must be 1 to 128 characters of A-Z, a-z, 0-9, "_", "." or "-"`;
  }
  if (FORBIDDEN_NAMES.has(name)) return `Attribute name "${name}" is reserved`;
  return null;
}

/** Why an attribute value is refused, or null when it is fine. */
export function attributeValueProblem(name: string, value: string): string | null {
  if (value.length > PROFILE_LIMITS.maxValueLength) {
    return `Value of attribute "${name}" is ${value.length} characters; the limit is ${PROFILE_LIMITS.maxValueLength}`;
  }
  return textProblem(`Value of attribute "${name}"`, value);
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

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
