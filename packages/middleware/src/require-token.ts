import { OptionChecks, ProfileAccess, isValidClientCode, type KeyRing, type Store } from '@profilegate/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { toErrorAnswer } from './errors';
import { decideAccess } from './gate';

/** Options of `requireProfileToken()`. */
export interface RequireProfileTokenOptions {
  store: Store;
  signingKeys: KeyRing;
  /** The client whose token and Require Authentication setting apply (or a function of the request). */
  client: string | ((req: Request) => string);
  /** How long token state and settings may be cached, in whole ms (default 1000). */
  cacheMs?: number;
}

/**
 * Puts a host app's own routes behind the same gate as the profile routes: while the client's
 * Require Authentication is on, a valid profile token is needed; refusals are JSON with the
 * RFC 6750 `WWW-Authenticate` header. The options are checked here, once (OptionsError).
 */
export function requireProfileToken(options: RequireProfileTokenOptions): RequestHandler {
  const check: OptionChecks = new OptionChecks('requireProfileToken');
  check.object(options);
  const { client } = options;
  if (typeof client === 'string' ? !isValidClientCode(client) : typeof client !== 'function') {
    check.fail(
      'client',
      `must be a client code (^[a-z0-9][a-z0-9-]{0,63}$) or a function (req) => client code; got ${JSON.stringify(client)}`,
    );
  }
  const access = new ProfileAccess({
    store: options.store,
    signingKeys: options.signingKeys,
    cacheMs: options.cacheMs,
    factory: 'requireProfileToken',
  });
  const clientOf = typeof client === 'function' ? client : () => client;
  return (req: Request, res: Response, next: NextFunction) => {
    let decision: ReturnType<typeof decideAccess>;
    try {
      decision = decideAccess(access, clientOf(req), req.headers.authorization);
    } catch (error) {
      refuse(error, res, next);
      return;
    }
    if (decision instanceof Promise)
      decision.then(
        () => next(),
        (error: unknown) => refuse(error, res, next),
      );
    else next();
  };
}

/** Answers a refusal as JSON with its status and headers; an unexpected error goes to `next`. */
function refuse(error: unknown, res: Response, next: NextFunction): void {
  const answer = toErrorAnswer(error);
  if (answer.unexpected) {
    next(error);
    return;
  }
  res.status(answer.status).set(answer.headers).json({ success: false, message: answer.message });
}
