/**
 * The OpenAPI 3.1 description of every route `profileApi()` mounts (API.md), served at
 * `/openapi.json`. Paths are relative to the mount point, hence `servers: [{ url: '/' }]`.
 *
 * Built by small helpers rather than written out as one literal: the profile routes share their
 * XML/JSON negotiation, their gate errors and their `WWW-Authenticate` header, and the admin
 * routes share one error body; writing those once keeps the document consistent.
 */

type Json = Record<string, unknown>;

const ref = (kind: 'schemas' | 'responses' | 'parameters' | 'headers', name: string): Json => ({
  $ref: `#/components/${kind}/${name}`,
});

const ISO_TIME: Json = { type: 'string', format: 'date-time' };

// --- Media helpers ---------------------------------------------------------------------------

/** Content of a negotiated profile response: XML by default, JSON when `Accept` prefers it. */
function xmlOrJson(schema: string, xmlExample?: string, jsonExample?: unknown): Json {
  const xml: Json = { schema: ref('schemas', schema) };
  const json: Json = { schema: ref('schemas', schema) };
  if (xmlExample !== undefined) xml.example = xmlExample;
  if (jsonExample !== undefined) json.example = jsonExample;
  return { 'application/xml': xml, 'application/json': json };
}

function jsonContent(schema: string, example?: unknown): Json {
  const media: Json = { schema: ref('schemas', schema) };
  if (example !== undefined) media.example = example;
  return { 'application/json': media };
}

// --- Parameters ------------------------------------------------------------------------------

const CLIENT_PATTERN = '^[a-z0-9][a-z0-9-]{0,63}$';

/** Query parameters of a single update: `profile.NAME=VALUE`, one per attribute. */
const profileAttributesSchema: Json = {
  type: 'object',
  propertyNames: { pattern: '^profile\\.[A-Za-z0-9_.-]{1,128}$' },
  additionalProperties: { type: 'string', maxLength: 5000 },
  description:
    'One `profile.NAME=VALUE` parameter per attribute. Names are 1 to 128 characters of `[A-Za-z0-9_.-]` ' +
    '(not `__proto__`, `constructor` or `prototype`); values at most 5,000 characters. An empty value ' +
    'leaves the attribute as it is.',
};

