import type { NextFunction, Request, Response } from 'express';
import { toErrorAnswer, type ErrorAnswer } from './errors';
import type { Runtime } from './runtime';

/** Sends an error answer in one route group's shape (API.md 1). */
export type SendErrorAnswer = (req: Request, res: Response, answer: ErrorAnswer) => void;

/**
 * The error handler a route group's router ends with: every error raised in that router (by a
 * route, a body parser, or Express itself while matching a path whose :param is not valid
 * %-encoding) becomes a contract body in the group's own shape. The router is entered only
 * without an error pending, so a host's errors never reach it.
 */
export function errorHandler(rt: Runtime, send: SendErrorAnswer) {
  return (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const answer = toErrorAnswer(error);
    if (answer.unexpected) rt.onError(error, req);
    // A refused body that was not read to its end: close the connection rather than read it all.
    if (!req.complete) res.set('Connection', 'close');
    send(req, res, answer);
  };
}
