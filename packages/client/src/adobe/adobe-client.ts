/**
 * Typed client of Adobe Target's Admin API token routes (`GET`/`POST
 * {adminUrl}/{tenant}/target/authentication/token?authorizationScope=…`), authenticated with an
 * Adobe IMS access token obtained with an OAuth Server-to-Server credential (client credentials
 * grant at `{imsUrl}/ims/token/v3`). The IMS token is cached until shortly before it expires.
 *
 * The same client reaches a Profilegate server's admin token route: give `accessToken` (the
 * Profilegate admin key) instead of the IMS credential, `adminUrl` = the server URL and `tenant` =
 * the client code. Profilegate ignores X-Api-Key and answers Adobe's media type.
 *
 * No error message, `util.inspect` or JSON of the client holds the client secret or a token.
 */
import { AdminApiError, ServerUnreachableError } from '../admin-client';
import { AdobeImsError, adobeErrorFromResponse, redact, unreachableMessage } from './adobe-errors';

export { AdobeImsError } from './adobe-errors';

/** Adobe's authorization scopes of the token routes. */
export const ADOBE_AUTHORIZATION_SCOPES = ['profile_api', 'debug_tools'] as const;
/** One authorization scope: the Profile API token or the debug (mbox trace) token. */
export type AdobeAuthorizationScope = (typeof ADOBE_AUTHORIZATION_SCOPES)[number];

/** The media type of Adobe's Admin API. */
export const ADOBE_TARGET_MEDIA_TYPE = 'application/vnd.adobe.target.v1+json';
/** Adobe IMS of North America, where OAuth Server-to-Server credentials get their tokens. */
export const DEFAULT_ADOBE_IMS_URL = 'https://ims-na1.adobelogin.com';
/** Adobe's API gateway, base of the Admin API. */
export const DEFAULT_ADOBE_ADMIN_URL = 'https://mc.adobe.io';
/**
 * The IMS scopes Adobe's Developer Console lists for an OAuth Server-to-Server credential of the
 * Adobe Target API; use the ones your credential shows when they differ.
 */
export const DEFAULT_ADOBE_IMS_SCOPES: readonly string[] = [
  'openid',
  'AdobeID',
  'target_sdk',
  'additional_info.projectedProductContext',
  'read_organizations',
  'additional_info.roles',
];

/** An IMS token is renewed this long before it expires (or at half its life, if shorter). */
const RENEW_MARGIN_MS = 5 * 60_000;

/** Options of AdobeTargetClient. */
export interface AdobeTargetClientOptions {
  /** The tenant in the Admin API path (your Target client code, lower case). */
  tenant: string;
  /** The credential's client id (also sent as X-Api-Key). Optional with `accessToken`. */
  clientId?: string;
  /** The credential's client secret; never printed. Not needed with `accessToken`. */
  clientSecret?: string;
  /** IMS scopes asked for (default DEFAULT_ADOBE_IMS_SCOPES). */
  scopes?: readonly string[];
  /** IMS base URL (default https://ims-na1.adobelogin.com). */
  imsUrl?: string;
  /** Admin API base URL (default https://mc.adobe.io). */
  adminUrl?: string;
  /** A bearer token used as is instead of asking IMS (e.g. a Profilegate server's admin key). */
  accessToken?: string;
  /** Clock in milliseconds (default Date.now); for tests. */
  now?: () => number;
  /** Milliseconds before a request is given up (default 30 s). */
  timeoutMs?: number;
  /** fetch to use (default: the global one); for tests. */
  fetch?: typeof fetch;
}

/** A token as Adobe's token routes answer it (`AuthorizationToken` of the Admin API document). */
export interface AdobeToken {
  accessToken: string;
  tokenType: string;
  scope: AdobeAuthorizationScope;
  /** Seconds left. */
  expiresIn: number;
}

/** Typed calls of Adobe Target's token routes for one tenant. */
export class AdobeTargetClient {
  readonly tenant: string;
  readonly clientId: string | undefined;
  readonly scopes: readonly string[];
  readonly imsUrl: string;
  readonly adminUrl: string;
  readonly #secret: string | undefined;
  readonly #staticToken: string | undefined;
  readonly #now: () => number;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  #ims: { token: string; renewAt: number } | undefined;

