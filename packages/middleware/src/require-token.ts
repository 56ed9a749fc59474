import { AuditLog, KeyRing, SettingsService, TokenService, isValidClientCode, type Store } from '@profilegate/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { toErrorAnswer } from './errors';
import { checkProfileAccess } from './gate';
import type { Runtime } from './runtime';

/** Options of `requireProfileToken()`. */
export interface RequireProfileTokenOptions {
  store: Store;
  signingKeys: KeyRing;
  /** The client whose token and Require Authentication setting apply (or a function of the request). */
  client: string | ((req: Request) => string);
  /** How long token state and settings may be cached, in ms (default 1000). */
  cacheMs?: number;
}

/**
 * Puts a host app's own routes behind the same gate as the profile routes: while the client's
 * Require Authentication is on, a valid profile token is needed; refusals are JSON with the
 * RFC 6750 `WWW-Authenticate` header.
 */
export function requireProfileToken(options: RequireProfileTokenOptions): RequestHandler {
  if (!(options?.signingKeys instanceof KeyRing))
    throw new TypeError('requireProfileToken: signingKeys must be a KeyRing');
  if (typeof options.store?.getSettings !== 'function')
    throw new TypeError('requireProfileToken: store must be a Store');
  if (typeof options.client === 'string' && !isValidClientCode(options.client)) {
    throw new TypeError(`requireProfileToken: client ${JSON.stringify(options.client)} is not a valid client code`);
  }
  const cacheMs = options.cacheMs ?? 1000;
  const audit = new AuditLog({ store: options.store });
  const rt = {
    tokens: new TokenService({ store: options.store, keys: options.signingKeys, stateCacheMs: cacheMs, audit }),
    settings: new SettingsService(options.store, audit, cacheMs),
    audit,
  } as Pick<Runtime, 'tokens' | 'settings' | 'audit'> as Runtime;
  const clientOf = typeof options.client === 'function' ? options.client : () => options.client as string;
  return (req: Request, res: Response, next: NextFunction) => {
    checkProfileAccess(rt, clientOf(req), req).then(
      () => next(),
      (error: unknown) => {
        const answer = toErrorAnswer(error);
        if (answer.unexpected) {
          next(error);
          return;
        }
        res.status(answer.status).set(answer.headers).json({ success: false, message: answer.message });
      },
    );
  };
}
