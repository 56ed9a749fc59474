import { TokenError, extractBearerToken } from '@profilegate/core';
import type { Request } from 'express';
import type { Runtime } from './runtime';

/**
 * The "Require Authentication" gate of API.md 2.0 for one client: resolves when the request may
 * pass, throws a TokenError (400/401 with WWW-Authenticate) when it may not.
 */
export async function checkProfileAccess(rt: Runtime, client: string, req: Request): Promise<void> {
  const settings = await rt.settings.get(client);
  if (!settings.requireAuthentication) return;
  try {
    const token = extractBearerToken(req.headers.authorization);
    await rt.tokens.verify(client, token);
  } catch (error) {
    if (error instanceof TokenError) rt.audit.recordDenial(client, error.reason);
    throw error;
  }
}
