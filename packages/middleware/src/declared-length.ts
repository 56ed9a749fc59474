import { PayloadTooLargeError } from '@profilegate/core';
import type { NextFunction, Request, Response } from 'express';

/**
 * Refuses (413) a body whose Content-Length is over `limit` before anything reads it. The body
 * parser would refuse it too, but only after reading it all (to keep the connection), so a client
 * that sent `Expect: 100-continue` would be told to send it first.
 */
export function declaredLengthAtMost(limit: number, what: string) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      throw new PayloadTooLargeError(`${what} is too large: ${declared} bytes; the limit is ${limit} bytes`);
    }
    next();
  };
}
