import { createHash, timingSafeEqual } from 'node:crypto';
import { OptionChecks, ROLES, type Actor, type Role } from '@profilegate/core';
import type { Request } from 'express';
import type { AuthenticateAdmin } from './options';

/** One admin API key: the secret, the role it grants, and the actor id shown in the audit log. */
export interface AdminKey {
  key: string;
  role: Role | 'sysadmin';
  actorId?: string;
}

const MIN_KEY_LENGTH = 16;
/** Longest Authorization header looked at; longer ones cannot hold a key worth comparing. */
const MAX_HEADER_LENGTH = 8192;
/**
 * `Bearer`, spaces, then one key of visible ASCII. Wider than RFC 6750's b64token on purpose:
 * admin keys are chosen by people (and the demo server accepts any key without white space).
 */
const BEARER_KEY = /^Bearer +([\x21-\x7e]+) *$/i;

/**
 * An `authenticateAdmin` for API keys sent as `Authorization: Bearer <admin key>`. Keys are
 * compared in constant time (as SHA-256 digests, so their lengths do not leak either).
 */
export function adminKeyAuthenticator(keys: readonly AdminKey[]): AuthenticateAdmin {
  const check: OptionChecks = new OptionChecks('adminKeyAuthenticator');
  if (!Array.isArray(keys) || keys.length === 0) check.fail('keys', 'must hold at least one key: [{ key, role }]');
  const entries = keys.map((entry, index) => {
    if (typeof entry?.key !== 'string' || entry.key.length < MIN_KEY_LENGTH) {
      check.fail(`keys[${index}].key`, `must be at least ${MIN_KEY_LENGTH} characters`);
    }
    if (!/^[\x21-\x7e]+$/.test(entry.key) || entry.key.length > MAX_HEADER_LENGTH - 16) {
      // Such a key could never be sent in an Authorization header: refuse it now, not at sign-in.
      check.fail(
        `keys[${index}].key`,
        `must be printable ASCII without white space (and under ${MAX_HEADER_LENGTH - 16} characters)`,
      );
    }
    if (entry.role !== 'sysadmin' && !ROLES.includes(entry.role)) {
      check.fail(
        `keys[${index}].role`,
        `is an unknown role ${JSON.stringify(entry.role)}; use one of ${[...ROLES, 'sysadmin'].join(', ')}`,
      );
    }
    if (entry.actorId !== undefined && (typeof entry.actorId !== 'string' || entry.actorId === '')) {
      check.fail(`keys[${index}].actorId`, 'must be a non-empty id, or left out (admin-key-N)');
    }
    const id = entry.actorId ?? `admin-key-${index + 1}`;
    const actor: Actor = entry.role === 'sysadmin' ? { id, sysadmin: true } : { id, role: entry.role };
    return { digest: digest(entry.key), actor };
  });
  return (req: Request) => {
    const header = req.headers?.authorization;
    if (typeof header !== 'string' || header.length > MAX_HEADER_LENGTH) return null;
    const match = BEARER_KEY.exec(header);
    if (!match) return null;
    const candidate = digest(match[1] as string);
    let found: Actor | null = null;
    // Compare with every key, without stopping early, so timing does not tell which one matched.
    for (const entry of entries) {
      if (timingSafeEqual(candidate, entry.digest) && found === null) found = entry.actor;
    }
    return found;
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
