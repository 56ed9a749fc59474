/**
 * An offline emulation of what Profilegate's front ends call at Adobe: the IMS token endpoint of an
 * OAuth Server-to-Server credential (`POST /ims/token/v3`, client credentials grant) and the Admin
 * API token routes (`GET`/`POST /{tenant}/target/authentication/token?authorizationScope=…`), in
 * the shapes and media type of Adobe's published Admin API document (adobe-admin-api.json).
 * Every request is checked against that document; `violations()` lists what did not match.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADOBE_ADMIN_API_DOCUMENT, acceptsType, checkAdminRequest, matchOperation } from './adobe-check';
import { listen, opaqueToken, readBody, scopeOf, single, stop } from './adobe-http';

/** Adobe's authorization scopes of the token routes. */
export type AdobeEmulationScope = 'profile_api' | 'debug_tools';
const SCOPES: readonly AdobeEmulationScope[] = ['profile_api', 'debug_tools'];
const VND = 'application/vnd.adobe.target.v1+json';

/** Options of startAdobeEmulation. */
export interface AdobeEmulationOptions {
  /** The tenant served (default `acme`). */
  tenant?: string;
  /** The credential's client id (default `emulated-client-id`). */
  clientId?: string;
  /** The credential's client secret (default: random). */
  clientSecret?: string;
  /** IMS scopes the credential may ask for (default: Adobe Target's OAuth Server-to-Server list). */
  scopes?: readonly string[];
  /** Clock in milliseconds (default Date.now): IMS tokens and Adobe tokens expire by it. */
  now?: () => number;
  /** Lifetime of an IMS access token, in seconds (default 86,399, as IMS answers). */
  imsTokenSeconds?: number;
  /** Lifetime of a generated Adobe token, in seconds (default 15,552,000 = 180 days; the emulation's choice). */
  tokenSeconds?: number;
  /** Tokens at start per scope; null: none yet (GET answers 404). Default: a random token each. */
  initialTokens?: Partial<Record<AdobeEmulationScope, string | null>>;
}

/** One request the emulation received. The IMS form's secret and bearer tokens are not kept. */
export interface AdobeRequestRecord {
  api: 'ims' | 'admin';
  method: string;
  path: string;
  query: Record<string, string[]>;
  accept: string | undefined;
  contentType: string | undefined;
  apiKey: string | undefined;
  hasBearer: boolean;
  status: number;
  /** What did not match Adobe's document (admin) or IMS's token request (ims). */
  violations: string[];
}

/** A running emulation. */
export interface AdobeEmulation {
  /** IMS base URL (POST `${imsUrl}/ims/token/v3`). */
  imsUrl: string;
  /** Admin API base URL (`${adminUrl}/${tenant}/target/authentication/token`). */
  adminUrl: string;
  tenant: string;
  clientId: string;
  clientSecret: string;
  scopes: readonly string[];
  /** Every request received, in order. */
  requests: AdobeRequestRecord[];
  /** Every violation of every request, prefixed by nothing: assert it is empty. */
  violations(): string[];
  /** The current token of each scope. */
  tokens: {
    get(scope: AdobeEmulationScope): string | null;
    set(scope: AdobeEmulationScope, value: string | null): void;
  };
  /** Ends every IMS access token issued so far (as if IMS revoked them). */
  revokeImsTokens(): void;
  /** How many IMS access tokens were issued. */
  imsTokensIssued(): number;
  /** The Admin API document subset the checks use. */
  document: Record<string, unknown>;
  close(): Promise<void>;
}

/** Adobe Target's OAuth Server-to-Server scopes, the emulation's default. */
export const ADOBE_EMULATION_DEFAULT_SCOPES: readonly string[] = [
  'openid',
  'AdobeID',
  'target_sdk',
  'additional_info.projectedProductContext',
  'read_organizations',
  'additional_info.roles',
];

