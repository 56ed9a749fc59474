/** Parameters, headers and shared responses of the OpenAPI document. */
import { ATTRIBUTE_NAME_CHARS, jsonContent, jsonRequestContent, ref, xmlOrJson, type Json } from './common';

// --- Parameters ------------------------------------------------------------------------------

const CLIENT_PATTERN = '^[a-z0-9][a-z0-9-]{0,63}$';

/** Query parameters of a single update: `profile.NAME=VALUE`, one per attribute. */
const profileAttributesSchema: Json = {
  type: 'object',
  propertyNames: { pattern: `^profile\\.${ATTRIBUTE_NAME_CHARS}$` },
  additionalProperties: { type: 'string', maxLength: 5000 },
  description:
    'One `profile.NAME=VALUE` parameter per attribute. Names are 1 to 128 characters, any but control ' +
    'characters (`profile.first%20name=Ada`; not `__proto__`, `constructor` or `prototype`); values at most ' +
    '5,000 characters. An empty value leaves the attribute as it is (to remove one, use `removeAttribute`); ' +
    'a call without any `profile.*` or `removeAttribute` parameter changes nothing and answers 200.',
};

export const parameters: Json = {
  client: {
    name: 'client',
    in: 'path',
    required: true,
    description: 'A client code the router was configured with; any other code gets 404.',
    schema: { type: 'string', pattern: CLIENT_PATTERN },
  },
  clientQuery: {
    name: 'client',
    in: 'query',
    required: true,
    description: 'The client code. Missing or unknown: 404.',
    schema: { type: 'string', pattern: CLIENT_PATTERN },
  },
  batchId: {
    name: 'batchId',
    in: 'query',
    required: true,
    description: 'The `batchId` a batchUpdate answered (`<client>-<epochMillis>-<n>`).',
    schema: { type: 'string' },
  },
  showDetails: {
    name: 'showDetails',
    in: 'query',
    required: false,
    description: 'Add the counters and the failed rows (at most the first 1,000).',
    schema: { type: 'boolean', default: false },
  },
  mbox3rdPartyId: {
    name: 'mbox3rdPartyId',
    in: 'query',
    required: false,
    description: 'Third-party id of the profile to update (exactly one of the three keys is required).',
    schema: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^+/]+$' },
  },
  mboxPC: {
    name: 'mboxPC',
    in: 'query',
    required: false,
    description: 'pcId of the profile to update (exactly one of the three keys is required).',
    schema: { type: 'string', minLength: 1, maxLength: 256 },
  },
  marketingCloudVisitorId: {
    name: 'marketingCloudVisitorId',
    in: 'query',
    required: false,
    description:
      'Experience Cloud ID linked to the profile to update (exactly one of the three keys is required); ' +
      'an ID linked to no profile: 404.',
    schema: { type: 'string', minLength: 1, maxLength: 256 },
  },
  removeAttribute: {
    name: 'removeAttribute',
    in: 'query',
    required: false,
    style: 'form',
    explode: true,
    description:
      'Removes the attribute NAME from the profile (API.md 5); repeat it for several (`removeAttribute=a&removeAttribute=b`). ' +
      'The same name rules as `profile.NAME` (the `profile.` prefix is optional): a bad name is 400. Removing an ' +
      'attribute the profile lacks is no error and no change. A name also given a non-empty `profile.NAME` value is 400. ' +
      'A lookalike (`removeAttribute[]=NAME` as axios or qs send a list, another case, a plural) is 400, never ignored.',
    schema: {
      type: 'array',
      items: { type: 'string', pattern: `^(profile\\.)?${ATTRIBUTE_NAME_CHARS}$` },
    },
  },
  profileAttributes: {
    name: 'profileAttributes',
    in: 'query',
    required: false,
    style: 'form',
    explode: true,
    description: 'Serialized as separate `profile.NAME=VALUE` query parameters.',
    schema: profileAttributesSchema,
  },
  authorizationScope: {
    name: 'authorizationScope',
    in: 'query',
    required: false,
    description: 'Must be `profile_api` (or give `scope=profile_api`); anything else, or neither, is answered 400.',
    schema: { type: 'string', enum: ['profile_api'] },
  },
  scope: {
    name: 'scope',
    in: 'query',
    required: false,
    deprecated: true,
    description: "The older spelling of `authorizationScope` in Adobe's Admin API; given both, they must agree.",
    schema: { type: 'string', enum: ['profile_api'] },
  },
  auditLimit: {
    name: 'limit',
    in: 'query',
    required: false,
    description: 'How many events to return, newest first.',
    schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
  },
};