const parameters: Json = {
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
    description: 'Third-party id of the profile to update (this or `mboxPC` is required).',
    schema: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^+/]+$' },
  },
  mboxPC: {
    name: 'mboxPC',
    in: 'query',
    required: false,
    description: 'pcId of the profile to update (this or `mbox3rdPartyId` is required).',
    schema: { type: 'string', minLength: 1, maxLength: 256 },
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
    required: true,
    description: 'Must be `profile_api`; anything else is answered 400.',
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

// --- Schemas ---------------------------------------------------------------------------------

const XML_RESPONSE = { name: 'response' };
const BATCH_STATUS_URL = 'http://localhost:8080/m2/demo/v2/profile/batchStatus?batchId=demo-1732300000000-1';

const schemas: Json = {
  ProfileError: {
    type: 'object',
    xml: XML_RESPONSE,
    required: ['success', 'message'],
    properties: {
      success: { type: 'boolean', const: false },
      message: { type: 'string', description: 'What went wrong and what to fix.' },
    },
  },
  BatchSubmittedXml: {
    type: 'object',
    xml: XML_RESPONSE,
    required: ['success', 'batchStatus', 'message'],
    properties: {
      success: { type: 'boolean', const: true },
      batchStatus: { type: 'string', format: 'uri', description: 'Absolute URL of the batch status.' },
      message: { type: 'string', example: 'Batch submitted for processing' },
    },
  },
  BatchSubmitted: {
    type: 'object',
    required: ['success', 'batchId', 'batchStatus', 'message'],
    properties: {
      success: { type: 'boolean', const: true },
      batchId: { type: 'string', description: '`<client>-<epochMillis>-<n>`' },
      batchStatus: { type: 'string', format: 'uri', description: 'Absolute URL of the batch status.' },
      message: { type: 'string', example: 'Batch submitted for processing' },
    },
  },
  FailedRow: {
    type: 'object',
    xml: { name: 'profile' },
    required: ['id', 'status', 'message'],
    properties: {
      id: { type: 'string' },
      status: { type: 'string', const: 'failed' },
      message: { type: 'string' },
    },
  },
  BatchStatus: {
    type: 'object',
    xml: XML_RESPONSE,
    required: ['batchId', 'status', 'batchSize'],
    properties: {
      batchId: { type: 'string' },
      status: {
        type: 'string',
        enum: ['incomplete', 'complete', 'stuck'],
        description:
          '`incomplete`: still being applied; `complete`: finished, the counters say how each row went; ' +
          '`stuck`: could not be applied, nothing of it is stored.',
      },
      batchSize: { type: 'integer', minimum: 0 },
      message: { type: 'string', description: 'Only when `status` is `stuck`: why, and what to do.' },
      consumedCount: { type: 'integer', minimum: 0, description: 'With `showDetails=true` only.' },
      successfulUpdates: { type: 'integer', minimum: 0, description: 'With `showDetails=true` only.' },
      profilesNotFound: { type: 'integer', minimum: 0, description: 'With `showDetails=true` only.' },
      failedUpdates: { type: 'integer', minimum: 0, description: 'With `showDetails=true` only.' },
      profiles: {
        type: 'array',
        description:
          'With `showDetails=true` only: the failed rows (at most the first 1,000). In XML, one `<profile>` element each.',
        xml: { wrapped: false },
        items: ref('schemas', 'FailedRow'),
      },
    },
  },
  UpdateResult: {
    type: 'object',
    xml: XML_RESPONSE,
    required: ['success', 'pcId', 'message'],
    properties: {
      success: { type: 'boolean', const: true },
      pcId: { type: 'string' },
      message: { type: 'string', example: 'Request successfully submitted' },
    },
  },
  UpdateForm: {
    type: 'object',
    properties: {
      mbox3rdPartyId: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^+/]+$' },
      mboxPC: { type: 'string', minLength: 1, maxLength: 256 },
    },
    patternProperties: { '^profile\\.[A-Za-z0-9_.-]{1,128}$': { type: 'string', maxLength: 5000 } },
    description:
      'The same parameters as the query string: `mbox3rdPartyId` or `mboxPC`, and `profile.NAME=VALUE` pairs.',
  },
  ProfileAttribute: {
    type: 'object',
    required: ['value', 'modifiedAt'],
    properties: { value: { type: 'string' }, modifiedAt: ISO_TIME },
  },
  Profile: {
    type: 'object',
    required: ['client', 'visitorId', 'modifiedAt', 'profileAttributes'],
    properties: {
      client: { type: 'string' },
      visitorId: { type: 'string', description: "The profile's pcId." },
      thirdPartyId: { type: 'string', description: 'Only where the profile has one.' },
      modifiedAt: ISO_TIME,
      profileAttributes: { type: 'object', additionalProperties: ref('schemas', 'ProfileAttribute') },
    },
  },
  ProfileNotFound: {
    type: 'object',
    required: ['status', 'message'],
    properties: {
      status: { type: 'integer', const: 404 },
      message: { type: 'string', example: 'No profile found for client demo with third party id=u1' },
    },
  },
  BatchJson: {
    type: 'object',
    required: ['profiles'],
    properties: {
      profiles: {
        type: 'array',
        minItems: 1,
        maxItems: 500000,
        items: {
          type: 'object',
          required: ['attributes'],
          oneOf: [{ required: ['thirdPartyId'] }, { required: ['pcId'] }],
          properties: {
            thirdPartyId: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^+/]+$' },
            pcId: { type: 'string', minLength: 1, maxLength: 256 },
            attributes: {
              type: 'object',
              propertyNames: { pattern: '^(profile\\.)?[A-Za-z0-9_.-]{1,128}$' },
              additionalProperties: { type: 'string', maxLength: 5000 },
            },
          },
        },
      },
    },
  },
  BatchForm: {
    type: 'object',
    required: ['batch'],
    properties: {
      batch: {
        type: 'string',
        description:
          'CSV lines; each header and cell URL-encoded UTF-8 (`+` is a space). An unencoded `%` or `&` fails the batch with 400.',
      },
    },
  },
  BatchMultipart: {
    type: 'object',
    minProperties: 1,
    maxProperties: 1,
    description: 'One file part, named `batch` or `file`, holding the form (`batch=…`) or plain CSV text.',
    properties: {
      batch: { type: 'string', contentMediaType: 'text/csv' },
      file: { type: 'string', contentMediaType: 'text/csv' },
    },
  },
  AdminError: {
    type: 'object',
    required: ['httpStatus', 'requestId', 'requestTime', 'errors'],
    properties: {
      httpStatus: { type: 'integer' },
      requestId: { type: 'string' },
      requestTime: ISO_TIME,
      errors: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['errorCode', 'message'],
          properties: { errorCode: { type: 'string', example: 'Forbidden' }, message: { type: 'string' } },
        },
      },
    },
  },
  Token: {
    type: 'object',
    required: ['accessToken', 'tokenType', 'scope', 'expiresIn', 'expiresAt', 'createdAt', 'createdBy'],
    properties: {
      accessToken: {
        type: 'string',
        description: 'The JWT (HS256; iss `profilegate`, aud `profile_api`, sub the client code).',
      },
      tokenType: { type: 'string', const: 'bearer' },
      scope: { type: 'string', const: 'profile_api' },
      expiresIn: { type: 'integer', minimum: 0, description: 'Whole seconds left.' },
      expiresAt: ISO_TIME,
      createdAt: ISO_TIME,
      createdBy: { type: 'string' },
    },
  },
  TokenRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      expiresIn: {
        type: 'integer',
        minimum: 300,
        maximum: 31536000,
        default: 7776000,
        description: 'Lifetime in seconds.',
      },
      previousTokenGraceSeconds: {
        type: 'integer',
        minimum: 0,
        maximum: 86400,
        default: 0,
        description: 'How long the replaced token keeps working, for rollouts without downtime.',
      },
    },
  },
  TokenInfo: {
    type: 'object',
    required: ['createdAt', 'expiresAt', 'createdBy'],
    properties: { createdAt: ISO_TIME, expiresAt: ISO_TIME, createdBy: { type: 'string' } },
  },
  Settings: {
    type: 'object',
    required: ['requireAuthentication', 'token'],
    properties: {
      requireAuthentication: { type: 'boolean' },
      token: { oneOf: [ref('schemas', 'TokenInfo'), { type: 'null' }], description: '`null` when there is no token.' },
    },
  },
  SettingsUpdate: {
    type: 'object',
    required: ['requireAuthentication'],
    additionalProperties: false,
    properties: { requireAuthentication: { type: 'boolean' } },
  },
  AuditEvent: {
    type: 'object',
    required: ['at', 'actor', 'action', 'details'],
    properties: {
      at: ISO_TIME,
      actor: { type: 'string' },
      action: { type: 'string', enum: ['token.generated', 'token.revoked', 'settings.changed', 'auth.denied'] },
      details: { type: 'object', description: 'Never holds a token. `auth.denied` events count sampled denials.' },
    },
  },
  AuditLog: {
    type: 'object',
    required: ['events'],
    properties: { events: { type: 'array', items: ref('schemas', 'AuditEvent'), description: 'Newest first.' } },
  },
};