  constructor(options: AdobeTargetClientOptions) {
    if (typeof options.tenant !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(options.tenant)) {
      throw new TypeError('The Adobe tenant must be your Target client code (letters, digits, _ . -)');
    }
    this.#staticToken = nonEmpty(options.accessToken);
    this.#secret = nonEmpty(options.clientSecret);
    this.clientId = nonEmpty(options.clientId);
    if (this.#staticToken === undefined && (this.clientId === undefined || this.#secret === undefined)) {
      throw new TypeError('Give the Adobe client id and client secret of an OAuth Server-to-Server credential');
    }
    this.tenant = options.tenant;
    this.scopes = [...(options.scopes ?? DEFAULT_ADOBE_IMS_SCOPES)];
    this.imsUrl = baseUrl(options.imsUrl ?? DEFAULT_ADOBE_IMS_URL, 'IMS URL');
    this.adminUrl = baseUrl(options.adminUrl ?? DEFAULT_ADOBE_ADMIN_URL, 'Admin API URL');
    this.#now = options.now ?? Date.now;
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The current token of `scope`, or null when the tenant has none. */
  async getToken(scope: AdobeAuthorizationScope = 'profile_api'): Promise<AdobeToken | null> {
    try {
      return await this.tokenCall('GET', scope);
    } catch (error) {
      if (error instanceof AdminApiError && error.status === 404 && error.errorCode === 'TokenNotFound') return null;
      throw error;
    }
  }

  /** Generates a new token of `scope`; the previous one stops working at once (Adobe has no grace). */
  regenerateToken(scope: AdobeAuthorizationScope = 'profile_api'): Promise<AdobeToken> {
    return this.tokenCall('POST', scope);
  }

  /** Forgets the cached IMS access token; the next call asks IMS again. */
  clearImsToken(): void {
    this.#ims = undefined;
  }

  toJSON(): object {
    return { tenant: this.tenant, clientId: this.clientId, imsUrl: this.imsUrl, adminUrl: this.adminUrl };
  }

  private async tokenCall(method: 'GET' | 'POST', scope: AdobeAuthorizationScope): Promise<AdobeToken> {
    if (!ADOBE_AUTHORIZATION_SCOPES.includes(scope)) {
      throw new TypeError(`The authorization scope must be profile_api or debug_tools, not ${JSON.stringify(scope)}`);
    }
    const path = `/${encodeURIComponent(this.tenant)}/target/authentication/token?authorizationScope=${scope}`;
    let bearer = await this.bearer();
    let res = await this.send(method, path, bearer);
    if (res.status === 401 && this.#staticToken === undefined) {
      // IMS may end a token early: ask for a new one once.
      this.#ims = undefined;
      bearer = await this.bearer();
      res = await this.send(method, path, bearer);
    }
    const text = await this.read(res, this.adminUrl);
    const secrets = this.secrets(bearer);
    const parsed = parseJson(text);
    if (!res.ok) throw adobeErrorFromResponse(res, parsed, secrets, this.adminUrl);
    const token = parsed as Partial<AdobeToken> | undefined;
    if (typeof token?.accessToken !== 'string' || token.accessToken === '') {
      throw new AdminApiError(
        res.status,
        'InvalidResponse',
        `${method} token did not answer a token; check ${this.adminUrl}`,
      );
    }
    return {
      accessToken: token.accessToken,
      tokenType: typeof token.tokenType === 'string' ? token.tokenType : 'bearer',
      scope: ADOBE_AUTHORIZATION_SCOPES.includes(token.scope as AdobeAuthorizationScope)
        ? (token.scope as AdobeAuthorizationScope)
        : scope,
      expiresIn: typeof token.expiresIn === 'number' ? token.expiresIn : 0,
    };
  }

  private async send(method: string, path: string, bearer: string): Promise<Response> {
    const headers: Record<string, string> = { accept: ADOBE_TARGET_MEDIA_TYPE, authorization: `Bearer ${bearer}` };
    if (this.clientId !== undefined) headers['x-api-key'] = this.clientId;
    try {
      return await this.#fetch(`${this.adminUrl}${path}`, {
        method,
        headers,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new ServerUnreachableError(this.adminUrl, unreachableMessage(this.adminUrl, error));
    }
  }

  private async read(res: Response, base: string): Promise<string> {
    try {
      return await res.text();
    } catch (error) {
      throw new ServerUnreachableError(base, unreachableMessage(base, error));
    }
  }

  /** The bearer of the Admin API calls: the static token, or a cached or new IMS access token. */
  private async bearer(): Promise<string> {
    if (this.#staticToken !== undefined) return this.#staticToken;
    if (this.#ims !== undefined && this.#now() < this.#ims.renewAt) return this.#ims.token;
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.clientId as string,
      client_secret: this.#secret as string,
      scope: this.scopes.join(','),
    });
    const asked = this.#now();
    let res: Response;
    try {
      res = await this.#fetch(`${this.imsUrl}/ims/token/v3`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new ServerUnreachableError(this.imsUrl, unreachableMessage(this.imsUrl, error));
    }
    const body = parseJson(await this.read(res, this.imsUrl)) as Record<string, unknown> | undefined;
    const secrets = this.secrets();
    if (!res.ok) {
      const code = typeof body?.['error'] === 'string' ? body['error'] : `Http${res.status}`;
      const said =
        typeof body?.['error_description'] === 'string' ? `: ${redact(body['error_description'], secrets)}` : '';
      throw new AdobeImsError(res.status, code, imsAdvice(res.status, code, this.imsUrl) + said);
    }
    const token = body?.['access_token'];
    const expiresIn = body?.['expires_in'];
    if (typeof token !== 'string' || token === '' || typeof expiresIn !== 'number' || !(expiresIn > 0)) {
      throw new AdobeImsError(res.status, 'InvalidResponse', `${this.imsUrl} did not answer an IMS access token`);
    }
    const lifeMs = expiresIn * 1000;
    this.#ims = { token, renewAt: asked + lifeMs - Math.min(RENEW_MARGIN_MS, lifeMs / 2) };
    return token;
  }

  private secrets(bearer?: string): string[] {
    return [this.#secret ?? '', this.#staticToken ?? '', this.#ims?.token ?? '', bearer ?? ''];
  }
}

function imsAdvice(status: number, code: string, imsUrl: string): string {
  if (code === 'invalid_client' || status === 401) {
    return `Adobe IMS (${imsUrl}) refused the client id or client secret (${code}); check the OAuth Server-to-Server credential`;
  }
  if (code === 'invalid_scope') {
    return `Adobe IMS refused the scopes (${code}); use the scopes your credential lists in the Developer Console`;
  }
  return `Adobe IMS (${imsUrl}) refused the token request with ${status} (${code})`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function baseUrl(raw: string, what: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`The Adobe ${what} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`The Adobe ${what} must start with http:// or https://`);
  }
  return url.href.replace(/\/+$/, '');
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}
