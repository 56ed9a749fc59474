import { ANONYMOUS_ACTOR, NotFoundError, notFoundMessage, type Profile, type ProfileKey } from '@profilegate/core';
import type { NextFunction, Request, Response, Router } from 'express';
import { asyncRouter } from '../async-handler';
import { accessGate, decideAccess } from '../gate';
import { errorHandler } from '../error-handler';
import { queryParam } from '../query';
import { sendFetchAnswer } from '../respond';
import type { Runtime } from '../runtime';

/**
 * The fetch routes of API.md section 2.4, `GET /rest/v1/profiles/…?client=CLIENT`, answered in
 * JSON, and the delete routes of section 5 (`DELETE`, same paths, same gate, same 404).
 */
export function fetchRoutes(rt: Runtime): Router {
  const router = asyncRouter();
  const fetchClient = (req: Request, _res: Response, next: NextFunction) => {
    const client = queryParam(req, 'client');
    if (!client) throw new NotFoundError('Give the client code: ?client=CLIENT', 'ClientNotFound');
    if (!rt.clients.has(client)) throw new NotFoundError(`Unknown client ${client}`, 'ClientNotFound');
    next();
  };
  const gate = accessGate(rt.access, (req) => queryParam(req, 'client') as string);
  const fetchProfile = (kind: ProfileKey['kind'], param: string) => async (req: Request, res: Response) => {
    const client = queryParam(req, 'client') as string;
    const key: ProfileKey = { kind, id: req.params[param] as string };
    const profile = await rt.profiles.getProfile(client, key);
    if (!profile) throw new NotFoundError(notFoundMessage(client, key), 'ProfileNotFound');
    res.json(profileJson(client, profile));
  };
  // The gate's grant names the actor of the audit event: the token's jti prefix, or anonymous.
  const deleteProfile = (kind: ProfileKey['kind'], param: string) => async (req: Request, res: Response) => {
    const client = queryParam(req, 'client') as string;
    const grant = await decideAccess(rt.access, client, req.headers.authorization);
    const actor = grant.authenticated ? grant.token.jti.slice(0, 8) : ANONYMOUS_ACTOR;
    const key: ProfileKey = { kind, id: req.params[param] as string };
    await rt.profiles.deleteProfile(client, key, (deleted) => rt.access.profileDeletedEvent(client, actor, deleted));
    res.status(204).end();
  };
  router.delete('/rest/v1/profiles/thirdPartyId/:id', fetchClient, deleteProfile('thirdPartyId', 'id'));
  router.delete(
    '/rest/v1/profiles/marketingCloudVisitorId/:ecid',
    fetchClient,
    deleteProfile('marketingCloudVisitorId', 'ecid'),
  );
  router.delete('/rest/v1/profiles/:pcId', missingFetchId, fetchClient, deleteProfile('pcId', 'pcId'));
  router.get('/rest/v1/profiles/thirdPartyId/:id', fetchClient, gate, fetchProfile('thirdPartyId', 'id'));
  router.get(
    '/rest/v1/profiles/marketingCloudVisitorId/:ecid',
    fetchClient,
    gate,
    fetchProfile('marketingCloudVisitorId', 'ecid'),
  );
  // Last: `/rest/v1/profiles/thirdPartyId/` (no id) reaches it, as pcId "thirdPartyId".
  router.get('/rest/v1/profiles/:pcId', missingFetchId, fetchClient, gate, fetchProfile('pcId', 'pcId'));
  router.use(errorHandler(rt, sendFetchAnswer));
  return router;
}

/** Path words of the fetch routes keyed by something else than a pcId. */
const FETCH_KEY_WORDS = new Map([
  ['thirdpartyid', 'thirdPartyId/ID'],
  ['marketingcloudvisitorid', 'marketingCloudVisitorId/ECID'],
]);

/**
 * Refuses `/rest/v1/profiles/thirdPartyId/` and `/rest/v1/profiles/marketingCloudVisitorId/`
 * with no id, which the pcId route matches (a trailing slash is optional) as that pcId.
 */
function missingFetchId(req: Request, _res: Response, next: NextFunction): void {
  const route = FETCH_KEY_WORDS.get(String(req.params['pcId']).toLowerCase());
  if (route !== undefined && req.path.endsWith('/')) {
    const [word] = route.split('/');
    throw new NotFoundError(`Give the ${word}: /rest/v1/profiles/${route}?client=CLIENT`, 'ProfileNotFound');
  }
  next();
}

/** A profile in the fetch routes' shape (API.md 2.4); also each line of an NDJSON export (section 5). */
export function profileJson(client: string, profile: Profile): object {
  const profileAttributes: Record<string, { value: string; modifiedAt: string }> = {};
  for (const name of Object.keys(profile.attributes)) {
    const attribute = profile.attributes[name]!;
    Object.defineProperty(profileAttributes, name, {
      value: { value: attribute.value, modifiedAt: isoTime(attribute.modifiedAt) },
      enumerable: true,
    });
  }
  return {
    client,
    visitorId: profile.pcId,
    ...(profile.thirdPartyId !== undefined ? { thirdPartyId: profile.thirdPartyId } : {}),
    ...(profile.marketingCloudVisitorId !== undefined
      ? { marketingCloudVisitorId: profile.marketingCloudVisitorId }
      : {}),
    modifiedAt: isoTime(profile.modifiedAt),
    profileAttributes,
  };
}

/** The last time written and its ISO form: a batch writes its attributes at one time, so an export repeats it. */
let lastTime = NaN;
let lastIso = '';

function isoTime(time: number): string {
  if (time !== lastTime) {
    lastIso = new Date(time).toISOString();
    lastTime = time;
  }
  return lastIso;
}
