import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { create } from 'xmlbuilder';
import type { ErrorAnswer } from './errors';

/** The body format of a profile-route answer. */
export type Format = 'xml' | 'json';

/** XML unless the request's Accept prefers JSON (API.md 1). */
export function negotiate(req: Request): Format {
  // The body depends on Accept: tell caches so (RFC 9110 12.5.5).
  req.res?.vary('Accept');
  return req.accepts(['xml', 'json']) === 'json' ? 'json' : 'xml';
}

type XmlValue = string | number | boolean | XmlObject | XmlObject[];
interface XmlObject {
  [name: string]: XmlValue;
}

/** Characters XML 1.0 does not allow in text (control characters, lone surrogates, U+FFFE/U+FFFF). */
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const XML_INVALID = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * The body with every character XML cannot carry replaced by U+FFFD, so the document stays
 * well-formed whatever ids or names a request echoes back (JSON escapes them instead).
 */
function xmlSafe(value: XmlValue): XmlValue {
  if (typeof value === 'string') return value.replace(XML_INVALID, '\uFFFD');
  if (Array.isArray(value)) return value.map((item) => xmlSafe(item) as XmlObject);
  if (typeof value === 'object' && value !== null) {
    const out: XmlObject = {};
    for (const key of Object.keys(value)) out[key] = xmlSafe(value[key] as XmlValue);
    return out;
  }
  return value;
}

/** Sends `<response>…</response>` (children in key order) or the same object as JSON. */
export function sendProfileBody(res: Response, format: Format, status: number, body: XmlObject, json?: object): void {
  res.status(status);
  if (format === 'json') {
    res.json(json ?? body);
    return;
  }
  // xmlbuilder escapes every `&` and `<` of a text as text. (xmlbuilder2, used before, passes
  // anything shaped like an entity or character reference through as markup: `&nbsp;` made the
  // answer ill-formed and `&#39;` came back as `'`.)
  const xml = create({ response: xmlSafe(body) }, { headless: true }).end();
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

/** A refused profile route (API.md 2): success=false, in XML or JSON as the request's Accept prefers. */
export function sendProfileAnswer(req: Request, res: Response, answer: ErrorAnswer): void {
  sendProfileError(res, negotiate(req), answer.status, answer.message, answer.headers);
}

/** The profile routes' refusal always in JSON (unknown paths under `/m2/:client/`, API.md 2.4). */
export function sendProfileJsonAnswer(_req: Request, res: Response, answer: ErrorAnswer): void {
  sendProfileError(res, 'json', answer.status, answer.message, answer.headers);
}

/** A refused fetch route (API.md 2.4): Adobe's `{status, message}` for a 404, success=false otherwise. */
export function sendFetchAnswer(_req: Request, res: Response, answer: ErrorAnswer): void {
  res.set(answer.headers);
  if (answer.status === 404) res.status(404).json({ status: 404, message: answer.message });
  else sendProfileBody(res, 'json', answer.status, { success: false, message: answer.message });
}

/** A refused admin route or admin page request: the admin error body of API.md 1. */
export function sendAdminAnswer(_req: Request, res: Response, answer: ErrorAnswer): void {
  sendAdminError(res, answer.status, answer.code, answer.message, answer.headers);
}
