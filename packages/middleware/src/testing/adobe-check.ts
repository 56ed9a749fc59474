/**
 * Checks a request against the Admin API document subset (adobe-admin-api.json): path, method,
 * parameters (required, repeated, enum), the security the document names, Accept against the
 * success media types, and the request body. Returns what is wrong, one sentence each; empty when
 * the request is one the document describes. Query parameters the document does not declare are
 * allowed, as in OpenAPI.
 */
import type { IncomingHttpHeaders } from 'node:http';
import document from './adobe-admin-api.json';

type Json = Record<string, unknown>;

/** The Admin API document subset the emulation is built from. */
export const ADOBE_ADMIN_API_DOCUMENT: Json = document as Json;

/** What is checked of one request. */
export interface CheckedRequest {
  method: string;
  pathname: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The operation of the document a request is for, and its path parameters. */
export interface MatchedOperation {
  template: string;
  operationId: string;
  pathParams: Record<string, string>;
}

/** Finds the path template and operation of the request; null when the document has none. */
export function matchOperation(doc: Json, method: string, pathname: string): MatchedOperation | null {
  for (const [template, item] of Object.entries(doc['paths'] as Json)) {
    const names: string[] = [];
    const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    const found = new RegExp(`^${pattern}$`).exec(pathname);
    if (found === null) continue;
    const op = (item as Json)[method.toLowerCase()] as Json | undefined;
    if (op === undefined) return { template, operationId: '', pathParams: {} };
    const pathParams: Record<string, string> = {};
    names.forEach((name, i) => (pathParams[name] = decodeURIComponent(found[i + 1] as string)));
    return { template, operationId: op['operationId'] as string, pathParams };
  }
  return null;
}

/** What is wrong with `req` according to `doc` (empty: nothing). */
export function checkAdminRequest(doc: Json, req: CheckedRequest): string[] {
  const problems: string[] = [];
  const where = `${req.method} ${req.pathname}`;
  const matched = matchOperation(doc, req.method, req.pathname);
  if (matched === null) return [`${where}: no path of the document matches`];
  const item = (doc['paths'] as Json)[matched.template] as Json;
  const op = item[req.method.toLowerCase()] as Json | undefined;
  if (op === undefined) return [`${where}: ${req.method} is not an operation of ${matched.template}`];

  const params = [...((item['parameters'] as Json[]) ?? []), ...((op['parameters'] as Json[]) ?? [])];
  for (const param of params) {
    const name = param['name'] as string;
    const schema = (param['schema'] ?? {}) as Json;
    let values: string[];
    if (param['in'] === 'query') values = req.query.getAll(name);
    else if (param['in'] === 'header') values = headerValues(req.headers, name);
    else if (param['in'] === 'path') values = [matched.pathParams[name] ?? ''];
    else continue;
    if (values.length === 0) {
      if (param['required'] === true) problems.push(`${where}: the ${param['in']} parameter ${name} is required`);
      continue;
    }
    if (values.length > 1) problems.push(`${where}: the ${param['in']} parameter ${name} is given more than once`);
    const allowed = schema['enum'] as string[] | undefined;
    for (const value of values) {
      if (allowed !== undefined && !allowed.includes(value)) {
        problems.push(`${where}: ${name}=${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
      }
    }
  }

  problems.push(...checkSecurity(doc, op, req, where));
  problems.push(...checkAccept(op, req, where));
  problems.push(...checkBody(op, req, where));
  return problems;
}

function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
  const raw = headers[name.toLowerCase()];
  if (raw === undefined) return [];
  return Array.isArray(raw) ? raw : [raw];
}

function checkSecurity(doc: Json, op: Json, req: CheckedRequest, where: string): string[] {
  const requirements = (op['security'] ?? doc['security'] ?? []) as Json[];
  const schemes = ((doc['components'] as Json)['securitySchemes'] ?? {}) as Json;
  const problems: string[] = [];
  for (const requirement of requirements) {
    for (const key of Object.keys(requirement)) {
      const scheme = schemes[key] as Json | undefined;
      if (scheme === undefined) continue;
      if (scheme['type'] === 'http' && scheme['scheme'] === 'bearer') {
        const auth = headerValues(req.headers, 'authorization');
        if (auth.length !== 1 || !/^Bearer \S+$/i.test(auth[0] as string)) {
          problems.push(`${where}: Authorization: Bearer <IMS access token> is required`);
        }
      } else if (scheme['type'] === 'apiKey' && scheme['in'] === 'header') {
        const name = scheme['name'] as string;
        const values = headerValues(req.headers, name);
        if (values.length !== 1 || (values[0] as string).trim() === '') problems.push(`${where}: ${name} is required`);
      }
    }
  }
  return problems;
}

/** Media types of the operation's success answers. */
export function successMediaTypes(op: Json): string[] {
  const types = new Set<string>();
  for (const [code, response] of Object.entries(op['responses'] as Json)) {
    if (!code.startsWith('2')) continue;
    for (const type of Object.keys(((response as Json)['content'] ?? {}) as Json)) types.add(type);
  }
  return [...types];
}

/** Whether an Accept header value takes `type`, with `*` ranges and q=0 refusals. */
export function acceptsType(accept: string, type: string): boolean {
  const [main, sub] = type.split('/');
  return accept.split(',').some((range) => {
    const [media, ...params] = range.trim().split(';');
    if (params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p))) return false;
    const [m, s] = (media ?? '').trim().toLowerCase().split('/');
    return (m === '*' || m === main) && (s === '*' || s === sub);
  });
}

function checkAccept(op: Json, req: CheckedRequest, where: string): string[] {
  const accept = headerValues(req.headers, 'accept').join(',');
  if (accept.trim() === '') return [];
  const types = successMediaTypes(op);
  if (types.some((type) => acceptsType(accept, type))) return [];
  return [`${where}: Accept ${JSON.stringify(accept)} takes none of ${types.join(', ')}`];
}

function checkBody(op: Json, req: CheckedRequest, where: string): string[] {
  const requestBody = op['requestBody'] as Json | undefined;
  if (req.body === '') {
    return requestBody?.['required'] === true ? [`${where}: a request body is required`] : [];
  }
  if (requestBody === undefined) return [`${where}: the operation takes no request body`];
  const contentType = (headerValues(req.headers, 'content-type')[0] ?? '').split(';')[0]!.trim().toLowerCase();
  const content = requestBody['content'] as Json;
  const media = content[contentType] as Json | undefined;
  if (media === undefined) {
    return [`${where}: Content-Type ${JSON.stringify(contentType)} is not one of ${Object.keys(content).join(', ')}`];
  }
  const schema = (media['schema'] ?? {}) as Json;
  let value: unknown;
  try {
    value = JSON.parse(req.body);
  } catch {
    return [`${where}: the body is not JSON`];
  }
  if (schema['type'] === 'string') {
    if (typeof value !== 'string') return [`${where}: the body must be a JSON string`];
    const allowed = schema['enum'] as string[] | undefined;
    if (allowed !== undefined && !allowed.includes(value)) {
      return [`${where}: the body ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`];
    }
  }
  return [];
}
