import {
  DEFAULT_ADOBE_ADMIN_URL,
  DEFAULT_ADOBE_IMS_SCOPES,
  DEFAULT_ADOBE_IMS_URL,
  type AdobeTargetClientOptions,
} from './adobe-client';

/** The environment variables that choose an Adobe Target target for the CLI. */
export const ADOBE_ENV = {
  tenant: 'PROFILEGATE_ADOBE_TENANT',
  clientId: 'PROFILEGATE_ADOBE_CLIENT_ID',
  clientSecret: 'PROFILEGATE_ADOBE_CLIENT_SECRET',
  scopes: 'PROFILEGATE_ADOBE_SCOPES',
  imsUrl: 'PROFILEGATE_ADOBE_IMS_URL',
  adminUrl: 'PROFILEGATE_ADOBE_ADMIN_URL',
} as const;

/** A PROFILEGATE_ADOBE_* variable is missing or wrong; `variable` names it. */
export class AdobeConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdobeConfigError';
  }
}

/**
 * The Adobe Target client options the PROFILEGATE_ADOBE_* variables give, or null when none of
 * them is set (the target is then a Profilegate server). Throws AdobeConfigError naming the first
 * variable that is missing or wrong; the secret's value never appears in a message.
 *
 * PROFILEGATE_ADOBE_SCOPES: IMS scopes separated by commas and/or spaces (default: the scopes the
 * Developer Console lists for an Adobe Target OAuth Server-to-Server credential).
 */
export function adobeTargetFromEnv(env: Readonly<Record<string, string | undefined>>): AdobeTargetClientOptions | null {
  const value = (name: string) => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  };
  if (Object.values(ADOBE_ENV).every((name) => value(name) === undefined)) return null;

  const required = (name: string, what: string) => {
    const found = value(name);
    if (found === undefined) throw new AdobeConfigError(name, `Set ${name} to ${what}`);
    return found;
  };
  const tenant = required(ADOBE_ENV.tenant, 'your Adobe Target tenant (the client code, e.g. acme)');
  if (!/^[A-Za-z0-9_.-]+$/.test(tenant)) {
    throw new AdobeConfigError(
      ADOBE_ENV.tenant,
      `${ADOBE_ENV.tenant} must be a Target client code (letters, digits, _ . -)`,
    );
  }
  const clientId = required(ADOBE_ENV.clientId, 'the client id of your OAuth Server-to-Server credential');
  const clientSecret = required(ADOBE_ENV.clientSecret, 'the client secret of your OAuth Server-to-Server credential');

  const rawScopes = value(ADOBE_ENV.scopes);
  const scopes =
    rawScopes === undefined ? [...DEFAULT_ADOBE_IMS_SCOPES] : rawScopes.split(/[\s,]+/).filter((s) => s !== '');
  if (scopes.length === 0) {
    throw new AdobeConfigError(ADOBE_ENV.scopes, `${ADOBE_ENV.scopes} holds no scope; unset it for the default`);
  }
  const url = (name: string, fallback: string) => {
    const raw = value(name) ?? fallback;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new AdobeConfigError(name, `${name} is not a URL: ${JSON.stringify(raw.slice(0, 100))}`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new AdobeConfigError(name, `${name} must start with https:// (or http:// for a local emulation)`);
    }
    return parsed.href.replace(/\/+$/, '');
  };
  return {
    tenant,
    clientId,
    clientSecret,
    scopes,
    imsUrl: url(ADOBE_ENV.imsUrl, DEFAULT_ADOBE_IMS_URL),
    adminUrl: url(ADOBE_ENV.adminUrl, DEFAULT_ADOBE_ADMIN_URL),
  };
}
