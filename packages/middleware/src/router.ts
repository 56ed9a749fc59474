import express, { type Router } from 'express';
import { errorHandler } from './error-handler';
import { openApiDocument } from './openapi';
import type { ProfileApiOptions } from './options';
import { adminRoutes } from './routes/admin';
import { profileRoutes } from './routes/profile';
import { createRuntime } from './runtime';

/**
 * The Profile API as an Express 5 router: `app.use(profileApi(options))`. Options are validated
 * here, once; a mistake throws at start-up, not on a request.
 */
export function profileApi(options: ProfileApiOptions): Router {
  const rt = createRuntime(options);
  void rt.profiles.recover().catch((error) => rt.onError(error));
  const router = express.Router();
  const document = openApiDocument();
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.use(profileRoutes(rt));
  router.use(adminRoutes(rt));
  router.use(errorHandler(rt));
  return router;
}
