import { NotFoundError } from '@profilegate/core';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { errorHandler } from '../error-handler';
import { sendFetchAnswer, sendProfileJsonAnswer } from '../respond';
import type { Runtime } from '../runtime';

const FETCH_ROUTES =
  'fetch a profile with GET /rest/v1/profiles/PCID?client=CLIENT, /rest/v1/profiles/thirdPartyId/ID?client=CLIENT or /rest/v1/profiles/marketingCloudVisitorId/ECID?client=CLIENT';
const CLIENT_ROUTES =
  'POST v2/profile/batchUpdate, GET v2/profile/batchStatus, POST profile/batchUpdate, GET profile/batchStatus and GET or POST profile/update';
/** Characters of a path echoed in a message. */
const SHOWN_PATH_CHARS = 200;

/**
 * JSON 404s in Adobe's shapes for every other path under `/rest/v1/profiles` and `/m2/:client/`
 * (API.md 2.4), so that a mistyped path never meets the host's HTML error page. Mount it after
 * every route of the router. Prefix middleware, not wildcard routes: `*` and `{*splat}` mean
 * different things to Express 4 and 5. A known path asked with another method gets the same 404.
 * Each prefix is a router of its own, ending with the error handler of its shape.
 */
export function unknownPathRoutes(rt: Runtime): Router {
  const fetchPaths = express.Router();
  fetchPaths.use('/rest/v1/profiles', (req: Request, _res: Response, next: NextFunction) => {
    next(new NotFoundError(`No route ${req.method} ${shownPath(req)}: ${FETCH_ROUTES}`));
  });
  fetchPaths.use(errorHandler(rt, sendFetchAnswer));

  const clientPaths = express.Router();
  clientPaths.use('/m2', (req: Request, _res: Response, next: NextFunction) => {
    // `/m2` and `/m2/` are no client's: they stay the host's.
    const client = /^\/([^/]+)/.exec(req.path)?.[1];
    if (client === undefined) {
      next();
      return;
    }
    const message = rt.clients.has(client)
      ? `No route ${req.method} ${shownPath(req)}: the profile routes of client ${client} are ${CLIENT_ROUTES}`
      : `Unknown client ${client.length > 64 ? `${client.slice(0, 64)}…` : client}`;
    next(new NotFoundError(message, rt.clients.has(client) ? 'NotFound' : 'ClientNotFound'));
  });
  clientPaths.use(errorHandler(rt, sendProfileJsonAnswer));
  return express.Router().use(fetchPaths, clientPaths);
}

/** The request's path as sent (mount included, query left out), cut short when long. */
function shownPath(req: Request): string {
  const path = req.originalUrl.split('?', 1)[0]!;
  return path.length > SHOWN_PATH_CHARS ? `${path.slice(0, SHOWN_PATH_CHARS)}…` : path;
}
