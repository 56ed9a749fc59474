import { randomBytes } from 'node:crypto';
import {
  OptionChecks,
  ProfileService,
  systemClock,
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
import { formPairs, rawQuery } from './query';

/** Options of `profileTracker()`. */
export interface ProfileTrackerOptions {
  store: Store;
  client: string;
  /** Cookie holding the visitor's pcId (default `mboxPC`). */
  cookieName?: string;
  /**
   * Query parameter holding the visitor's Experience Cloud ID, linked to the profile (default
   * `mboxMCGVID`, as Adobe's at.js sends it); false to read none. It wins over the cookie.
   */
  ecidQueryParameter?: string | false;
  /** Cookie holding the visitor's Experience Cloud ID (default `mboxMCGVID`); false to read none. */
  ecidCookieName?: string | false;
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
 * visit and its pcId kept in a cookie. An Experience Cloud ID in the request (`mboxMCGVID` by
 * default) is linked to the profile, taken from any other profile that held it; an invalid one is
 * skipped. A failure is reported to `onError`, never to the visitor.
 */
export function profileTracker(options: ProfileTrackerOptions): RequestHandler {
  const check: OptionChecks = new OptionChecks('profileTracker');
  check.object(options);
  if (typeof options.client !== 'string' || !isValidClientCode(options.client)) {
    check.fail('client', `must be a client code (^[a-z0-9][a-z0-9-]{0,63}$); got ${JSON.stringify(options.client)}`);
  }
  check.methods('store', options.store, ['getProfile', 'updateProfile'], 'must be a Store');
  const cookieName = options.cookieName ?? 'mboxPC';
  if (typeof cookieName !== 'string' || !COOKIE_NAME.test(cookieName)) {
    check.fail('cookieName', `must be a cookie name (default "mboxPC"); got ${JSON.stringify(cookieName)}`);
  }
  const ecidSources = checkEcidSources(check, options, cookieName);
  const visitAttribute = options.visitCountAttribute ?? 'visitCount';
  if (typeof visitAttribute !== 'string' || attributeNameProblem(visitAttribute) !== null) {
    check.fail(
      'visitCountAttribute',
      `must be an attribute name (default "visitCount"); got ${JSON.stringify(visitAttribute)}`,
    );
  }
  check.func('identify', options.identify, () => undefined);
  const clock = check.func('clock', options.clock, systemClock);
  const profiles = new ProfileService({ store: options.store, clock });
  const onError = check.func('onError', options.onError, (error: unknown) =>
    console.error(`profilegate tracker: ${String(error)}`),
  );

  return (req: Request, res: Response, next: NextFunction) => {
    let pcId = readCookie(req.headers.cookie, cookieName);
    // A cookie that is no valid pcId (too long, or text no store keeps) is replaced by a new one.
    if (!pcId || profileIdProblem({ kind: 'pcId', id: pcId }) !== null) {
      pcId = newPcId(clock()) + randomBytes(2).toString('hex');
      res.cookie(cookieName, pcId, { httpOnly: true, sameSite: 'lax', maxAge: 2 * 365 * 86_400_000 });
    }
    const visitorPcId = pcId;
    const query = rawQuery(req);
    const attributes = visitAttributes(query);
    const ecid = visitorEcid(ecidSources, query, req.headers.cookie);
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
      .then((profile) => {
        if (ecid === undefined || profile.marketingCloudVisitorId === ecid) return;
        return profiles.linkMarketingCloudVisitorId(options.client, profile.pcId, ecid);
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

/** Where the tracker reads a visitor's Experience Cloud ID; null for a source turned off. */
interface EcidSources {
  queryParameter: string | null;
  cookieName: string | null;
}

/** A cookie name as RFC 6265 allows it: an HTTP token. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Checks the ECID options once, at creation; a mistake throws an OptionsError saying what to give. */
function checkEcidSources(check: OptionChecks, options: ProfileTrackerOptions, cookieName: string): EcidSources {
  const parameter = options.ecidQueryParameter ?? 'mboxMCGVID';
  if (parameter !== false && (typeof parameter !== 'string' || parameter === '')) {
    check.fail('ecidQueryParameter', 'must be a parameter name or false (default "mboxMCGVID")');
  }
  if (typeof parameter === 'string' && parameter.startsWith('profile.')) {
    check.fail(
      'ecidQueryParameter',
      `must not start with "profile." (those parameters are attributes); got "${parameter}"`,
    );
  }
  const cookie = options.ecidCookieName ?? 'mboxMCGVID';
  if (cookie !== false && typeof cookie !== 'string') {
    check.fail('ecidCookieName', 'must be a cookie name or false (default "mboxMCGVID")');
  }
  if (typeof cookie === 'string' && !COOKIE_NAME.test(cookie)) {
    check.fail(
      'ecidCookieName',
      `must be a cookie name (letters, digits and !#$%&'*+-.^_\`|~), or false; got ${JSON.stringify(cookie)}`,
    );
  }
  if (cookie === cookieName) {
    check.fail('ecidCookieName', `must differ from cookieName ("${cookieName}", which holds the pcId)`);
  }
  return { queryParameter: parameter || null, cookieName: cookie || null };
}

/**
 * The visitor's Experience Cloud ID: the query parameter's, else the cookie's; undefined when
 * there is none or it is no valid id (empty, too long, text no store keeps), which is skipped.
 */
function visitorEcid(sources: EcidSources, query: string, cookies: string | undefined): string | undefined {
  // An empty value, or one whose percent-encoding is not UTF-8, counts as none: it would hide the
  // cookie's, or collide with every other garbled one as U+FFFD.
  const fromQuery =
    sources.queryParameter === null
      ? undefined
      : formPairs(query).find((pair) => pair?.[0] === sources.queryParameter && pair[1] !== '')?.[1];
  const ecid = fromQuery ?? (sources.cookieName === null ? undefined : readCookie(cookies, sources.cookieName));
  if (ecid === undefined || profileIdProblem({ kind: 'marketingCloudVisitorId', id: ecid }) !== null) return undefined;
  return ecid;
}

/** The valid `profile.NAME=VALUE` query parameters; invalid ones are skipped. */
function visitAttributes(query: string): Record<string, string> {
  const attributes: Record<string, string> = Object.create(null);
  for (const pair of formPairs(query)) {
    if (pair === undefined || !pair[0].startsWith('profile.')) continue;
    const [name, value] = pair;
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
      // RFC 6265 allows a value in double quotes; the quotes are not part of it.
      const raw = part
        .slice(at + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      try {
        return decodeURIComponent(raw);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