// --- Shared responses ------------------------------------------------------------------------

const headers: Json = {
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
  return { description, content: jsonContent('AdminError') };
}

const responses: Json = {
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
  AdminUnsupportedMediaType: adminError('A body was sent that is not `application/json`.'),
  AdminForbidden: adminError('The actor lacks the right (`errorCode: "Forbidden"`); the message names it.'),
  AdminNotFound: adminError('Unknown client code (or, for GET token, no current token).'),
};

// --- Operations ------------------------------------------------------------------------------

const PROFILE_SECURITY = [{ profileToken: [] }, {}];
const ADMIN_SECURITY = [{ adminKey: [] }];
const GATE_NOTE =
  " While the client's Require Authentication setting is on, needs `Authorization: Bearer <profile token>`; while it is off, the route is open.";

function profileOperation(op: Json, extra: Record<string, unknown> = {}): Json {
  return {
    tags: ['Profiles'],
    security: PROFILE_SECURITY,
    ...op,
    description: `${(op.description as string | undefined) ?? ''}${GATE_NOTE}`.trim(),
    responses: {
      ...(op.responses as Json),
      '400': ref('responses', 'ProfileBadRequest'),
      '401': ref('responses', 'ProfileUnauthorized'),
      '404': ref('responses', 'ProfileRouteNotFound'),
      ...extra,
    },
  };
}

