import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { create } from 'xmlbuilder2';

/** The body format of a profile-route answer. */
export type Format = 'xml' | 'json';

/** XML unless the request's Accept prefers JSON (API.md 1). */
export function negotiate(req: Request): Format {
  return req.accepts(['xml', 'json']) === 'json' ? 'json' : 'xml';
}

type XmlValue = string | number | boolean | XmlObject | XmlObject[];
interface XmlObject {
  [name: string]: XmlValue;
}

/** Sends `<response>…</response>` (children in key order) or the same object as JSON. */
export function sendProfileBody(res: Response, format: Format, status: number, body: XmlObject, json?: object): void {
  res.status(status);
  if (format === 'json') {
    res.json(json ?? body);
    return;
  }
  const xml = create({ response: body }).end({ headless: true });
  res.type('application/xml').send(xml);
}

/** A refused profile request: `success=false` and a message saying what to fix. */
export function sendProfileError(
  res: Response,
  format: Format,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.set(headers);
  sendProfileBody(res, format, status, { success: false, message });
}

/** The admin error body of API.md 1. */
export function sendAdminError(
  res: Response,
  status: number,
  errorCode: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const requestId = randomUUID();
  res
    .status(status)
    .set({ ...headers, 'X-Request-Id': requestId })
    .json({
      httpStatus: status,
      requestId,
      requestTime: new Date().toISOString(),
      errors: [{ errorCode, message }],
    });
}
