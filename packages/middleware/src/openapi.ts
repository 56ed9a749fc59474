/**
 * The OpenAPI 3.1 description of every route `profileApi()` mounts (API.md), served at
 * `/openapi.json`. Paths are relative to the mount point, hence `servers: [{ url: '/' }]`.
 *
 * Built by small helpers rather than written out as one literal: the profile routes share their
 * XML/JSON negotiation, their gate errors and their `WWW-Authenticate` header, and the admin
 * routes share one error body; writing those once keeps the document consistent.
 */

import { headers, parameters, responses } from './openapi/components';
import { paths } from './openapi/paths';
import { schemas } from './openapi/schemas';

/** The OpenAPI 3.1 document of every route `profileApi()` mounts; a fresh object on each call. */
export function openApiDocument(): object {
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'Profilegate Profile API',
      version: '0.1.0',
      summary: 'Adobe Target-compatible Profile API with a Require Authentication toggle and a rotating profile token.',
      description:
        "Profile routes (`/m2/…`, `/rest/v1/profiles/…`) answer XML in Adobe's shapes by default and JSON when `Accept` " +
        'prefers `application/json`; the fetch routes always answer JSON. Admin routes answer JSON and are authenticated ' +
        'by the host app (`adminKey` describes the ready API-key authenticator).',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'Profiles', description: 'The bearer-gated profile routes (API.md section 2).' },
      { name: 'Admin', description: 'Token, settings and audit (API.md section 3).' },
      { name: 'Meta', description: 'This document.' },
    ],
    paths,
    components: {
      securitySchemes: {
        profileToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: "The client's profile token; required only while Require Authentication is on.",
        },
        adminKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An admin API key, as checked by `adminKeyAuthenticator`; hosts may authenticate admins otherwise.',
        },
      },
      parameters,
      schemas,
      responses,
      headers,
    },
  };
  // A deep copy so a caller (or a test) that edits the result cannot change the next answer.
  return structuredClone(document);
}
