import { ProfilegateError } from '@profilegate/core';
import type { NextFunction, Request, Response } from 'express';

/** Whether the request carries a body (a Content-Length above 0, or chunked). */
export function hasBody(req: Request): boolean {
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}

/**
 * Refuses (415) a body whose Content-Type is none of `types` (type-is patterns, parameters
 * allowed), before anything reads it: a body the route's parser would skip must never be ignored
 * while the request is answered as if it had been read. A request without a body passes.
 */
export function bodyOfType(types: string[], advice: string) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (hasBody(req) && typeof req.is(types) !== 'string') {
      throw new ProfilegateError(415, 'UnsupportedMediaType', advice);
    }
    next();
  };
}
