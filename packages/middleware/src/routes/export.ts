import { once } from 'node:events';
import {
  ExportNotPossibleError,
  ValidationError,
  csvExportProblem,
  csvHeader,
  csvRow,
  parseExportRequest,
  type Actor,
  type ExportFormat,
  type ExportRequest,
} from '@profilegate/core';
import type { Request, Response } from 'express';
import { formPairs, queryParams, rawQuery } from '../query';
import type { Runtime } from '../runtime';
import { profileJson } from './fetch';

const MEDIA_TYPES = { ndjson: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8' } as const;

/**
 * `GET /:client/target/profiles/export?format=ndjson|csv[&key=pcId|thirdPartyId]` (API.md 5),
 * after the admin routes' `prepare` and `allow('profiles.export')`. Streams a page of profiles at a
 * time: a write the socket cannot take yet waits for 'drain', and a client that goes away stops
 * the reading. CSV reads the profiles twice, first for the header's attribute names. Audited as
 * `profiles.exported` once it ends, finished or not.
 */
export function exportProfilesRoute(rt: Runtime) {
  return async (req: Request, res: Response): Promise<void> => {
    const client = req.params['client'] as string;
    refuseLookalikes(req);
    const request = parseExportRequest(single(req, 'format'), single(req, 'key'));
    if (req.method === 'HEAD') {
      // Express answers HEAD with this GET route: the headers only, without reading every profile.
      res.status(200).set(exportHeaders(client, request.format)).end();
      return;
    }
    const stop = new AbortController();
    res.on('close', () => stop.abort());
    await rt.exports.run(stop, () => streamExport(rt, req, res, request, stop));
  };
}

/** Streams the export and audits it once it ends, finished or not. */
async function streamExport(
  rt: Runtime,
  req: Request,
  res: Response,
  request: ExportRequest,
  stop: AbortController,
): Promise<void> {
  const client = req.params['client'] as string;
  const { format, key } = request;
  let count = 0;
  let complete = false;
  try {
    let names: string[] = [];
    if (format === 'csv') {
      names = await rt.profiles.exportAttributeNames(client, key, stop.signal);
    }
    if (stop.signal.aborted) {
      res.destroy(); // the client went away, or the router is closing: nothing to answer
      return;
    }
    const problem = format === 'csv' ? csvExportProblem(names) : null;
    if (problem !== null) throw new ExportNotPossibleError(problem);
    res.status(200).set(exportHeaders(client, format));
    if (format === 'csv') await send(res, csvHeader(key, names), stop.signal);
    for await (const page of rt.profiles.exportPages(client, key, stop.signal)) {
      let chunk = '';
      for (const profile of page) {
        chunk += format === 'csv' ? csvRow(profile, key, names) : `${JSON.stringify(profileJson(client, profile))}\n`;
      }
      await send(res, chunk, stop.signal);
      count += page.length;
    }
    if (stop.signal.aborted) {
      res.destroy(); // cut short: never a complete-looking body
      return;
    }
    complete = true;
    res.end();
  } catch (error) {
    if (!res.headersSent) {
      // Nothing sent yet (the first page failed): an error answer, not an attachment.
      res.removeHeader('Content-Disposition');
      throw error;
    }
    // Too late for an error answer: cut the response short, so the client sees it is incomplete.
    if (!stop.signal.aborted) rt.onError(error, req);
    res.destroy();
  } finally {
    if (res.headersSent) await audit(rt, client, res, request, count, complete);
  }
}

function exportHeaders(client: string, format: ExportFormat): Record<string, string> {
  return {
    'Content-Type': MEDIA_TYPES[format],
    'Content-Disposition': `attachment; filename="${client}-profiles.${format}"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  };
}

/** Writes a chunk; when the socket's buffer is full, waits until it drains (or the client goes away). */
async function send(res: Response, chunk: string, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw signal.reason;
  if (res.write(chunk)) return;
  await once(res, 'drain', { signal });
}

async function audit(
  rt: Runtime,
  client: string,
  res: Response,
  { format, key }: ExportRequest,
  count: number,
  complete: boolean,
): Promise<void> {
  const actor = (res.locals['actor'] as Actor).id;
  try {
    await rt.access.audit.record(client, actor, 'profiles.exported', { format, key, count, complete });
  } catch (error) {
    rt.onError(error);
  }
}

/** The one value of a query parameter, or undefined; given twice: 400. */
function single(req: Request, name: string): string | undefined {
  const values = queryParams(req, name);
  if (values.length > 1) throw new ValidationError(`Give ${name} once`);
  return values[0];
}

/** `key[]` (axios, qs, PHP), `key[0]`, another case, a plural; the same of `format`. */
const LOOKALIKE = /^(format|key)s?(\[[^\]]*\])?$/i;

/**
 * Refuses a parameter that means `format` or `key` but is not spelt so: as an unknown parameter
 * it would be ignored, and `key[]=thirdPartyId` would export every profile by pcId.
 */
function refuseLookalikes(req: Request): void {
  for (const pair of formPairs(rawQuery(req))) {
    if (pair === undefined) continue; // queryParams answers 400 to it
    const [name] = pair;
    if (name === 'format' || name === 'key') continue;
    const match = LOOKALIKE.exec(name);
    if (match === null) continue;
    const meant = match[1]!.toLowerCase();
    throw new ValidationError(
      `Parameter "${name.slice(0, 40)}" is not known; give ${meant}=${meant === 'format' ? 'ndjson or format=csv' : 'pcId or key=thirdPartyId'}, once (no brackets)`,
    );
  }
}
