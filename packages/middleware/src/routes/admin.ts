import {
  ForbiddenError,
  NotFoundError,
  ProfilegateError,
  authorize,
  isActor,
  type Actor,
  type AdminAction,
  type IssuedToken,
  type ReplacedToken,
  type Settings,
  type TokenStatus,
} from '@profilegate/core';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { asyncRouter } from '../async-handler';
import { withBodyIdleTimeout } from '../body-idle';
import { bodyOfType } from '../body-type';
import { declaredLengthAtMost } from '../declared-length';
import { errorHandler } from '../error-handler';
import { noRepeatedFields, noteRepeatedFields } from '../json-fields';
import { queryParam, queryParams } from '../query';
import { sendAdminAnswer } from '../respond';
import type { Runtime } from '../runtime';
import { exportProfilesRoute } from './export';
import { parseGenerateBody, parseLimit, parseScope, parseSettingsBody } from './admin-bodies';

/** JSON under any JSON media type: Adobe's Admin API clients send application/vnd.adobe.target.v1+json. */
const JSON_TYPES = ['application/json', 'application/*+json'];

/** The media type of Adobe's Admin API; admin answers come in it when Accept prefers it. */
export const ADOBE_TARGET_MEDIA_TYPE = 'application/vnd.adobe.target.v1+json';

/** Largest admin JSON body (a token or settings request is a few dozen bytes). */
const ADMIN_BODY_LIMIT = 16 * 1024;

/** The admin routes of API.md section 3. */
export function adminRoutes(rt: Runtime): Router {
  const { tokens, settings, audit } = rt.access;
  const router = asyncRouter();
  // A client written for Adobe's Admin API asks for its vendor type: the same JSON, labelled so.
  // The export's errors too (its file keeps its own type).
  router.use(
    ['/:client/target/authentication', '/:client/target/profiles/export'],
    (req: Request, res: Response, next: NextFunction) => {
      if (req.accepts(['application/json', ADOBE_TARGET_MEDIA_TYPE]) === ADOBE_TARGET_MEDIA_TYPE) {
        res.type(ADOBE_TARGET_MEDIA_TYPE);
      }
      next();
    },
  );
  const json = withBodyIdleTimeout(
    rt.bodyIdleTimeoutMs,
    express.json({ limit: ADMIN_BODY_LIMIT, strict: true, type: JSON_TYPES, verify: noteRepeatedFields }),
  );
  const jsonLength = declaredLengthAtMost(ADMIN_BODY_LIMIT, 'The JSON body');

  const prepare = async (req: Request, res: Response, next: NextFunction) => {
    const client = req.params['client'] as string;
    if (!rt.clients.has(client)) throw new NotFoundError(`Unknown client ${client}`, 'ClientNotFound');
    const actor = await rt.authenticateAdmin(req);
    if (actor === null || actor === undefined) {
      throw new ProfilegateError(401, 'Unauthorized', 'Sign in: send Authorization: Bearer <admin key>', {
        'WWW-Authenticate': 'Bearer realm="profilegate-admin"',
      });
    }
    if (!isActor(actor)) throw new Error('authenticateAdmin returned a value that is not an Actor');
    res.locals['actor'] = actor;
    next();
  };
  const allow = (action: AdminAction) => (_req: Request, res: Response, next: NextFunction) => {
    const decision = authorize(res.locals['actor'] as Actor, action);
    if (!decision.allowed) throw new ForbiddenError(decision.reason);
    next();
  };
  const scope = (req: Request, _res: Response, next: NextFunction) => {
    // `scope=` is the older spelling of Adobe's Admin API.
    parseScope([...queryParams(req, 'authorizationScope'), ...queryParams(req, 'scope')]);
    next();
  };
  const jsonOnly = bodyOfType(
    JSON_TYPES,
    'Send the body as JSON: application/json (or a type ending in +json, such as application/vnd.adobe.target.v1+json)',
  );
  const actorOf = (res: Response) => (res.locals['actor'] as Actor).id;
  const clientOf = (req: Request) => req.params['client'] as string;

  const tokenPath = '/:client/target/authentication/token';
  router.get(tokenPath, prepare, allow('token.read'), scope, async (req, res) => {
    const issued = await tokens.current(clientOf(req));
    if (!issued) throw new NotFoundError('There is no profile token; generate one with POST', 'TokenNotFound');
    const replacedTokens = replacedBody(await tokens.replaced(clientOf(req)));
    noStore(res).json({ ...tokenBody(issued, rt.clock()), replacedTokens });
  });
  router.post(
    tokenPath,
    prepare,
    allow('token.generate'),
    scope,
    jsonOnly,
    jsonLength,
    json,
    noRepeatedFields,
    async (req, res) => {
      const options = parseGenerateBody(req.body);
      const issued = await tokens.generate(clientOf(req), { ...options, actor: actorOf(res) });
      noStore(res).status(201).json(tokenBody(issued, rt.clock()));
    },
  );
  router.delete(tokenPath, prepare, allow('token.revoke'), scope, async (req, res) => {
    await tokens.revoke(clientOf(req), actorOf(res));
    res.status(204).end();
  });

  const settingsPath = '/:client/target/authentication/settings';
  // Read from the store, not the cache: an admin must see a change made on another instance.
  const settingsBody = async (client: string) =>
    settingsJson(await settings.getFresh(client), await tokens.status(client));
  router.get(settingsPath, prepare, allow('settings.read'), async (req, res) => {
    res.json(await settingsBody(clientOf(req)));
  });
  router.put(
    settingsPath,
    prepare,
    allow('settings.write'),
    jsonOnly,
    jsonLength,
    json,
    noRepeatedFields,
    async (req, res) => {
      await settings.put(clientOf(req), parseSettingsBody(req.body), actorOf(res));
      res.json(await settingsBody(clientOf(req)));
    },
  );

  router.get('/:client/target/authentication/audit', prepare, allow('audit.read'), async (req, res) => {
    const limit = parseLimit(queryParam(req, 'limit'));
    await audit.flush();
    const events = await audit.list(clientOf(req), limit);
    res.json({
      events: events.map((e) => ({
        at: new Date(e.at).toISOString(),
        actor: e.actor,
        action: e.action,
        details: e.details,
      })),
    });
  });
  router.get('/:client/target/profiles/export', prepare, allow('profiles.export'), exportProfilesRoute(rt));
  router.use(errorHandler(rt, sendAdminAnswer));
  return router;
}

