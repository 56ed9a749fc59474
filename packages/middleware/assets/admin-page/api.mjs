/**
 * The admin page's only way to the server: the admin routes of API.md section 3, on this origin.
 * The admin key (when the page signs in with one) travels as `Authorization: Bearer`; without one
 * the browser's own cookies go along, for hosts whose `authenticateAdmin` reads their session.
 */
import { clockSkewMs } from './format.mjs';

/** A refused or failed admin call; `status` is 0 when the server could not be reached. */
export class AdminApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'AdminApiError';
    this.status = status;
    this.code = code;
  }
}

const TOKEN = 'token?authorizationScope=profile_api';

/** The message of an admin error body (API.md 1), or a fallback that says what to do. */
function errorOf(status, body) {
  const first = body && Array.isArray(body.errors) ? body.errors[0] : undefined;
  if (first && typeof first.message === 'string') return new AdminApiError(status, first.errorCode, first.message);
  return new AdminApiError(status, 'Unexpected', `The server answered ${status}; reload the page and try again.`);
}

/** Calls the admin routes under `base` (a URL ending in `/authentication/`). */
export class AdminApi {
  constructor(base) {
    this.base = base;
    /** The admin key, or null to rely on the host app's session. */
    this.key = null;
    /** Server clock minus browser clock, from the last answer's `Date` header. */
    this.skewMs = 0;
  }

  async call(method, path, body) {
    const headers = { accept: 'application/json' };
    if (this.key !== null) headers.authorization = `Bearer ${this.key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(new URL(path, this.base), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
        redirect: 'error',
      });
    } catch {
      throw new AdminApiError(
        0,
        'Network',
        'The server could not be reached; check that it is running, then try again.',
      );
    }
    this.skewMs = clockSkewMs(res.headers.get('date'), Date.now());
    const text = method === 'HEAD' ? '' : await res.text();
    let parsed = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (!res.ok) throw errorOf(res.status, parsed);
    return { status: res.status, body: parsed };
  }

  /** `{requireAuthentication, profileRetentionDays, token: {createdAt, expiresAt, createdBy} | null}` */
  async settings() {
    return (await this.call('GET', 'settings')).body;
  }

  async putSettings(requireAuthentication) {
    return (await this.call('PUT', 'settings', { requireAuthentication })).body;
  }

  /** Days a profile is kept after its last modification, or null to keep profiles forever. */
  async putRetention(profileRetentionDays) {
    return (await this.call('PUT', 'settings', { profileRetentionDays })).body;
  }

  /**
   * Whether this actor may read and generate the profile token, asked without generating one:
   * HEAD of the token route runs the same permission check as GET but carries no body, so the
   * current token never reaches the browser. Resolves `{ allowed: true }` or `{ allowed: false }`.
   */
  async tokenRights() {
    try {
      await this.call('HEAD', TOKEN);
      return { allowed: true };
    } catch (error) {
      if (error instanceof AdminApiError && error.status === 404) return { allowed: true };
      if (error instanceof AdminApiError && error.status === 403) return { allowed: false };
      throw error;
    }
  }

  /** POST: a new token (201); the previous one stops working (after the grace period, if any). */
  async generateToken(expiresIn, previousTokenGraceSeconds) {
    return (await this.call('POST', TOKEN, { expiresIn, previousTokenGraceSeconds })).body;
  }

  async audit(limit) {
    return (await this.call('GET', `audit?limit=${limit}`)).body;
  }
}
