/** Schemas of the OpenAPI document: the bodies of API.md, in XML and JSON. */
import { ATTRIBUTE_NAME_CHARS, ISO_TIME, ref, type Json } from './common';

// --- Schemas ---------------------------------------------------------------------------------

const XML_RESPONSE = { name: 'response' };
/** API.md 5: days a profile is kept after its last modification; null keeps it forever. */
const RETENTION_DAYS: Json = {
  oneOf: [{ type: 'integer', minimum: 1, maximum: 3650 }, { type: 'null' }],
  description:
    'Days a profile is kept after it was last modified; `null` keeps profiles forever (the default). Not in Adobe Target.',
};
export const BATCH_STATUS_URL = 'http://localhost:8080/m2/demo/v2/profile/batchStatus?batchId=demo-1732300000000-1';

export const schemas: Json = {
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
      appliedCount: {
        type: 'integer',
        minimum: 0,
        description:
          'A project extension, with `showDetails=true` only, while `status` is `incomplete`: rows of `batchSize` ' +
          'worked through so far (rows refused while parsing included). Reported only by the instance applying ' +
          'the batch; may start again from the parse failures when the store retries its transaction.',
      },
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
      marketingCloudVisitorId: { type: 'string', minLength: 1, maxLength: 256 },
      removeAttribute: {
        type: 'array',
        items: { type: 'string', pattern: `^(profile\\.)?${ATTRIBUTE_NAME_CHARS}$` },
        description: 'Attributes to remove, one `removeAttribute=NAME` pair each (API.md 5).',
      },
    },
    patternProperties: { [`^profile\\.${ATTRIBUTE_NAME_CHARS}$`]: { type: 'string', maxLength: 5000 } },
    description:
      'The same parameters as the query string: `mbox3rdPartyId`, `mboxPC` or `marketingCloudVisitorId`, `profile.NAME=VALUE` pairs and `removeAttribute=NAME` pairs.',
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
      marketingCloudVisitorId: {
        type: 'string',
        description: 'The Experience Cloud ID linked to the profile, only where it has one.',
      },
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
              propertyNames: { pattern: `^(profile\\.)?${ATTRIBUTE_NAME_CHARS}$` },
              additionalProperties: {
                type: ['string', 'null'],
                maxLength: 5000,
                description:
                  'null removes the attribute (API.md 5; an absent one is no error); an empty string leaves it as it is.',
              },
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
    required: ['requireAuthentication', 'profileRetentionDays', 'token'],
    properties: {
      requireAuthentication: { type: 'boolean' },
      profileRetentionDays: RETENTION_DAYS,
      token: { oneOf: [ref('schemas', 'TokenInfo'), { type: 'null' }], description: '`null` when there is no token.' },
    },
  },
  SettingsUpdate: {
    type: 'object',
    description: 'Either field or both; at least one.',
    minProperties: 1,
    additionalProperties: false,
    properties: { requireAuthentication: { type: 'boolean' }, profileRetentionDays: RETENTION_DAYS },
  },
  AuditEvent: {
    type: 'object',
    required: ['at', 'actor', 'action', 'details'],
    properties: {
      at: ISO_TIME,
      actor: { type: 'string' },
      action: {
        type: 'string',
        enum: [
          'token.generated',
          'token.revoked',
          'settings.changed',
          'auth.denied',
          'profile.deleted',
          'profiles.expired',
          'profiles.exported',
        ],
      },
      details: {
        type: 'object',
        description:
          'Never holds a token. `auth.denied` events count sampled denials. `profile.deleted` events hold `kid` and `ids`: an HMAC-SHA256 (base64url) of each id of the deleted profile, never the ids. `settings.changed` events hold `{"field": {"from": …, "to": …}}` for each field changed. `profiles.expired` events (actor `retention`) hold `count`, `profileRetentionDays` and `modifiedBefore` of one sweep of the client, never ids. `profiles.exported` events hold `format`, `key`, `count` (profiles sent) and `complete` (false when the client went away or the export failed).',
      },
    },
  },
  AuditLog: {
    type: 'object',
    required: ['events'],
    properties: { events: { type: 'array', items: ref('schemas', 'AuditEvent'), description: 'Newest first.' } },
  },
};
