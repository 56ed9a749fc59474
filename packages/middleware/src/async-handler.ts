import express, { type NextFunction, type Request, type Response, type Router } from 'express';

/** A route handler or middleware that may return a promise. */
export type MaybeAsyncHandler = (req: Request, res: Response, next: NextFunction) => unknown;

/**
 * Passes a handler's rejected promise (or synchronous throw) to `next(error)`, so the error
 * handler answers it. Express 5 does this itself; Express 4 ignores the promise, and a rejection
 * would leave the request hanging (or end the process on an unhandled rejection).
 */
export function asyncHandler(handler: MaybeAsyncHandler): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    let result: unknown;
    try {
      result = handler(req, res, next);
    } catch (error) {
      next(error);
      return;
    }
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      // As Express 5 does: a promise rejected with nothing still counts as an error.
      (result as PromiseLike<unknown>).then(undefined, (error: unknown) =>
        next(error ?? new Error('Rejected promise')),
      );
    }
  };
}

/** The methods the routers of this package register handlers with. */
const REGISTERING_METHODS = ['use', 'all', 'get', 'post', 'put', 'patch', 'delete'] as const;

/**
 * `express.Router()` whose handlers may be async on Express 4 as on 5: each handler given to
 * `use`, `get`, `post`, `put`, `patch`, `delete` or `all` goes through `asyncHandler`, so a route
 * added later is covered without anyone having to remember it. Paths, routers and error handlers
 * (four parameters: Express tells them apart by their parameter count) pass as they are.
 */
export function asyncRouter(): Router {
  const router = express.Router();
  for (const method of REGISTERING_METHODS) {
    const register = router[method] as (this: Router, ...args: unknown[]) => Router;
    Object.defineProperty(router, method, {
      value(this: Router, ...args: unknown[]): Router {
        return register.call(this, ...args.map(forwardingRejections));
      },
      configurable: true,
      writable: true,
    });
  }
  return router;
}

function forwardingRejections(handler: unknown): unknown {
  if (Array.isArray(handler)) return handler.map(forwardingRejections);
  if (typeof handler !== 'function' || handler.length >= 4) return handler;
  // A router or app (it has `handle`) returns no promise, and stays as it is for what reads its stack.
  if (typeof (handler as { handle?: unknown }).handle === 'function') return handler;
  return asyncHandler(handler as MaybeAsyncHandler);
}
