/**
 * The paths of the OpenAPI document, one per route `profileApi()` mounts: the profile routes'
 * operations (profile-operations.ts) and the admin routes', written here.
 */
import { jsonContent, jsonRequestContent, ref, type Json } from './common';
import { batchStatus, batchUpdate, deleteProfile, fetchProfile, singleUpdate } from './profile-operations';

const ADMIN_SECURITY = [{ adminKey: [] }];

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
  '/rest/v1/profiles/{pcId}': { get: fetchProfile('pcId'), delete: deleteProfile('pcId') },
  '/rest/v1/profiles/thirdPartyId/{id}': { get: fetchProfile('thirdPartyId'), delete: deleteProfile('thirdPartyId') },
  '/rest/v1/profiles/marketingCloudVisitorId/{ecid}': {
    get: fetchProfile('marketingCloudVisitorId'),
    delete: deleteProfile('marketingCloudVisitorId'),
  },
  '/{client}/target/authentication/token': {
    parameters: [ref('parameters', 'client'), ref('parameters', 'authorizationScope'), ref('parameters', 'scope')],
    get: adminOperation({
      operationId: 'getToken',
      summary: 'Show the current profile token',
      description: `404 when there is none. ${TOKEN_RIGHTS}`,
      responses: { '200': { description: 'The current token.', content: jsonRequestContent('Token') } },
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
        responses: { '201': { description: 'The new token.', content: jsonRequestContent('Token') } },
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
      summary: 'Read the settings: Require Authentication and profile retention',
      description:
        'Any authenticated actor. A new client starts with `requireAuthentication: true` and `profileRetentionDays: null` (profiles kept forever).',
      responses: { '200': { description: 'The settings.', content: jsonRequestContent('Settings') } },
    }),
    put: adminOperation(
      {
        operationId: 'putSettings',
        summary: 'Turn Require Authentication on or off, or set the profile retention',
        description:
          'Needs role admin, workspace admin or sysadmin. The body carries `requireAuthentication` (boolean), `profileRetentionDays` (`null` or 1 to 3650), or both; any other field or value is answered 400. Not in Adobe Target: with a retention, a profile not modified for that many days is deleted by the server within an hour after it expires (audited as `profiles.expired`).',
        requestBody: { required: true, content: jsonRequestContent('SettingsUpdate', { requireAuthentication: true }) },
        responses: {
          '200': { description: 'The settings after the change.', content: jsonRequestContent('Settings') },
        },
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
      responses: { '200': { description: 'Audit events.', content: jsonRequestContent('AuditLog') } },
    }),
  },
  '/{client}/target/profiles/export': {
    parameters: [ref('parameters', 'client')],
    get: adminOperation(
      {
        operationId: 'exportProfiles',
        summary: 'Export every profile of the client (CSV or NDJSON), streamed',
        description:
          'Needs role admin, workspace admin or sysadmin. `ndjson`: one profile per line, each as the fetch routes ' +
          'answer it. `csv` (RFC 4180, cells not URL-encoded): a header of the key column then every attribute name of ' +
          'the client, one row per profile, empty cells where a profile lacks an attribute; posted back as a `text/csv` ' +
          'v2 batch it reproduces the attributes (a name starting with `profile.` or a space is written with a ' +
          '`profile.` prefix, which the batch strips). Not a snapshot: profiles written during the export may appear in ' +
          'either state. Audited as `profiles.exported`.',
        parameters: [
          {
            name: 'format',
            in: 'query',
            required: true,
            description:
              'Missing, given twice or any other value: 400. A lookalike (`format[]`, `format[0]`, another case, a ' +
              'plural; the same of `key`) is 400, never ignored.',
            schema: { type: 'string', enum: ['ndjson', 'csv'] },
          },
          {
            name: 'key',
            in: 'query',
            required: false,
            description: 'The CSV key column; with `thirdPartyId` only profiles that have one are exported.',
            schema: { type: 'string', enum: ['pcId', 'thirdPartyId'], default: 'pcId' },
          },
        ],
        responses: {
          '200': {
            description:
              'Every profile, streamed (`Content-Disposition: attachment; filename="CLIENT-profiles.FORMAT"`). An ' +
              'export cut short by a server failure ends with the connection closed, not with a complete body.',
            content: {
              'application/x-ndjson': { schema: { type: 'string' }, example: '{"client":"acme","visitorId":"…"}\n' },
              'text/csv': { schema: { type: 'string' }, example: 'pcId,email,tier\r\n12345_0,a@example.com,gold\r\n' },
            },
          },
        },
      },
      {
        '409': {
          description:
            'CSV only: the client has an attribute name ending with a space, or more than 1,023 attribute names, which ' +
            'a CSV batch header cannot carry (`errorCode: "ExportNotPossible"`); export as NDJSON.',
          content: jsonContent('AdminError'),
        },
      },
    ),
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
