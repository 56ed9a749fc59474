import { createHash, timingSafeEqual } from 'node:crypto';
import { ROLES, extractBearerToken, type Actor, type Role } from '@profilegate/core';
import type { Request } from 'express';
import type { AuthenticateAdmin } from './options';

/** One admin API key: the secret, the role it grants, and the actor id shown in the audit log. */
export interface AdminKey {
  key: string;
  role: Role | 'sysadmin';
  actorId?: string;
}

const MIN_KEY_LENGTH = 16;

/**
 * An `authenticateAdmin` for API keys sent as `Authorization: Bearer <admin key>`. Keys are
 * compared in constant time (as SHA-256 digests, so their lengths do not leak either).
 */
export function adminKeyAuthenticator(keys: readonly AdminKey[]): AuthenticateAdmin {
  if (!Array.isArray(keys) || keys.length === 0) throw new TypeError('adminKeyAuthenticator: give at least one key');
  const entries = keys.map((entry, index) => {
    if (typeof entry?.key !== 'string' || entry.key.length < MIN_KEY_LENGTH) {
      throw new TypeError(`adminKeyAuthenticator: key #${index + 1} must be at least ${MIN_KEY_LENGTH} characters`);
    }
    if (entry.role !== 'sysadmin' && !ROLES.includes(entry.role)) {
      throw new TypeError(`adminKeyAuthenticator: key #${index + 1} has an unknown role ${JSON.stringify(entry.role)}`);
    }
    const id = entry.actorId ?? `admin-key-${index + 1}`;
    const actor: Actor = entry.role === 'sysadmin' ? { id, sysadmin: true } : { id, role: entry.role };
    return { digest: digest(entry.key), actor };
  });
  return (req: Request) => {
    let presented: string;
    try {
      presented = extractBearerToken(req.headers.authorization);
    } catch {
      return null;
    }
    const candidate = digest(presented);
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
