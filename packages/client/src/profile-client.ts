import {
  AdminApiError,
  AdminClient,
  ServerUnreachableError,
  errorFromResponse,
  unreachableMessage,
} from './admin-client';

/**
 * Typed calls of the profile routes beyond the admin API: fetch and delete one profile (API.md
 * 2.4 and 5, behind the bearer gate) and the export of every profile of the client (5, an admin
 * route), streamed.
 */

/** How a profile is named: its pcId, its thirdPartyId or its Experience Cloud ID. */
export type ProfileIdKind = 'pcId' | 'thirdPartyId' | 'marketingCloudVisitorId';

/** A profile as the fetch routes answer it (API.md 2.4). */
export interface FetchedProfile {
  client: string;
  visitorId: string;
  thirdPartyId?: string;
  marketingCloudVisitorId?: string;
  modifiedAt: string;
  profileAttributes: Record<string, { value: string; modifiedAt: string }>;
}

/** What `exportProfiles` asks for. */
export interface ExportCallOptions {
  format: 'ndjson' | 'csv';
  /** The CSV key column (default pcId); with thirdPartyId only profiles that have one. */
  key?: 'pcId' | 'thirdPartyId';
  /** Stops the download. */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait for the answer to start (default 5 minutes, undici's own limit): a CSV
   * export starts once the server has read every profile for the header's attribute names.
   */
  startTimeoutMs?: number;
}

/** An export under way: its media type and its body, chunk by chunk as the server sends it. */
export interface ExportDownload {
  contentType: string;
  body: AsyncIterable<Uint8Array>;
}

/** The admin client plus the profile routes. */
export class ProfileClient extends AdminClient {
  /** The profile `id` names (of kind `kind`); a 404 (no such profile) is an AdminApiError. */
  async getProfile(kind: ProfileIdKind, id: string, profileToken?: string): Promise<FetchedProfile> {
    return (await this.request('GET', this.profilePath(kind, id), { bearer: profileToken })) as FetchedProfile;
  }

  /** Deletes the profile `id` names, with its attributes and id links; a 404 is an AdminApiError. */
  async deleteProfile(kind: ProfileIdKind, id: string, profileToken?: string): Promise<void> {
    await this.request('DELETE', this.profilePath(kind, id), { bearer: profileToken });
  }

  /**
   * Starts the export and returns its body as it arrives (memory stays at one chunk). A refusal
   * (400, 403, 409…) is an AdminApiError before any byte; `startTimeoutMs` covers the wait for
   * the answer to start, not the download.
   */
  async exportProfiles(options: ExportCallOptions): Promise<ExportDownload> {
    const query = `format=${encodeURIComponent(options.format)}${options.key ? `&key=${encodeURIComponent(options.key)}` : ''}`;
    const path = `/${encodeURIComponent(this.options.client)}/target/profiles/export?${query}`;
    const headers: Record<string, string> = {};
    const adminKey = this.options.adminKey;
    if (adminKey !== undefined && adminKey !== '') headers['authorization'] = `Bearer ${adminKey}`;
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new DOMException('timeout', 'TimeoutError')),
      options.startTimeoutMs ?? 300_000,
    );
    const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.base}${path}`, { method: 'GET', headers, signal });
    } catch (error) {
      throw new ServerUnreachableError(this.base, unreachableMessage(this.base, timeout.signal.reason ?? error));
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await res.text());
      } catch {
        parsed = undefined;
      }
      throw errorFromResponse(res, parsed, [adminKey ?? ''], 'admin');
    }
    if (res.body === null) throw new AdminApiError(res.status, 'InvalidResponse', 'The export answered no body');
    const body = res.body;
    const base = this.base;
    return {
      contentType: res.headers.get('content-type') ?? '',
      body: (async function* () {
        try {
          for await (const chunk of body) yield chunk;
        } catch (error) {
          if (options.signal?.aborted) throw error;
          throw new ServerUnreachableError(
            base,
            `The export stopped before its end: ${unreachableMessage(base, error)}`,
          );
        }
      })(),
    };
  }

  private profilePath(kind: ProfileIdKind, id: string): string {
    const where = kind === 'pcId' ? '' : `${kind}/`;
    return `/rest/v1/profiles/${where}${encodeURIComponent(id)}?client=${encodeURIComponent(this.options.client)}`;
  }
}
