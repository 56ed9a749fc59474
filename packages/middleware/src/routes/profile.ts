import {
  NotFoundError,
  PayloadTooLargeError,
  ProfilegateError,
  ValidationError,
  type BatchStatusRecord,
  type ProfileKey,
} from '@profilegate/core';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { asyncRouter } from '../async-handler';
import { accessGate } from '../gate';
import { readBatchBody } from '../batch-body';
import { withBodyIdleTimeout } from '../body-idle';
import { bodyOfType } from '../body-type';
import { declaredLengthAtMost } from '../declared-length';
import { paramsAndList, queryParam, rawQuery } from '../query';
import { requestOrigin } from '../request-origin';
import { negotiate, sendProfileAnswer, sendProfileBody } from '../respond';
import type { Runtime } from '../runtime';
import { FixedWindowLimiter } from '../rate-limit';
import { errorHandler } from '../error-handler';

/** The batch, batch status and single update routes of API.md section 2 (the fetch routes are in fetch.ts). */
export function profileRoutes(rt: Runtime): Router {
  const router = asyncRouter();
  const limiter = rt.bulkRateLimit ? new FixedWindowLimiter(rt.bulkRateLimit, rt.clock) : null;

  const knownClient = (req: Request, _res: Response, next: NextFunction) => {
    const client = req.params['client'] as string;
    if (!rt.clients.has(client)) throw new NotFoundError(`Unknown client ${client}`, 'ClientNotFound');
    next();
  };
  const gate = accessGate(rt.access, (req) => req.params['client'] as string);
  const rateLimit = (req: Request, res: Response, next: NextFunction) => {
    if (limiter) {
      const retryAfter = limiter.take(req.params['client'] as string);
      if (retryAfter > 0) {
        res.set('Retry-After', String(retryAfter));
        throw new ProfilegateError(429, 'TooManyRequests', `Too many batches; try again in ${retryAfter} seconds`);
      }
    }
    next();
  };

  for (const version of ['v2', 'v1'] as const) {
    const base = version === 'v2' ? '/m2/:client/v2/profile' : '/m2/:client/profile';
    const batchUpdate = async (req: Request, res: Response) => {
      const client = req.params['client'] as string;
      const body = await readBatchBody(req, rt.limits.maxBytes);
      const { batch } = await rt.profiles.submitBatch(client, version, body.source, body.format, {
        beforeAccept: async () => {
          await rt.access.recheck(client, req.headers.authorization);
        },
      });
      const batchStatus = `${requestOrigin(req)}${req.baseUrl}${base.replace(':client', client)}/batchStatus?batchId=${encodeURIComponent(batch.batchId)}`;
      const message = 'Batch submitted for processing';
      sendProfileBody(
        res,
        negotiate(req),
        200,
        { success: true, batchStatus, message },
        {
          success: true,
          batchId: batch.batchId,
          batchStatus,
          message,
        },
      );
    };
    router.post(
      `${base}/batchUpdate`,
      knownClient,
      gate,
      rateLimit,
      withBodyIdleTimeout(rt.bodyIdleTimeoutMs, batchUpdate),
    );
    router.get(`${base}/batchStatus`, knownClient, gate, async (req, res) => {
      const batchId = queryParam(req, 'batchId');
      if (!batchId) throw new ValidationError('Give the batch id: batchStatus?batchId=ID');
      const batch = await rt.profiles.getBatch(req.params['client'] as string, batchId);
      const details = queryParam(req, 'showDetails') === 'true';
      const format = negotiate(req);
      sendProfileBody(res, format, 200, batchStatusXml(batch, details), batchStatusJson(batch, details));
    });
  }

  const update = async (req: Request, res: Response) => {
    const client = req.params['client'] as string;
    const query = rawQuery(req);
    if (Buffer.byteLength(query) > rt.limits.maxUpdateQueryBytes) {
      throw new PayloadTooLargeError(`The query string is over ${rt.limits.maxUpdateQueryBytes} bytes; use POST`);
    }
    const form = req.method === 'POST' ? formText(req) : '';
    // removeAttribute=NAME (API.md 5) may repeat; every other parameter is given once.
    const { params, list: remove } = paramsAndList(REMOVE_ATTRIBUTE, [query, form]);
    refuseRemovalLookalikes(params.keys());
    const key = profileKeyFrom(params);
    const attributes: Record<string, string> = Object.create(null);
    for (const [name, value] of params) if (name.startsWith('profile.')) attributes[name] = value;
    // No profile.* parameter changes nothing (Segment's destination sends `…?mbox3rdPartyId=ID&`
    // when every trait is null); the profile must still exist, as its pcId is the answer.
    const profile = await rt.profiles.updateProfile(client, key, attributes, { remove });
    sendProfileBody(res, negotiate(req), 200, {
      success: true,
      pcId: profile.pcId,
      message: 'Request successfully submitted',
    });
  };
  // No second token check after this body: it is at most 60 KB, which arrives with the headers
  // (the gate's check is as recent as for a GET update), and a body that stalls gets 408.
  const updateBody = withBodyIdleTimeout(
    rt.bodyIdleTimeoutMs,
    express.text({ type: 'application/x-www-form-urlencoded', limit: rt.limits.maxUpdateBodyBytes }),
  );
  const updateLength = declaredLengthAtMost(rt.limits.maxUpdateBodyBytes, 'The form body');
  // A body the form parser would skip (text/plain from fetch, multipart from curl -F) is refused,
  // never ignored while the answer says "Request successfully submitted".
  const formOnly = bodyOfType(
    ['application/x-www-form-urlencoded'],
    'Send the parameters in the query string, or as an application/x-www-form-urlencoded body',
  );
  // Express serves HEAD with the GET route; an update must not happen on HEAD (it answers the 404
  // of any other method).
  const notOnHead = (req: Request, _res: Response, next: NextFunction) =>
    next(req.method === 'HEAD' ? 'route' : undefined);
  router.get('/m2/:client/profile/update', notOnHead, knownClient, gate, update);
  router.post('/m2/:client/profile/update', knownClient, gate, formOnly, updateLength, updateBody, update);

  router.use(errorHandler(rt, sendProfileAnswer));
  return router;
}

