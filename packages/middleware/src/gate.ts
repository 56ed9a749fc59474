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
  await checkToken(rt, client, req, (token) => rt.tokens.verify(client, token));
}

/**
 * The same gate again, for a batch whose body has been received (API.md 3.1), read from the store
 * itself: a cached setting or token state may predate a change made while the body was arriving.
 * The setting is checked again too: an admin who switches Require Authentication on expects no
 * unauthenticated write to land after the switch, whenever its upload began. A switch off, on the
 * other hand, opens the routes, so the upload is accepted then whatever its token.
 */
export async function recheckProfileAccess(rt: Runtime, client: string, req: Request): Promise<void> {
  // The store, not rt.settings: SettingsService caches for up to cacheMs.
  const settings = await rt.store.getSettings(client);
  if (!settings.requireAuthentication) return;
  await checkToken(rt, client, req, (token) => rt.tokens.verifyFresh(client, token));
}

/** Verifies the request's bearer token; a refusal is counted in the audit log's denials. */
async function checkToken(
  rt: Runtime,
  client: string,
  req: Request,
  verify: (token: string) => Promise<unknown>,
): Promise<void> {
  try {
    await verify(extractBearerToken(req.headers.authorization));
  } catch (error) {
    if (error instanceof TokenError) rt.audit.recordDenial(client, error.reason);
    throw error;
  }
}
