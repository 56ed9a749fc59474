/**
 * Typed client of the admin API (API.md section 3) and of the batch routes (2.1, 2.2), on Node's
 * global fetch. Errors are typed: AdminApiError when the server answered with a refusal,
 * ServerUnreachableError when it could not be reached. No message ever holds a key or a token.
 */

/** The server refused a request: its status, the contract's errorCode, and its message. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    /** Which kind of route refused: an admin route (admin key) or a profile route (profile token). */
    readonly route?: 'admin' | 'profile',
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

/** The server could not be reached (connection refused, DNS failure, timeout). */
export class ServerUnreachableError extends Error {
  constructor(
    readonly serverUrl: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServerUnreachableError';
  }
}

/** A profile token as GET/POST token answer it. */
export interface ProfileTokenInfo {
  accessToken: string;
  tokenType: string;
  scope: string;
  /** Whole seconds left. */
  expiresIn: number;
  expiresAt: string;
  createdAt: string;
  createdBy: string;
}

/** Settings of a client (API.md 3.2). */
export interface AuthenticationSettings {
  requireAuthentication: boolean;
  /** Days a profile is kept after its last change; null keeps profiles forever (API.md 5; absent from older servers). */
  profileRetentionDays?: number | null;
  token: { createdAt: string; expiresAt: string; createdBy: string } | null;
}

/** One audit event (API.md 3.3). */
export interface AdminAuditEvent {
  at: string;
  actor: string;
  action: string;
  details?: Record<string, unknown>;
}

/** Answer of a batch upload. */
export interface BatchSubmitted {
  success: boolean;
  batchId: string;
  batchStatus: string;
  message: string;
}

/** One failed row of a batch. */
export interface BatchRowFailure {
  id: string;
  status: string;
  message: string;
}

/** Status of a batch (API.md 2.2; the counters with `showDetails`). */
export interface BatchStatus {
  batchId: string;
  status: 'incomplete' | 'complete' | 'stuck';
  batchSize: number;
  message?: string;
  consumedCount?: number;
  successfulUpdates?: number;
  profilesNotFound?: number;
  failedUpdates?: number;
  /**
   * A project extension: rows worked through so far while `incomplete`, out of `batchSize`
   * (rows refused while parsing included); only from the instance applying the batch.
   */
  appliedCount?: number;
  profiles?: BatchRowFailure[];
}

/** Options of AdminClient. */
export interface AdminClientOptions {
  /** Base URL where the router is mounted, e.g. `http://127.0.0.1:8080`. */
  serverUrl: string;
  /** Client code. */
  client: string;
  /** Admin key, sent as `Authorization: Bearer <key>` on the admin routes. */
  adminKey?: string;
  /** Milliseconds before a request is given up (default 30 s). */
  timeoutMs?: number;
  /** fetch to use (default: the global one); for tests. */
  fetch?: typeof fetch;
}

/** Options of the batch calls. */
export interface BatchCallOptions {
  /** The v1 routes (update existing profiles only) instead of v2. */
  v1?: boolean;
  /** Profile token for the bearer gate; omitted when Require Authentication is off. */
  profileToken?: string;
}

const SCOPE = 'authorizationScope=profile_api';

/** Shortest text we would call an error message; anything else is replaced by the status text. */
function safeMessage(text: unknown, secrets: readonly string[], fallback: string): string {
  let message = typeof text === 'string' && text.trim() !== '' ? text.trim() : fallback;
  for (const secret of secrets) if (secret.length >= 8) message = message.split(secret).join('[redacted]');
  return message.length > 500 ? `${message.slice(0, 497)}...` : message;
}

/** Typed calls of the admin API and batch routes for one client. */
export class AdminClient {
  protected readonly base: string;
  protected readonly fetchImpl: typeof fetch;

