import {
  RETENTION_RULE,
  ValidationError,
  isRetentionDays,
  type GenerateTokenOptions,
  type SettingsChange,
} from '@profilegate/core';

// What the admin routes read from the wire (JSON bodies and query parameters), parsed into the
// typed values the core services take. A mistake is a 400 saying what to send.

const SETTINGS_BODY_RULE =
  'The body must be a JSON object with requireAuthentication (true or false), profileRetentionDays (null or 1 to 3650 days), or both, and nothing else';

/**
 * The settings PUT body (API.md 3.2, 5): `requireAuthentication`, `profileRetentionDays`, or both;
 * at least one, nothing else.
 */
export function parseSettingsBody(body: unknown): SettingsChange {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError(SETTINGS_BODY_RULE);
  const fields = body as Record<string, unknown>;
  const keys = Object.keys(fields);
  if (keys.length === 0 || keys.some((k) => k !== 'requireAuthentication' && k !== 'profileRetentionDays')) {
    throw new ValidationError(SETTINGS_BODY_RULE);
  }
  const change: SettingsChange = {};
  if ('requireAuthentication' in fields) {
    if (typeof fields['requireAuthentication'] !== 'boolean') {
      throw new ValidationError('requireAuthentication must be true or false');
    }
    change.requireAuthentication = fields['requireAuthentication'];
  }
  if ('profileRetentionDays' in fields) {
    const days = fields['profileRetentionDays'];
    if (!isRetentionDays(days)) throw new ValidationError(RETENTION_RULE);
    change.profileRetentionDays = days;
  }
  return change;
}

/** The token routes' scope parameters (`authorizationScope=`, or the older `scope=`): each must be profile_api. */
export function parseScope(given: readonly string[]): void {
  if (given.length === 0) {
    throw new ValidationError('Add ?authorizationScope=profile_api; it is the only scope of this token');
  }
  const other = given.find((value) => value !== 'profile_api');
  if (other !== undefined) {
    throw new ValidationError(
      `Give authorizationScope=profile_api (or scope=profile_api), the only scope of this token; got ${JSON.stringify(other)}`,
    );
  }
}

const GENERATE_KEYS = new Set(['expiresIn', 'previousTokenGraceSeconds']);

/** The POST token body of API.md 3.1 (`{}`, or none) as the options of TokenService.generate. */
export function parseGenerateBody(body: unknown): Omit<GenerateTokenOptions, 'actor'> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('The body must be a JSON object: {"expiresIn": seconds, "previousTokenGraceSeconds": s}');
  }
  const unknown = Object.keys(body).filter((k) => !GENERATE_KEYS.has(k));
  if (unknown.length > 0) {
    throw new ValidationError(
      `Unknown field ${JSON.stringify(unknown[0])}; allowed: expiresIn, previousTokenGraceSeconds`,
    );
  }
  const { expiresIn, previousTokenGraceSeconds } = body as Record<string, unknown>;
  for (const [name, value] of [
    ['expiresIn', expiresIn],
    ['previousTokenGraceSeconds', previousTokenGraceSeconds],
  ] as const) {
    if (value !== undefined && typeof value !== 'number')
      throw new ValidationError(`${name} must be a number of seconds`);
  }
  return {
    ...(expiresIn !== undefined ? { expiresInSeconds: expiresIn as number } : {}),
    ...(previousTokenGraceSeconds !== undefined
      ? { previousTokenGraceSeconds: previousTokenGraceSeconds as number }
      : {}),
  };
}

/** The audit route's `limit=` (API.md 3.3): 1 to 1000, default 50. */
export function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return 50;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > 1000)
    throw new ValidationError('limit must be a whole number from 1 to 1000');
  return limit;
}