/** A response holding a token must never be stored by a cache (RFC 6749 5.1). */
function noStore(res: Response): Response {
  return res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
}

function tokenBody(issued: IssuedToken, now: number): object {
  const { record } = issued;
  return {
    accessToken: issued.accessToken,
    tokenType: 'bearer',
    scope: 'profile_api',
    expiresIn: Math.max(0, Math.floor((record.expiresAt - now) / 1000)),
    expiresAt: new Date(record.expiresAt).toISOString(),
    createdAt: new Date(record.createdAt).toISOString(),
    createdBy: record.createdBy,
  };
}

/** The settings answer of API.md 3.2: the setting and what admins see of the tokens. */
function settingsJson(settings: Settings, status: TokenStatus): object {
  const { current } = status;
  const token =
    current !== null
      ? {
          createdAt: new Date(current.createdAt).toISOString(),
          expiresAt: new Date(current.expiresAt).toISOString(),
          createdBy: current.createdBy,
        }
      : null;
  return {
    requireAuthentication: settings.requireAuthentication,
    profileRetentionDays: settings.profileRetentionDays,
    token,
    replacedTokens: replacedBody(status.replaced),
  };
}

/** Replaced tokens that still work (API.md 3.1): masked, with when they stop. */
function replacedBody(replaced: ReplacedToken[]): object[] {
  return replaced.map((r) => ({
    token: r.maskedToken,
    jtiPrefix: r.jtiPrefix,
    worksUntil: new Date(r.graceUntil).toISOString(),
  }));
}
