import { AdminApiError } from '../admin-client';

/**
 * Adobe IMS refused to give an access token: `errorCode` is IMS's `error` (e.g. `invalid_client`
 * for a wrong client id or secret, `invalid_scope`). An AdminApiError, so front ends that report
 * those report it too; the message never holds the secret.
 */
export class AdobeImsError extends AdminApiError {
  constructor(status: number, errorCode: string, message: string) {
    super(status, errorCode, message);
    this.name = 'AdobeImsError';
  }
}

/** `text` with every secret of 8 characters or more replaced, cut to 500 characters. */
export function redact(text: string, secrets: readonly string[]): string {
  let message = text.trim();
  for (const secret of secrets) if (secret.length >= 8) message = message.split(secret).join('[redacted]');
  return message.length > 500 ? `${message.slice(0, 497)}...` : message;
}

/** The Admin API's refusal (`{httpStatus, requestId, requestTime, errors: [{errorCode, message}]}`). */
export function adobeErrorFromResponse(
  res: Response,
  body: unknown,
  secrets: readonly string[],
  base: string,
): AdminApiError {
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const first = Array.isArray(record['errors'])
    ? (record['errors'][0] as Record<string, unknown> | undefined)
    : undefined;
  const code =
    typeof first?.['errorCode'] === 'string'
      ? first['errorCode']
      : typeof record['error_code'] === 'string'
        ? record['error_code']
        : `Http${res.status}`;
  const said =
    typeof first?.['message'] === 'string'
      ? first['message']
      : typeof record['message'] === 'string'
        ? record['message']
        : `${res.status} ${res.statusText}`.trim();
  return new AdminApiError(res.status, code, `${advice(res.status, base)}: ${redact(said, secrets)}`);
}

function advice(status: number, base: string): string {
  if (status === 401) return `${base} did not accept the access token`;
  if (status === 403) {
    return `${base} refused: the credential may not use this tenant or the Adobe Target API (check the product profile and X-Api-Key)`;
  }
  if (status === 404) return `${base} has no such tenant or token`;
  return `${base} answered ${status}`;
}

/** A readable reason a request did not reach `base`. */
export function unreachableMessage(base: string, error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code =
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `${base} did not answer in time; check the URL and your network`;
  }
  if (code === 'ECONNREFUSED') return `Nothing is listening at ${base}; check the URL`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `Cannot resolve the host of ${base}; check the URL`;
  return `Cannot reach ${base}${code === undefined ? '' : ` (${code})`}; check the URL and your network`;
}
