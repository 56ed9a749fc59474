import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError } from '@profilegate/core';
import type { NextFunction, Request, Response, Router } from 'express';
import { asyncRouter } from '../async-handler';
import { errorHandler } from '../error-handler';
import { sendAdminAnswer } from '../respond';
import type { Runtime } from '../runtime';
import { adminPageHtml } from './html';

/**
 * The policy the page is built for: its own script and style files, calls to its own origin, no
 * inline code, no framing. A page that holds an admin key and shows a token gets nothing looser.
 */
export const ADMIN_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = {
  'Content-Security-Policy': ADMIN_PAGE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  // Revalidated on every load (cheap, with the ETag): an upgrade shows at once, never a stale script.
  'Cache-Control': 'no-cache',
};

/** The files the page loads, by the name in its URL; nothing else in the folder is served. */
const ASSET_TYPES: Readonly<Record<string, string>> = {
  'app.mjs': 'text/javascript; charset=utf-8',
  'api.mjs': 'text/javascript; charset=utf-8',
  'format.mjs': 'text/javascript; charset=utf-8',
  'token.mjs': 'text/javascript; charset=utf-8',
  'activity.mjs': 'text/javascript; charset=utf-8',
  'retention.mjs': 'text/javascript; charset=utf-8',
  'export.mjs': 'text/javascript; charset=utf-8',
  'admin.css': 'text/css; charset=utf-8',
};

/**
 * Where the page's files are: `assets/admin-page` of this package, shipped beside `dist` (see
 * `files` in package.json). Compiled code runs from `dist/src/admin-page`.
 */
export const ADMIN_PAGE_ASSET_DIR = join(__dirname, '..', '..', '..', 'assets', 'admin-page');

interface Asset {
  type: string;
  body: Buffer;
}

/** Reads every file of the page once; a missing file fails here, when the router is created. */
export function loadAdminPageAssets(dir: string = ADMIN_PAGE_ASSET_DIR): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(ASSET_TYPES)) {
    let body: Buffer;
    try {
      body = readFileSync(join(dir, name));
    } catch {
      throw new Error(
        `profileApi: the admin page's file ${name} is missing from ${dir}; reinstall @profilegate/middleware ` +
          '(its assets folder ships with the package) or create the router with adminPage: false',
      );
    }
    assets.set(name, { type, body });
  }
  return assets;
}

/**
 * `GET /:client/target/admin`: the Profile API settings page (Adobe's Administration >
 * Implementation > Profile API), and `GET /:client/target/admin/<file>` for its script and style.
 * The page itself needs no sign-in; everything it shows comes from the admin routes, which do.
 */
export function adminPageRoutes(rt: Runtime): Router {
  const assets = loadAdminPageAssets();
  const router = asyncRouter();
  const pages = new Map<string, string>();

  const knownClient = (req: Request, _res: Response, next: NextFunction) => {
    const client = req.params['client'] as string;
    if (!rt.clients.has(client)) throw new NotFoundError(`Unknown client ${client}`, 'ClientNotFound');
    next();
  };

  router.get('/:client/target/admin', knownClient, (req, res) => {
    // The page's URLs are relative to `…/target/admin`; from `…/target/admin/` they would miss.
    if (req.path.endsWith('/')) {
      res.redirect(301, '../admin');
      return;
    }
    const client = req.params['client'] as string;
    let html = pages.get(client);
    if (html === undefined) pages.set(client, (html = adminPageHtml(client)));
    res.set(PAGE_HEADERS).type('html').send(html);
  });

  router.get('/:client/target/admin/:file', knownClient, (req, res) => {
    const name = req.params['file'] as string;
    const asset = Object.hasOwn(ASSET_TYPES, name) ? assets.get(name) : undefined;
    if (asset === undefined) throw new NotFoundError(`The admin page has no file ${name}`, 'NotFound');
    res.set(PAGE_HEADERS).type(asset.type).send(asset.body);
  });
  router.use(errorHandler(rt, sendAdminAnswer));
  return router;
}