// --- Shared responses ------------------------------------------------------------------------

export const headers: Json = {
  'WWW-Authenticate': {
    description:
      'RFC 6750 challenge, e.g. `Bearer realm="profile-api", error="invalid_token", error_description="The token has expired"`.',
    schema: { type: 'string' },
  },
  'Retry-After': { description: 'Seconds until the next batch is accepted.', schema: { type: 'integer', minimum: 0 } },
};

const WWW_AUTHENTICATE: Json = { 'WWW-Authenticate': ref('headers', 'WWW-Authenticate') };

function profileError(description: string, json = false): Json {
  return { description, content: json ? jsonContent('ProfileError') : xmlOrJson('ProfileError') };
}

function adminError(description: string): Json {
  return { description, content: jsonRequestContent('AdminError') };
}

export const responses: Json = {
  ProfileBadRequest: {
    ...profileError(
      'Bad input, or (with `WWW-Authenticate`, `error="invalid_request"`) an `Authorization` header that is not `Bearer <token>`.',
    ),
    headers: WWW_AUTHENTICATE,
  },
  ProfileUnauthorized: {
    ...profileError('Require Authentication is on and the bearer token is missing, invalid, expired or revoked.'),
    headers: WWW_AUTHENTICATE,
  },
  ProfileRouteNotFound: profileError('Unknown client code, batch or profile.'),
  PayloadTooLarge: profileError('The body (or query string) is over its limit.'),
  UnsupportedMediaType: profileError('The Content-Type is not one of the four batch body types.'),
  RequestTimeout: profileError(
    "The body stopped arriving: nothing of it came for the router's `bodyIdleTimeoutMs` (default 30 s). Nothing " +
      'of the request was applied; the connection is closed after this answer.',
  ),
  TooManyRequests: {
    ...profileError('The per-client batch rate limit was reached.'),
    headers: { 'Retry-After': ref('headers', 'Retry-After') },
  },
  FetchBadRequest: {
    ...profileError('An `Authorization` header that is not `Bearer <token>` (`error="invalid_request"`).', true),
    headers: WWW_AUTHENTICATE,
  },
  FetchUnauthorized: {
    ...profileError('Require Authentication is on and the bearer token is missing, invalid, expired or revoked.', true),
    headers: WWW_AUTHENTICATE,
  },
  FetchNotFound: {
    description: 'No such profile, or a missing or unknown `client` parameter.',
    content: jsonContent('ProfileNotFound'),
  },
  AdminBadRequest: adminError('The request is not valid; the message says what to fix.'),
  AdminUnauthorized: {
    ...adminError('The host app did not authenticate the caller.'),
    headers: { 'WWW-Authenticate': { description: '`Bearer realm="profilegate-admin"`', schema: { type: 'string' } } },
  },
  AdminPayloadTooLarge: adminError('The JSON body is over 16 KB.'),
  AdminUnsupportedMediaType: adminError(
    'A body was sent that is not JSON (`application/json` or any `application/*+json`).',
  ),
  AdminRequestTimeout: adminError(
    "The JSON body stopped arriving: nothing of it came for the router's `bodyIdleTimeoutMs` (default 30 s). " +
      'Nothing changed; the connection is closed after this answer.',
  ),
  AdminForbidden: adminError('The actor lacks the right (`errorCode: "Forbidden"`); the message names it.'),
  AdminNotFound: adminError('Unknown client code (or, for GET token, no current token).'),
};