function batchUpdate(version: 'v1' | 'v2'): Json {
  const xmlExample =
    '<response><success>true</success>' +
    `<batchStatus>${BATCH_STATUS_URL.replace('/v2/', version === 'v2' ? '/v2/' : '/')}</batchStatus>` +
    '<message>Batch submitted for processing</message></response>';
  return profileOperation(
    {
      operationId: version === 'v2' ? 'batchUpdate' : 'batchUpdateV1',
      summary: version === 'v2' ? 'Bulk update, creating missing profiles' : 'Bulk update of existing profiles (v1)',
      description:
        (version === 'v2'
          ? 'Applies a batch atomically; a row whose profile is not found creates it. '
          : 'Applies a batch atomically; a row whose profile does not exist counts in `profilesNotFound`. ') +
        'Body at most 50 MB and 500,000 data rows. A malformed header or encoding fails the whole batch (400 with the line number); a bad row fails only that row.',
      requestBody: {
        required: true,
        content: {
          'application/x-www-form-urlencoded': {
            schema: ref('schemas', 'BatchForm'),
            example: { batch: 'thirdPartyId,profile.tier\nu1,gold\nu2,silver' },
          },
          'text/csv': { schema: { type: 'string' }, example: 'thirdPartyId,tier\nu1,gold\nu2,"silver, plus"\n' },
          'multipart/form-data': {
            schema: ref('schemas', 'BatchMultipart'),
            encoding: { batch: { contentType: 'text/csv, application/x-www-form-urlencoded, text/plain' } },
          },
          'application/json': {
            schema: ref('schemas', 'BatchJson'),
            example: { profiles: [{ thirdPartyId: 'u1', attributes: { tier: 'gold' } }] },
          },
        },
      },
      responses: {
        '200': {
          description: 'Batch accepted; it is applied in the background.',
          content: {
            'application/xml': { schema: ref('schemas', 'BatchSubmittedXml'), example: xmlExample },
            'application/json': { schema: ref('schemas', 'BatchSubmitted') },
          },
        },
      },
    },
    {
      '413': ref('responses', 'PayloadTooLarge'),
      '415': ref('responses', 'UnsupportedMediaType'),
      '429': ref('responses', 'TooManyRequests'),
    },
  );
}

