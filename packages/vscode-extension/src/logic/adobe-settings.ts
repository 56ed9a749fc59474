/**
 * The Adobe Target target's settings (`profilegate.target` = `adobe`, `profilegate.adobe.*`),
 * validated like the others: every problem names its setting. The client secret is never a
 * setting: it lives in SecretStorage only. No `vscode` import.
 */
import {
  ADOBE_AUTHORIZATION_SCOPES,
  DEFAULT_ADOBE_ADMIN_URL,
  DEFAULT_ADOBE_IMS_SCOPES,
  DEFAULT_ADOBE_IMS_URL,
  type AdobeAuthorizationScope,
} from '@profilegate/client';

/** What the extension rotates: a Profilegate server's token or an Adobe Target token. */
export type TargetKind = 'profilegate' | 'adobe';

/** `profilegate.adobe.authorizationScope`: one scope, or `ask` (Generate asks which). */
export type AdobeScopeSetting = AdobeAuthorizationScope | 'ask';

/** The validated Adobe settings. */
export interface AdobeSettings {
  tenant: string;
  clientId: string;
  /** IMS scopes asked for. */
  scopes: string[];
  /** Base URLs without a trailing slash. */
  imsUrl: string;
  adminUrl: string;
  authorizationScope: AdobeScopeSetting;
}

/** The raw `profilegate.target` and `profilegate.adobe.*` values. */
export interface RawAdobeSettings {
  target?: unknown;
  adobeTenant?: unknown;
  adobeClientId?: unknown;
  adobeScopes?: unknown;
  adobeImsUrl?: unknown;
  adobeAdminUrl?: unknown;
  adobeAuthorizationScope?: unknown;
}

/** A problem with one setting. */
export interface AdobeProblem {
  setting: string;
  text: string;
}

const TENANT = /^[A-Za-z0-9_.-]+$/;

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

function url(value: unknown, fallback: string, name: string, problems: AdobeProblem[]): string {
  const raw = value === undefined || value === null || text(value) === '' ? fallback : text(value);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    problems.push({ setting: name, text: `${name} must be an https:// URL (it is "${raw.slice(0, 60)}")` });
    return fallback;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    problems.push({ setting: name, text: `${name} must start with https:// (or http:// for a local emulation)` });
    return fallback;
  }
  if (parsed.username !== '' || parsed.password !== '') {
    problems.push({ setting: name, text: `${name} must not hold a user name or password` });
    return fallback;
  }
  return parsed.href.replace(/\/+$/, '');
}

/** The target kind; anything but `adobe` is a Profilegate server. */
export function readTargetKind(value: unknown, problems: AdobeProblem[]): TargetKind {
  if (value === undefined || value === null || value === 'profilegate') return 'profilegate';
  if (value === 'adobe') return 'adobe';
  problems.push({
    setting: 'profilegate.target',
    text: `profilegate.target must be "profilegate" or "adobe" (it is ${JSON.stringify(value)})`,
  });
  return 'profilegate';
}

/** Validates the Adobe settings (read only when the target is Adobe). */
export function readAdobeSettings(raw: RawAdobeSettings, problems: AdobeProblem[]): AdobeSettings {
  const tenant = text(raw.adobeTenant);
  if (!TENANT.test(tenant)) {
    problems.push({
      setting: 'profilegate.adobe.tenant',
      text:
        tenant === ''
          ? 'profilegate.adobe.tenant is empty; set it to your Adobe Target tenant (the client code, e.g. acme)'
          : 'profilegate.adobe.tenant must be your Target client code (letters, digits, _ . -)',
    });
  }
  const clientId = text(raw.adobeClientId);
  if (clientId === '') {
    problems.push({
      setting: 'profilegate.adobe.clientId',
      text: 'profilegate.adobe.clientId is empty; set it to the client id of your OAuth Server-to-Server credential',
    });
  }
  let scopes = [...DEFAULT_ADOBE_IMS_SCOPES];
  if (Array.isArray(raw.adobeScopes) && raw.adobeScopes.length > 0) {
    scopes = raw.adobeScopes.map(text).filter((s) => s !== '');
  } else if (typeof raw.adobeScopes === 'string' && raw.adobeScopes.trim() !== '') {
    scopes = raw.adobeScopes.split(/[\s,]+/).filter((s) => s !== '');
  }
  if (scopes.length === 0) scopes = [...DEFAULT_ADOBE_IMS_SCOPES];
  let authorizationScope: AdobeScopeSetting = 'profile_api';
  const scopeValue = raw.adobeAuthorizationScope;
  if (scopeValue === 'ask' || ADOBE_AUTHORIZATION_SCOPES.includes(scopeValue as AdobeAuthorizationScope)) {
    authorizationScope = scopeValue as AdobeScopeSetting;
  } else if (scopeValue !== undefined && scopeValue !== null) {
    problems.push({
      setting: 'profilegate.adobe.authorizationScope',
      text: 'profilegate.adobe.authorizationScope must be "profile_api", "debug_tools" or "ask"',
    });
  }
  return {
    tenant,
    clientId,
    scopes,
    imsUrl: url(raw.adobeImsUrl, DEFAULT_ADOBE_IMS_URL, 'profilegate.adobe.imsUrl', problems),
    adminUrl: url(raw.adobeAdminUrl, DEFAULT_ADOBE_ADMIN_URL, 'profilegate.adobe.adminUrl', problems),
    authorizationScope,
  };
}

/** Where SecretStorage keeps the client secret of a credential. */
export function adobeSecretKey(adobe: Pick<AdobeSettings, 'imsUrl' | 'clientId'>): string {
  return `profilegate.adobeClientSecret:${adobe.imsUrl}#${adobe.clientId}`;
}

/** Where SecretStorage keeps the token of one tenant and scope, and its earlier tokens (a JSON array). */
export function adobeTokenKeys(
  adobe: Pick<AdobeSettings, 'adminUrl' | 'tenant'>,
  scope: AdobeAuthorizationScope,
): { token: string; history: string } {
  const slot = `${adobe.adminUrl}#${adobe.tenant}#${scope}`;
  return { token: `profilegate.adobeToken:${slot}`, history: `profilegate.adobeHistory:${slot}` };
}

/** `Adobe Target tenant acme (profile_api)`. */
export function adobeLabel(adobe: Pick<AdobeSettings, 'tenant'>, scope: AdobeAuthorizationScope): string {
  return `Adobe Target tenant ${adobe.tenant} (${scope})`;
}
