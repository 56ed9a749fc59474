import type { ProfileAccess, ProfileAccessGrant } from '@profilegate/core';
import type { NextFunction, Request, Response } from 'express';

/**
 * The access decision of API.md 2.0 for one request: synchronously when the cached setting and
 * token state decide it (`checkCached`, the hot path: no promise hops), else after `check`. A
 * refusal is thrown (or rejects) as a TokenError, already counted in the denials.
 */
export function decideAccess(
  access: ProfileAccess,
  client: string,
  authorization: string | undefined,
): ProfileAccessGrant | Promise<ProfileAccessGrant> {
  return access.checkCached(client, authorization) ?? access.check(client, authorization);
}

/** Route middleware that lets through what `decideAccess` grants for the client `clientOf` names. */
export function accessGate(
  access: ProfileAccess,
  clientOf: (req: Request) => string,
): (req: Request, res: Response, next: NextFunction) => void | Promise<void> {
  return (req, _res, next) => {
    const decision = decideAccess(access, clientOf(req), req.headers.authorization);
    if (!(decision instanceof Promise)) return next();
    return decision.then(() => next());
  };
}