function batchStatus(version: 'v1' | 'v2'): Json {
  return profileOperation({
    operationId: version === 'v2' ? 'batchStatus' : 'batchStatusV1',
    summary: version === 'v2' ? 'Status of a batch' : 'Status of a batch (v1 path)',
    description: 'Each client keeps at least its last 100 batch statuses for at least 24 hours.',
    parameters: [ref('parameters', 'batchId'), ref('parameters', 'showDetails')],
    responses: {
      '200': {
        description: 'The batch status.',
        content: xmlOrJson(
          'BatchStatus',
          '<response><batchId>demo-1732300000000-1</batchId><status>complete</status><batchSize>4</batchSize></response>',
        ),
      },
    },
  });
}

function singleUpdate(method: 'get' | 'post'): Json {
  const op: Json = {
    operationId: method === 'get' ? 'updateProfile' : 'updateProfileForm',
    summary: 'Update one existing profile',
    description: `Never creates a profile (unknown profile: 404). Parameters at most ${method === 'get' ? '8 KB' : '60 KB'}.`,
    parameters: [
      ref('parameters', 'mbox3rdPartyId'),
      ref('parameters', 'mboxPC'),
      ref('parameters', 'profileAttributes'),
    ],
    responses: {
      '200': {
        description: 'The profile was updated.',
        content: xmlOrJson(
          'UpdateResult',
          '<response><success>true</success><pcId>1732300000000-123456.78_0</pcId><message>Request successfully submitted</message></response>',
        ),
      },
    },
  };
  if (method === 'post') {
    op.requestBody = {
      required: false,
      content: { 'application/x-www-form-urlencoded': { schema: ref('schemas', 'UpdateForm') } },
    };
  }
  return profileOperation(op, { '413': ref('responses', 'PayloadTooLarge') });
}

function fetchProfile(by: 'pcId' | 'thirdPartyId'): Json {
  return {
    tags: ['Profiles'],
    operationId: by === 'pcId' ? 'getProfile' : 'getProfileByThirdPartyId',
    summary: by === 'pcId' ? 'Fetch a profile by pcId' : 'Fetch a profile by third-party id',
    description: `Always answers JSON.${GATE_NOTE}`,
    security: PROFILE_SECURITY,
    parameters: [
      {
        name: by === 'pcId' ? 'pcId' : 'id',
        in: 'path',
        required: true,
        schema: { type: 'string', minLength: 1, maxLength: 256 },
      },
      ref('parameters', 'clientQuery'),
    ],
    responses: {
      '200': { description: 'The profile.', content: jsonContent('Profile') },
      '400': ref('responses', 'FetchBadRequest'),
      '401': ref('responses', 'FetchUnauthorized'),
      '404': ref('responses', 'FetchNotFound'),
    },
  };
}

function adminOperation(op: Json, extra: Json = {}): Json {
  return {
    tags: ['Admin'],
    security: ADMIN_SECURITY,
    ...op,
    responses: {
      ...(op.responses as Json),
      '400': ref('responses', 'AdminBadRequest'),
      '401': ref('responses', 'AdminUnauthorized'),
      '403': ref('responses', 'AdminForbidden'),
      '404': ref('responses', 'AdminNotFound'),
      ...extra,
    },
  };
}

const ADMIN_BODY_ERRORS: Json = {
  '413': ref('responses', 'AdminPayloadTooLarge'),
  '415': ref('responses', 'AdminUnsupportedMediaType'),
};
const TOKEN_RIGHTS = 'Needs role approver, publisher or admin; workspace admin; or sysadmin.';