  constructor(protected readonly options: AdminClientOptions) {
    let url: URL;
    try {
      url = new URL(options.serverUrl);
    } catch {
      throw new TypeError('The server URL is not a URL; use e.g. http://127.0.0.1:8080');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError('The server URL must start with http:// or https://');
    }
    this.base = url.href.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** The client's current profile token, or null when there is none. */
  async getToken(): Promise<ProfileTokenInfo | null> {
    try {
      return (await this.admin('GET', `token?${SCOPE}`)) as ProfileTokenInfo;
    } catch (error) {
      if (error instanceof AdminApiError && error.status === 404 && error.errorCode === 'TokenNotFound') return null;
      throw error;
    }
  }

  /** Generates a new profile token; the previous one stops working (after the grace period). */
  async generateToken(
    options: { expiresIn?: number; previousTokenGraceSeconds?: number } = {},
  ): Promise<ProfileTokenInfo> {
    const body: Record<string, number> = {};
    if (options.expiresIn !== undefined) body['expiresIn'] = options.expiresIn;
    if (options.previousTokenGraceSeconds !== undefined) {
      body['previousTokenGraceSeconds'] = options.previousTokenGraceSeconds;
    }
    return (await this.admin('POST', `token?${SCOPE}`, body)) as ProfileTokenInfo;
  }

  /** Revokes the profile token: none works until a new one is generated. */
  async revokeToken(): Promise<void> {
    await this.admin('DELETE', `token?${SCOPE}`);
  }

  /** The client's Require Authentication setting and token times. */
  async getSettings(): Promise<AuthenticationSettings> {
    return (await this.admin('GET', 'settings')) as AuthenticationSettings;
  }

  /** Turns Require Authentication on or off. */
  async setRequireAuthentication(on: boolean): Promise<AuthenticationSettings> {
    return (await this.admin('PUT', 'settings', { requireAuthentication: on })) as AuthenticationSettings;
  }

  /** Changes the settings given (API.md 3.2, 5): Require Authentication, the profile retention in days (null: forever), or both. */
  async updateSettings(change: {
    requireAuthentication?: boolean;
    profileRetentionDays?: number | null;
  }): Promise<AuthenticationSettings> {
    return (await this.admin('PUT', 'settings', change)) as AuthenticationSettings;
  }

  /** The newest audit events. */
  async getAudit(limit?: number): Promise<AdminAuditEvent[]> {
    const query = limit === undefined ? '' : `?limit=${encodeURIComponent(String(limit))}`;
    const body = (await this.admin('GET', `audit${query}`)) as { events: AdminAuditEvent[] };
    return body.events;
  }

  /**
   * Uploads a batch in Adobe's form (`batch=` then URL-encoded CSV, as
   * `application/x-www-form-urlencoded`) or as plain CSV (`text/csv`).
   */
  async uploadBatch(
    body: string | Uint8Array,
    options: BatchCallOptions & { contentType?: 'application/x-www-form-urlencoded' | 'text/csv' } = {},
  ): Promise<BatchSubmitted> {
    const path = `${this.profileBase(options)}/batchUpdate`;
    return (await this.request('POST', path, {
      body,
      contentType: options.contentType ?? 'application/x-www-form-urlencoded',
      bearer: options.profileToken,
    })) as BatchSubmitted;
  }

  /** A batch's status, with counters and failed rows when `showDetails` is set. */
  async getBatchStatus(
    batchId: string,
    options: BatchCallOptions & { showDetails?: boolean } = {},
  ): Promise<BatchStatus> {
    const details = options.showDetails === false ? '' : '&showDetails=true';
    const path = `${this.profileBase(options)}/batchStatus?batchId=${encodeURIComponent(batchId)}${details}`;
    return (await this.request('GET', path, { bearer: options.profileToken })) as BatchStatus;
  }

  private profileBase(options: BatchCallOptions): string {
    const client = encodeURIComponent(this.options.client);
    return options.v1 ? `/m2/${client}/profile` : `/m2/${client}/v2/profile`;
  }

  private admin(method: string, route: string, body?: unknown): Promise<unknown> {
    const path = `/${encodeURIComponent(this.options.client)}/target/authentication/${route}`;
    return this.request(method, path, {
      body: body === undefined ? undefined : JSON.stringify(body),
      contentType: body === undefined ? undefined : 'application/json',
      bearer: this.options.adminKey,
      route: 'admin',
    });
  }

  protected async request(
    method: string,
    path: string,
    init: {
      body?: string | Uint8Array | undefined;
      contentType?: string | undefined;
      bearer?: string | undefined;
      route?: 'admin' | 'profile';
    },
  ): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.contentType !== undefined) headers['content-type'] = init.contentType;
    if (init.bearer !== undefined && init.bearer !== '') headers['authorization'] = `Bearer ${init.bearer}`;
    const secrets = [this.options.adminKey ?? '', init.bearer ?? ''];
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.base}${path}`, {
        method,
        headers,
        body: init.body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new ServerUnreachableError(this.base, unreachableMessage(this.base, error));
    }
    let text: string;
    try {
      text = await res.text();
    } catch (error) {
      throw new ServerUnreachableError(this.base, unreachableMessage(this.base, error));
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok) throw errorFromResponse(res, parsed, secrets, init.route ?? 'profile');
    if (parsed === undefined && text !== '') {
      throw new AdminApiError(
        res.status,
        'InvalidResponse',
        `${method} ${path.split('?')[0]} did not answer JSON; is ${this.base} a Profilegate server?`,
      );
    }
    return parsed;
  }
}

export function errorFromResponse(
  res: Response,
  body: unknown,
  secrets: readonly string[],
  route: 'admin' | 'profile',
): AdminApiError {
  const fallback = `The server answered ${res.status} ${res.statusText}`.trim();
  if (typeof body === 'object' && body !== null) {
    const record = body as Record<string, unknown>;
    const first = Array.isArray(record['errors'])
      ? (record['errors'][0] as Record<string, unknown> | undefined)
      : undefined;
    if (first !== undefined) {
      const code = typeof first['errorCode'] === 'string' ? first['errorCode'] : `Http${res.status}`;
      return new AdminApiError(res.status, code, safeMessage(first['message'], secrets, fallback), route);
    }
    if ('message' in record) {
      return new AdminApiError(
        res.status,
        `Http${res.status}`,
        safeMessage(record['message'], secrets, fallback),
        route,
      );
    }
  }
  return new AdminApiError(res.status, `Http${res.status}`, fallback, route);
}

export function unreachableMessage(base: string, error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code =
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `${base} did not answer in time; check the server URL and that the server is running`;
  }
  if (code === 'ECONNREFUSED') return `Nothing is listening at ${base}; start the server or fix the server URL`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `Cannot resolve the host of ${base}; check the server URL`;
  return `Cannot reach ${base}${code === undefined ? '' : ` (${code})`}; check the server URL and your network`;
}