/** Starts the IMS and Admin API emulation on two ephemeral ports of 127.0.0.1. */
export async function startAdobeEmulation(options: AdobeEmulationOptions = {}): Promise<AdobeEmulation> {
  const tenant = options.tenant ?? 'acme';
  const clientId = options.clientId ?? 'emulated-client-id';
  const clientSecret = options.clientSecret ?? `p8e-${randomBytes(18).toString('base64url')}`;
  const scopes = [...(options.scopes ?? ADOBE_EMULATION_DEFAULT_SCOPES)];
  const now = options.now ?? Date.now;
  const imsSeconds = options.imsTokenSeconds ?? 86_399;
  const tokenSeconds = options.tokenSeconds ?? 15_552_000;
  const requests: AdobeRequestRecord[] = [];
  const imsTokens = new Map<string, { clientId: string; expiresAt: number }>();
  let issued = 0;
  const tokens = new Map<AdobeEmulationScope, { value: string; expiresAt: number } | null>();
  for (const scope of SCOPES) {
    const initial = options.initialTokens?.[scope];
    const value = initial === undefined ? opaqueToken() : initial;
    tokens.set(scope, value === null ? null : { value, expiresAt: now() + tokenSeconds * 1000 });
  }

  const record = (api: 'ims' | 'admin', req: IncomingMessage, url: URL): AdobeRequestRecord => {
    const query: Record<string, string[]> = {};
    for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key);
    const entry: AdobeRequestRecord = {
      api,
      method: req.method ?? '',
      path: url.pathname,
      query,
      accept: req.headers.accept,
      contentType: req.headers['content-type'],
      apiKey: single(req.headers['x-api-key']),
      hasBearer: /^Bearer \S+$/i.test(req.headers.authorization ?? ''),
      status: 0,
      violations: [],
    };
    requests.push(entry);
    return entry;
  };

  const ims = createServer((req, res) => {
    void readBody(req).then((body) => {
      const url = new URL(req.url ?? '/', 'http://ims.invalid');
      const entry = record('ims', req, url);
      const answer = (status: number, json: object) => {
        entry.status = status;
        res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'cache-control': 'no-store' });
        res.end(JSON.stringify(json));
      };
      const refuse = (status: number, error: string, description: string) =>
        answer(status, { error, error_description: description });
      if (url.pathname !== '/ims/token/v3' || req.method !== 'POST') {
        entry.violations.push(`${req.method} ${url.pathname}: IMS tokens come from POST /ims/token/v3`);
        return refuse(404, 'not_found', 'Only POST /ims/token/v3 is emulated');
      }
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded') {
        entry.violations.push(`POST /ims/token/v3: the form must be application/x-www-form-urlencoded, not ${type}`);
      }
      const form = new URLSearchParams(body);
      for (const name of ['grant_type', 'client_id', 'client_secret', 'scope']) {
        if (form.getAll(name).length !== 1) entry.violations.push(`POST /ims/token/v3: give ${name} exactly once`);
      }
      if (form.get('grant_type') !== 'client_credentials') {
        return refuse(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
      }
      if (form.get('client_id') !== clientId) return refuse(400, 'invalid_client', 'invalid client_id parameter');
      if (form.get('client_secret') !== clientSecret)
        return refuse(401, 'invalid_client', 'invalid client_secret parameter');
      const asked = (form.get('scope') ?? '').split(/[\s,]+/).filter((s) => s !== '');
      const unknown = asked.find((s) => !scopes.includes(s));
      if (asked.length === 0 || unknown !== undefined) {
        return refuse(400, 'invalid_scope', `invalid scope ${JSON.stringify(unknown ?? '')}`);
      }
      const token = `ims-emulated-${randomBytes(24).toString('base64url')}`;
      imsTokens.set(token, { clientId, expiresAt: now() + imsSeconds * 1000 });
      issued += 1;
      return answer(200, { access_token: token, token_type: 'bearer', expires_in: imsSeconds });
    });
  });

  const admin = createServer((req, res) => {
    void readBody(req).then((body) => {
      const url = new URL(req.url ?? '/', 'http://admin.invalid');
      const entry = record('admin', req, url);
      const method = req.method ?? '';
      entry.violations.push(
        ...checkAdminRequest(ADOBE_ADMIN_API_DOCUMENT, {
          method,
          pathname: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body,
        }),
      );
      const vnd = acceptsType(req.headers.accept ?? '*/*', VND);
      const refuse = (status: number, errorCode: string, message: string) => {
        entry.status = status;
        res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'x-request-id': randomUUID() });
        res.end(
          JSON.stringify({
            httpStatus: status,
            requestId: randomUUID(),
            requestTime: new Date(now()).toISOString(),
            errors: [{ errorCode, message }],
          }),
        );
      };
      const matched = matchOperation(ADOBE_ADMIN_API_DOCUMENT, method, url.pathname);
      if (matched === null) return refuse(404, 'NotFound', `No route ${url.pathname}`);
      if (matched.operationId === '') return refuse(405, 'MethodNotAllowed', `${method} is not allowed here`);

      const auth = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '');
      if (auth === null) return refuse(401, 'Unauthorized', 'Authorization: Bearer <IMS access token> is missing');
      const imsToken = imsTokens.get(auth[1] as string);
      if (imsToken === undefined || now() >= imsToken.expiresAt) {
        return refuse(401, 'Unauthorized', 'Oauth token is not valid');
      }
      const apiKey = single(req.headers['x-api-key']);
      if (apiKey === undefined) return refuse(403, 'Forbidden', 'Api Key is required');
      if (apiKey !== imsToken.clientId) return refuse(403, 'Forbidden', 'Api Key is invalid');
      if (matched.pathParams['tenant'] !== tenant) {
        return refuse(403, 'Forbidden', `The credential has no access to tenant ${matched.pathParams['tenant']}`);
      }
      if (!vnd) return refuse(406, 'NotAcceptable', `Accept ${VND}`);

      const scope = scopeOf(url.searchParams, method === 'POST' ? body : '');
      if (typeof scope !== 'string' || !SCOPES.includes(scope as AdobeEmulationScope)) {
        return refuse(
          400,
          'BadRequest',
          `authorizationScope must be profile_api or debug_tools${scope ? '' : ' (missing)'}`,
        );
      }
      const key = scope as AdobeEmulationScope;
      if (method === 'POST') tokens.set(key, { value: opaqueToken(), expiresAt: now() + tokenSeconds * 1000 });
      const current = tokens.get(key);
      if (current === null || current === undefined) {
        return refuse(404, 'TokenNotFound', `There is no ${key} token yet; create one with POST`);
      }
      const status = method === 'POST' ? 201 : 200;
      entry.status = status;
      res.writeHead(status, { 'content-type': VND, 'cache-control': 'no-store' });
      res.end(
        JSON.stringify({
          accessToken: current.value,
          tokenType: 'bearer',
          scope: key,
          expiresIn: Math.max(0, Math.floor((current.expiresAt - now()) / 1000)),
        }),
      );
    });
  });

  const [imsServer, adminServer] = [await listen(ims), await listen(admin)];
  const base = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    imsUrl: base(imsServer),
    adminUrl: base(adminServer),
    tenant,
    clientId,
    clientSecret,
    scopes,
    requests,
    violations: () => requests.flatMap((r) => r.violations),
    tokens: {
      get: (scope) => tokens.get(scope)?.value ?? null,
      set: (scope, value) =>
        tokens.set(scope, value === null ? null : { value, expiresAt: now() + tokenSeconds * 1000 }),
    },
    revokeImsTokens: () => imsTokens.clear(),
    imsTokensIssued: () => issued,
    document: ADOBE_ADMIN_API_DOCUMENT,
    async close() {
      await Promise.all([imsServer, adminServer].map(stop));
    },
  };
}
