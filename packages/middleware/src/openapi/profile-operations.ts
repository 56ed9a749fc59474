/** The operations of the profile routes (API.md 2): bearer-gated, XML or JSON, in Adobe's shapes. */
import { jsonContent, ref, xmlOrJson, type Json } from './common';
import { BATCH_STATUS_URL } from './schemas';

const PROFILE_SECURITY = [{ profileToken: [] }, {}];
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

export function batchUpdate(version: 'v1' | 'v2'): Json {
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
        'In a JSON body, an attribute given `null` is removed (API.md 5); no other body type can remove one. ' +
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
            example: { profiles: [{ thirdPartyId: 'u1', attributes: { tier: 'gold', coupon: null } }] },
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

export function batchStatus(version: 'v1' | 'v2'): Json {
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

export function singleUpdate(method: 'get' | 'post'): Json {
  const op: Json = {
    operationId: method === 'get' ? 'updateProfile' : 'updateProfileForm',
    summary: 'Update one existing profile',
    description: `Never creates a profile (unknown profile: 404). Parameters at most ${method === 'get' ? '8 KB' : '60 KB'}.`,
    parameters: [
      ref('parameters', 'mbox3rdPartyId'),
      ref('parameters', 'mboxPC'),
      ref('parameters', 'marketingCloudVisitorId'),
      ref('parameters', 'profileAttributes'),
      ref('parameters', 'removeAttribute'),
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

export function fetchProfile(by: keyof typeof FETCH_BY): Json {
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

const DELETE_BY = {
  pcId: { param: 'pcId', operationId: 'deleteProfile', summary: 'Delete a profile by pcId' },
  thirdPartyId: {
    param: 'id',
    operationId: 'deleteProfileByThirdPartyId',
    summary: 'Delete a profile by third-party id',
  },
  marketingCloudVisitorId: {
    param: 'ecid',
    operationId: 'deleteProfileByMarketingCloudVisitorId',
    summary: 'Delete a profile by Experience Cloud ID',
  },
} as const;

/** The delete routes of API.md 5: the fetch routes' paths, gate and 404, answering 204. */
export function deleteProfile(by: keyof typeof DELETE_BY): Json {
  const { param, operationId, summary } = DELETE_BY[by];
  return {
    tags: ['Profiles'],
    operationId,
    summary,
    description:
      'Not in Adobe Target. Deletes the profile, its attributes and its id links (thirdPartyId, Experience Cloud ID) at once; a later fetch answers 404, and a later v2 batch row with its thirdPartyId creates a new profile with a new pcId. Audited as `profile.deleted`, with keyed hashes of the ids, never the ids.' +
      GATE_NOTE,
    security: PROFILE_SECURITY,
    parameters: [
      { name: param, in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 256 } },
      ref('parameters', 'clientQuery'),
    ],
    responses: {
      '204': { description: 'Deleted.' },
      '400': ref('responses', 'FetchBadRequest'),
      '401': ref('responses', 'FetchUnauthorized'),
      '404': ref('responses', 'FetchNotFound'),
    },
  };
}
