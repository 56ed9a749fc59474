import { RetentionSweeper } from '@profilegate/core';
import type { Router } from 'express';
import { adminPageRoutes } from './admin-page/route';
import { asyncRouter } from './async-handler';
import { openApiDocument } from './openapi';
import type { ProfileApiOptions } from './options';
import { adminRoutes } from './routes/admin';
import { fetchRoutes } from './routes/fetch';
import { profileRoutes } from './routes/profile';
import { unknownPathRoutes } from './routes/unknown-paths';
import { createRuntime } from './runtime';

/** The router of `profileApi()`, with a way to stop it cleanly. */
export interface ProfileApiRouter extends Router {
  /**
   * Stops the retention sweep (one under way ends after its current transaction), cuts the exports
   * being streamed (each writes its audit event, `complete: false`), waits for every
   * batch being applied to finish, writes pending sampled denial counts to the audit log and stops
   * listening to the store. Call it before closing the store.
   */
  close(): Promise<void>;
}

/**
 * The Profile API as an Express router (Express 4.17+ or 5): `app.use(profileApi(options))`. Options are validated
 * here, once; a mistake throws at start-up, not on a request.
 */
export function profileApi(options: ProfileApiOptions): ProfileApiRouter {
  const rt = createRuntime(options);
  void rt.profiles.recover().catch((error) => rt.onError(error));
  // Deletes expired profiles (API.md 5) now and on its schedule, until close().
  const sweeper = rt.retentionSweep
    ? new RetentionSweeper({
        store: options.store,
        clients: rt.clients,
        audit: rt.access.audit,
        clock: rt.clock,
        onError: (error) => rt.onError(error),
      })
    : null;
  sweeper?.start();
  const router = asyncRouter();
  const document = openApiDocument();
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  // Each group ends with its own error handler, which answers in that group's error shape.
  router.use(profileRoutes(rt));
  router.use(fetchRoutes(rt));
  router.use(adminRoutes(rt));
  if (rt.adminPage) router.use(adminPageRoutes(rt));
  router.use(unknownPathRoutes(rt));
  let closing: Promise<void> | undefined;
  return Object.assign(router, {
    close: () =>
      (closing ??= (async () => {
        await sweeper?.stop();
        await rt.exports.close();
        await rt.profiles.drain();
        await rt.access.audit.flush().catch((error) => rt.onError(error));
        rt.access.dispose();
      })()),
  });
}
