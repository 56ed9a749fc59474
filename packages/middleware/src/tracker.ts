import { randomBytes } from 'node:crypto';
import {
  ProfileService,
  isValidClientCode,
  newPcId,
  normalizeAttributeName,
  attributeNameProblem,
  attributeValueProblem,
  profileIdProblem,
  type Clock,
  type ProfileKey,
  type Store,
} from '@profilegate/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { rawQuery } from './query';

/** Options of `profileTracker()`. */
export interface ProfileTrackerOptions {
  store: Store;
  client: string;
  /** Cookie holding the visitor's pcId (default `mboxPC`). */
  cookieName?: string;
  /** The signed-in user's id in the host app, used as the profile's thirdPartyId. */
  identify?: (req: Request) => string | undefined;
  /** Attribute counting visits (default `visitCount`). */
  visitCountAttribute?: string;
  /** Receives update failures; the host app's request always goes on. */
  onError?: (error: unknown) => void;
  clock?: Clock;
}

/**
 * Updates the visiting user's profile on every request of the host app: `profile.*` query
 * parameters become attributes and a visit count goes up; the profile is created on the first
 * visit and its pcId kept in a cookie. A failure is reported to `onError`, never to the visitor.
 */
export function profileTracker(options: ProfileTrackerOptions): RequestHandler {
  if (!isValidClientCode(options?.client ?? ''))
    throw new TypeError('profileTracker: client must be a valid client code');
  if (typeof options.store?.updateProfile !== 'function') throw new TypeError('profileTracker: store must be a Store');
  const cookieName = options.cookieName ?? 'mboxPC';
  const visitAttribute = options.visitCountAttribute ?? 'visitCount';
  const clock = options.clock ?? Date.now;
  const profiles = new ProfileService({ store: options.store, clock });
  const onError = options.onError ?? ((error) => console.error(`profilegate tracker: ${String(error)}`));

  return (req: Request, res: Response, next: NextFunction) => {
    let pcId = readCookie(req.headers.cookie, cookieName);
    // A cookie that is no valid pcId (too long, or text no store keeps) is replaced by a new one.
    if (!pcId || profileIdProblem({ kind: 'pcId', id: pcId }) !== null) {
      pcId = newPcId(clock()) + randomBytes(2).toString('hex');
      res.cookie(cookieName, pcId, { httpOnly: true, sameSite: 'lax', maxAge: 2 * 365 * 86_400_000 });
    }
    const visitorPcId = pcId;
    const attributes = visitAttributes(rawQuery(req));
    let key: ProfileKey = { kind: 'pcId', id: visitorPcId };
    // Everything that may fail runs inside the promise chain: a throwing identify() or a store
    // that throws synchronously reaches onError, never the host's request.
    Promise.resolve()
      .then(() => {
        const thirdPartyId = options.identify?.(req);
        if (thirdPartyId) key = { kind: 'thirdPartyId', id: thirdPartyId };
        return profiles.getProfile(options.client, key);
      })
      .then((existing) => {
        const visits = Number(existing?.attributes[visitAttribute]?.value ?? '0');
        attributes[visitAttribute] = String((Number.isSafeInteger(visits) ? visits : 0) + 1);
        return profiles.updateProfile(options.client, key, attributes, { createMissing: true });
      })
      .catch((error: unknown) => {
        try {
          onError(error);
        } catch {
          // A failing error reporter must not break the host's request either.
        }
      })
      .finally(() => next());
  };
}

/** The valid `profile.NAME=VALUE` query parameters; invalid ones are skipped. */
function visitAttributes(query: string): Record<string, string> {
  const attributes: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(query)) {
    if (!name.startsWith('profile.')) continue;
    const attribute = normalizeAttributeName(name);
    if (attributeNameProblem(attribute) || attributeValueProblem(attribute, value)) continue;
    attributes[attribute] = value;
  }
  return attributes;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at !== -1 && part.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
