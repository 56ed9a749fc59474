import type { NextFunction, Request, Response } from 'express';
import { toErrorAnswer } from './errors';
import { negotiate, sendAdminError, sendProfileBody, sendProfileError } from './respond';
import type { Runtime } from './runtime';

/**
 * Which error body a route answers with: profile routes (XML/JSON), fetch routes (JSON), admin
 * routes; `profileJson`, the profile routes' body always in JSON (unknown paths under `/m2/:client/`).
 */
export type ErrorStyle = 'profile' | 'profileJson' | 'fetch' | 'admin';

/** Records the error style of the route handling this response. */
export function setErrorStyle(res: Response, style: ErrorStyle): void {
  res.locals['profilegateErrorStyle'] = style;
}

/** Paths of this router, for errors raised before a route ran (e.g. a path param that is not valid %-encoding). */
const PATH_STYLES: ReadonlyArray<[RegExp, ErrorStyle]> = [
  [/^\/m2\/[^/]+\/(?:v2\/)?profile\/(?:batchUpdate|batchStatus|update)\/?$/i, 'profile'],
  [/^\/rest\/v1\/profiles\/[^/]+(?:\/[^/]+)?\/?$/i, 'fetch'],
  [/^\/[^/]+\/target\/authentication\/(?:token|settings|audit)\/?$/i, 'admin'],
  [/^\/[^/]+\/target\/admin(?:\/[^/]+)?\/?$/i, 'admin'],
];

function styleOf(req: Request, res: Response): ErrorStyle | undefined {
  const style = res.locals['profilegateErrorStyle'] as ErrorStyle | undefined;
  if (style) return style;
  // Express fails while matching a route whose :param is not valid %-encoding: no route ran, so
  // no style was set. Answer it here rather than let the host's final handler print a stack trace.
  const path = req.path;
  for (const [pattern, byPath] of PATH_STYLES) if (pattern.test(path)) return byPath;
  return undefined;
}

/** The single place where errors become contract bodies (API.md 1). */
export function errorHandler(rt: Runtime) {
  return (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    const style = styleOf(req, res);
    if (!style || res.headersSent) {
      next(error);
      return;
    }
    const answer = toErrorAnswer(error);
    if (answer.unexpected) rt.onError(error, req);
    // A refused body that was not read to its end: close the connection rather than read it all.
    if (!req.complete) res.set('Connection', 'close');
    if (style === 'admin') {
      sendAdminError(res, answer.status, answer.code, answer.message, answer.headers);
    } else if (style === 'fetch') {
      res.set(answer.headers);
      if (answer.status === 404) res.status(404).json({ status: 404, message: answer.message });
      else sendProfileBody(res, 'json', answer.status, { success: false, message: answer.message });
    } else {
      const format = style === 'profileJson' ? 'json' : negotiate(req);
      sendProfileError(res, format, answer.status, answer.message, answer.headers);
    }
  };
}
