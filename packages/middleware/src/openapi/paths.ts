/** The operations of the OpenAPI document, one per route `profileApi()` mounts. */
import { jsonContent, jsonRequestContent, ref, xmlOrJson, type Json } from './common';
import { BATCH_STATUS_URL } from './schemas';

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
  const batchStatus = BATCH_STATUS_URL.replace('/v2/', version === 'v2' ? '/v2/' : '/');
  const message = 'Batch submitted for processing';
  return profileOperation(
    {
      operationId: version === 'v2' ? 'batchUpdate' : 'batchUpdateV1',
      summary: version === 'v2' ? 'Bulk update, creating missing profiles' : 'Bulk update of existing profiles (v1)',
      description:
        (version === 'v2'
          ? 'Applies a batch atomically; a row whose profile is not found creates it. '
          : 'Applies a batch atomically; a row whose profile does not exist counts in `profilesNotFound`. ') +
        'Body at most 50 MB and 500,000 data rows. A malformed header or encoding fails the whole batch (400 with the line number); a bad row fails only that row. ' +
        'The token (and the Require Authentication setting) is checked again once the body has been received: a token revoked or replaced meanwhile gets 401 and nothing of the batch is stored.',
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
            'application/xml': {
              schema: ref('schemas', 'BatchSubmittedXml'),
              example: { success: true, batchStatus, message },
            },
            'application/json': {
              schema: ref('schemas', 'BatchSubmitted'),
              example: { success: true, batchId: 'demo-1732300000000-1', batchStatus, message },
            },
          },
        },
      },
    },
    {
      '408': ref('responses', 'RequestTimeout'),
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
        content: xmlOrJson('BatchStatus', { batchId: 'demo-1732300000000-1', status: 'complete', batchSize: 4 }),
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
      ref('parameters', 'marketingCloudVisitorId'),
      ref('parameters', 'profileAttributes'),
    ],
    responses: {
      '200': {
        description: 'The profile was updated.',
        content: xmlOrJson('UpdateResult', {
          success: true,
          pcId: '1732300000000-123456.78_0',
          message: 'Request successfully submitted',
        }),
      },
    },
  };
  if (method === 'post') {
    op.requestBody = {
      required: false,
      content: { 'application/x-www-form-urlencoded': { schema: ref('schemas', 'UpdateForm') } },
    };
  }
  return profileOperation(op, {
    ...(method === 'post' ? { '408': ref('responses', 'RequestTimeout') } : {}),
    '413': ref('responses', 'PayloadTooLarge'),
  });
}

const FETCH_BY = {
  pcId: { param: 'pcId', operationId: 'getProfile', summary: 'Fetch a profile by pcId', note: '' },
  thirdPartyId: {
    param: 'id',
    operationId: 'getProfileByThirdPartyId',
    summary: 'Fetch a profile by third-party id',
    note: '',
  },
  marketingCloudVisitorId: {
    param: 'ecid',
    operationId: 'getProfileByMarketingCloudVisitorId',
    summary: 'Fetch a profile by Experience Cloud ID',
    note: ' The ID is linked to a profile by `profileTracker` (query parameter or cookie `mboxMCGVID` by default).',
  },
} as const;

function fetchProfile(by: keyof typeof FETCH_BY): Json {
  const { param, operationId, summary, note } = FETCH_BY[by];
  return {
    tags: ['Profiles'],
    operationId,
    summary,
    description: `Always answers JSON.${note}${GATE_NOTE}`,
    security: PROFILE_SECURITY,
    parameters: [
      {
        name: param,
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
  '408': ref('responses', 'AdminRequestTimeout'),
  '413': ref('responses', 'AdminPayloadTooLarge'),
  '415': ref('responses', 'AdminUnsupportedMediaType'),
};
const TOKEN_RIGHTS = 'Needs role approver, publisher or admin; workspace admin; or sysadmin.';

export const paths: Json = {
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
  '/rest/v1/profiles/marketingCloudVisitorId/{ecid}': { get: fetchProfile('marketingCloudVisitorId') },
  '/{client}/target/authentication/token': {
    parameters: [ref('parameters', 'client'), ref('parameters', 'authorizationScope'), ref('parameters', 'scope')],
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
          content: jsonRequestContent('TokenRequest', { expiresIn: 7776000, previousTokenGraceSeconds: 0 }),
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
        requestBody: { required: true, content: jsonRequestContent('SettingsUpdate', { requireAuthentication: true }) },
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
        '404': {
          description:
            'Unknown client code, with the admin error body. (When the admin page is not enabled its path is not ' +
            "mounted, and the host app's own 404 answers.)",
          content: jsonContent('AdminError'),
        },
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