const paths: Json = {
  '/m2/{client}/v2/profile/batchUpdate': { parameters: [ref('parameters', 'client')], post: batchUpdate('v2') },
  '/m2/{client}/profile/batchUpdate': { parameters: [ref('parameters', 'client')], post: batchUpdate('v1') },
  '/m2/{client}/v2/profile/batchStatus': { parameters: [ref('parameters', 'client')], get: batchStatus('v2') },
  '/m2/{client}/profile/batchStatus': { parameters: [ref('parameters', 'client')], get: batchStatus('v1') },
  '/m2/{client}/profile/update': {
    parameters: [ref('parameters', 'client')],
    get: singleUpdate('get'),
    post: singleUpdate('post'),
  },
  '/rest/v1/profiles/{pcId}': { get: fetchProfile('pcId') },
  '/rest/v1/profiles/thirdPartyId/{id}': { get: fetchProfile('thirdPartyId') },
  '/{client}/target/authentication/token': {
    parameters: [ref('parameters', 'client'), ref('parameters', 'authorizationScope')],
    get: adminOperation({
      operationId: 'getToken',
      summary: 'Show the current profile token',
      description: `404 when there is none. ${TOKEN_RIGHTS}`,
      responses: { '200': { description: 'The current token.', content: jsonContent('Token') } },
    }),
    post: adminOperation(
      {
        operationId: 'generateToken',
        summary: 'Generate a new profile token',
        description: `The previous token stops working at once, or after \`previousTokenGraceSeconds\`. ${TOKEN_RIGHTS}`,
        requestBody: {
          required: false,
          content: jsonContent('TokenRequest', { expiresIn: 7776000, previousTokenGraceSeconds: 0 }),
        },
        responses: { '201': { description: 'The new token.', content: jsonContent('Token') } },
      },
      ADMIN_BODY_ERRORS,
    ),
    delete: adminOperation({
      operationId: 'revokeToken',
      summary: 'Revoke the profile token',
      description: `No token works until a new one is generated. ${TOKEN_RIGHTS}`,
      responses: { '204': { description: 'Revoked.' } },
    }),
  },
  '/{client}/target/authentication/settings': {
    parameters: [ref('parameters', 'client')],
    get: adminOperation({
      operationId: 'getSettings',
      summary: 'Read the Require Authentication setting',
      description: 'Any authenticated actor. A new client starts with `requireAuthentication: true`.',
      responses: { '200': { description: 'The settings.', content: jsonContent('Settings') } },
    }),
    put: adminOperation(
      {
        operationId: 'putSettings',
        summary: 'Turn Require Authentication on or off',
        description:
          'Needs role admin, workspace admin or sysadmin. Any body other than `{"requireAuthentication": boolean}` is answered 400.',
        requestBody: { required: true, content: jsonContent('SettingsUpdate', { requireAuthentication: true }) },
        responses: { '200': { description: 'The settings after the change.', content: jsonContent('Settings') } },
      },
      ADMIN_BODY_ERRORS,
    ),
  },
  '/{client}/target/authentication/audit': {
    parameters: [ref('parameters', 'client')],
    get: adminOperation({
      operationId: 'getAudit',
      summary: 'Read the audit log',
      description: 'Any authenticated actor. Newest first; events never hold a token.',
      parameters: [ref('parameters', 'auditLimit')],
      responses: { '200': { description: 'Audit events.', content: jsonContent('AuditLog') } },
    }),
  },
  '/{client}/target/admin': {
    parameters: [ref('parameters', 'client')],
    get: {
      tags: ['Admin'],
      operationId: 'adminPage',
      summary: 'Admin page (HTML)',
      description:
        'Served only when the router was created with `adminPage: true`: the Profile API settings screen (Require ' +
        'Authentication, generating the token, its expiry countdown, recent audit events). Self-contained (its script ' +
        'and style are served under `/{client}/target/admin/`) with a strict Content-Security-Policy. It signs in with an ' +
        "admin key (kept in the tab's sessionStorage) or the host app's own session, and calls only the admin routes.",
      security: [],
      responses: {
        '200': { description: 'The admin page.', content: { 'text/html': { schema: { type: 'string' } } } },
        '404': { description: 'Unknown client code, or the admin page is not enabled.' },
      },
    },
  },
  '/openapi.json': {
    get: {
      tags: ['Meta'],
      operationId: 'openApiDocument',
      summary: 'This OpenAPI document',
      security: [],
      responses: {
        '200': {
          description: 'OpenAPI 3.1 document.',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
      },
    },
  },
};

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