/**
 * The POST form body of an update as text: read by the route's own parser, or already parsed
 * into an object by a host's express.urlencoded() mounted before the router.
 */
function formText(req: Request): string {
  const body: unknown = req.body;
  if (typeof body === 'string') return body;
  if (typeof body !== 'object' || body === null || !req.is('application/x-www-form-urlencoded')) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    if (name === REMOVE_ATTRIBUTE && Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      for (const v of value) params.append(name, v);
      continue;
    }
    if (Array.isArray(value)) throw new ValidationError(`Parameter "${name}" is given more than once`);
    if (typeof value !== 'string') throw new ValidationError(`Parameter "${name}" must be NAME=VALUE (no brackets)`);
    params.append(name, value);
  }
  return params.toString();
}

/** The single update's parameter naming an attribute to remove (API.md 5); it may repeat. */
const REMOVE_ATTRIBUTE = 'removeAttribute';

/** `removeAttribute[]` (axios, qs, PHP), `removeAttribute[0]`, another case, a plural. */
const REMOVE_ATTRIBUTE_LOOKALIKE = /^removeattributes?(\[[^\]]*\])?$/i;

/**
 * Refuses a parameter that means removeAttribute but is not spelt so: as an unknown parameter it
 * would be ignored, and the answer 200 would say the attribute is gone while it stays.
 */
function refuseRemovalLookalikes(names: Iterable<string>): void {
  for (const name of names) {
    if (name !== REMOVE_ATTRIBUTE && REMOVE_ATTRIBUTE_LOOKALIKE.test(name)) {
      throw new ValidationError(
        `Parameter "${name.slice(0, 40)}" is not known; to remove attributes give removeAttribute=NAME, repeated for each name (no brackets)`,
      );
    }
  }
}

/** The parameters that name the profile of a single update (API.md 2.3), and the key each gives. */
const UPDATE_KEYS = [
  ['mbox3rdPartyId', 'thirdPartyId'],
  ['mboxPC', 'pcId'],
  ['marketingCloudVisitorId', 'marketingCloudVisitorId'],
] as const;

/** The profile key of a single update: exactly one of the UPDATE_KEYS parameters. */
function profileKeyFrom(params: Map<string, string>): ProfileKey {
  const given = UPDATE_KEYS.filter(([param]) => params.has(param));
  if (given.length === 0) {
    throw new ValidationError('Name the profile: mbox3rdPartyId=ID or mboxPC=ID (or marketingCloudVisitorId=ECID)');
  }
  if (given.length === 2) throw new ValidationError(`Give either ${given[0]![0]} or ${given[1]![0]}, not both`);
  if (given.length > 2) {
    throw new ValidationError('Give only one of mbox3rdPartyId, mboxPC and marketingCloudVisitorId');
  }
  const [param, kind] = given[0]!;
  return { kind, id: params.get(param)! };
}

function batchStatusXml(batch: BatchStatusRecord, details: boolean) {
  const body: Record<string, string | number | Array<Record<string, string>>> = {
    batchId: batch.batchId,
    status: batch.status,
    batchSize: batch.batchSize,
  };
  if (batch.status === 'stuck' && batch.message) body['message'] = batch.message;
  if (!details) return body;
  return {
    ...body,
    consumedCount: batch.consumedCount,
    successfulUpdates: batch.successfulUpdates,
    profilesNotFound: batch.profilesNotFound,
    failedUpdates: batch.failedUpdates,
    // A project extension (API.md 2.2): how far an incomplete batch has got, on the instance applying it.
    ...(batch.appliedCount !== undefined ? { appliedCount: batch.appliedCount } : {}),
    ...(batch.failures.length > 0
      ? { profile: batch.failures.map((f) => ({ id: f.id, status: 'failed', message: f.message })) }
      : {}),
  };
}

function batchStatusJson(batch: BatchStatusRecord, details: boolean): object {
  const { profile, ...rest } = batchStatusXml(batch, details) as Record<string, unknown>;
  return details ? { ...rest, profiles: profile ?? [] } : rest;
}
