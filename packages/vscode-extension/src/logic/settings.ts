/**
 * The extension's settings (`profilegate.*`), validated once per command: every problem is a
 * sentence naming the setting and what to put there. No `vscode` import: the adapter passes the
 * raw values it read from the configuration.
 */
import { DEFAULT_EXCLUDES, isValidClientCode } from '@profilegate/client';
import {
  readAdobeSettings,
  readTargetKind,
  type AdobeSettings,
  type RawAdobeSettings,
  type TargetKind,
} from './adobe-settings';

/** Settings after validation, in the units the server takes. */
export interface ExtensionSettings {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:8080`. */
  serverUrl: string;
  client: string;
  /** Lifetime of a generated token, in seconds. */
  expiresInSeconds: number;
  previousTokenGraceSeconds: number;
  /** Glob of files never searched, or undefined to search every file. */
  exclude: string | undefined;
  previewChanges: boolean;
  expiryWarningDays: number;
  /** What is rotated: the Profilegate server's token (default) or an Adobe Target token. */
  target: TargetKind;
  /** The Adobe Target settings; set only when `target` is `adobe`. */
  adobe?: AdobeSettings;
}

/** The raw values as read from the configuration (anything a user may have typed in JSON). */
export interface RawSettings extends RawAdobeSettings {
  serverUrl?: unknown;
  client?: unknown;
  tokenExpiresInDays?: unknown;
  previousTokenGraceSeconds?: unknown;
  filesExclude?: unknown;
  previewChanges?: unknown;
  expiryWarningDays?: unknown;
}

/** Outcome of readSettings: the settings, or the problems to fix (each names its setting). */
export type SettingsResult =
  { ok: true; settings: ExtensionSettings } | { ok: false; problems: string[]; setting: string };

/** Defaults, as declared in package.json. */
export const SETTING_DEFAULTS = Object.freeze({
  serverUrl: 'http://127.0.0.1:8080',
  client: 'demo',
  tokenExpiresInDays: 90,
  previousTokenGraceSeconds: 0,
  filesExclude: DEFAULT_EXCLUDES[0] as string,
  // Off: the Refactor Preview shows a rotation's edits unticked, and a hurried Apply would leave
  // every copy holding a token that no longer works (issue 14).
  previewChanges: false,
  expiryWarningDays: 7,
});

const DAY_SECONDS = 86_400;

/** `http://host:port/path` without trailing slashes; null when not an http(s) URL. */
export function normalizeServerUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username !== '' || url.password !== '') return null;
  url.hash = '';
  url.search = '';
  return url.href.replace(/\/+$/, '');
}

function shortQuote(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `"${(text ?? String(value)).slice(0, 60)}"`;
}

/** A problem with one setting. */
interface Problem {
  setting: string;
  text: string;
}

function isUnset(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

function integerIn(
  value: unknown,
  defaults: { fallback: number; min: number; max: number },
  name: string,
  unit: string,
  problems: Problem[],
): number {
  const { fallback, min, max } = defaults;
  if (isUnset(value)) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push({
      setting: `profilegate.${name}`,
      text: `profilegate.${name} must be a whole number of ${unit} from ${min} to ${max} (it is ${shortQuote(value)})`,
    });
    return fallback;
  }
  return value;
}

function readServerUrl(value: unknown, problems: Problem[]): string {
  const text = isUnset(value) ? SETTING_DEFAULTS.serverUrl : value;
  const setting = 'profilegate.serverUrl';
  if (typeof text !== 'string' || text.trim() === '') {
    problems.push({
      setting,
      text: 'profilegate.serverUrl is empty; set it to your Profilegate server, e.g. http://127.0.0.1:8080',
    });
    return '';
  }
  const url = normalizeServerUrl(text);
  if (url === null) {
    problems.push({
      setting,
      text: `profilegate.serverUrl must be an http:// or https:// URL without a user name or password (it is ${shortQuote(text)})`,
    });
    return '';
  }
  return url;
}

function readClient(value: unknown, problems: Problem[]): string {
  const text = isUnset(value) ? SETTING_DEFAULTS.client : value;
  const client = typeof text === 'string' ? text.trim() : '';
  if (!isValidClientCode(client)) {
    problems.push({
      setting: 'profilegate.client',
      text: `profilegate.client must be a client code: 1 to 64 characters of a-z, 0-9 and "-", starting with a letter or digit (it is ${shortQuote(text)})`,
    });
  }
  return client;
}

function readExclude(value: unknown, problems: Problem[]): string | undefined {
  if (isUnset(value)) return SETTING_DEFAULTS.filesExclude;
  if (typeof value !== 'string') {
    problems.push({
      setting: 'profilegate.files.exclude',
      text: `profilegate.files.exclude must be a glob string such as ${SETTING_DEFAULTS.filesExclude}`,
    });
    return SETTING_DEFAULTS.filesExclude;
  }
  return value.trim() === '' ? undefined : value.trim();
}

function readBoolean(value: unknown, fallback: boolean, name: string, problems: Problem[]): boolean {
  if (isUnset(value)) return fallback;
  if (typeof value !== 'boolean') {
    problems.push({ setting: `profilegate.${name}`, text: `profilegate.${name} must be true or false` });
    return fallback;
  }
  return value;
}

/** Validates the raw settings; unset values take their defaults. */
export function readSettings(raw: RawSettings): SettingsResult {
  const problems: Problem[] = [];
  const settings: ExtensionSettings = {
    serverUrl: readServerUrl(raw.serverUrl, problems),
    client: readClient(raw.client, problems),
    expiresInSeconds:
      integerIn(raw.tokenExpiresInDays, { fallback: 90, min: 1, max: 365 }, 'tokenExpiresInDays', 'days', problems) *
      DAY_SECONDS,
    previousTokenGraceSeconds: integerIn(
      raw.previousTokenGraceSeconds,
      { fallback: 0, min: 0, max: 86_400 },
      'previousTokenGraceSeconds',
      'seconds',
      problems,
    ),
    exclude: readExclude(raw.filesExclude, problems),
    previewChanges: readBoolean(raw.previewChanges, SETTING_DEFAULTS.previewChanges, 'previewChanges', problems),
    expiryWarningDays: integerIn(
      raw.expiryWarningDays,
      { fallback: 7, min: 0, max: 365 },
      'expiryWarningDays',
      'days',
      problems,
    ),
    target: readTargetKind(raw.target, problems),
  };
  if (settings.target === 'adobe') settings.adobe = readAdobeSettings(raw, problems);
  const first = problems[0];
  if (first !== undefined) return { ok: false, problems: problems.map((p) => p.text), setting: first.setting };
  return { ok: true, settings };
}

/** Keys under which SecretStorage keeps the admin key and the token of one server and client. */
export function secretKeys(settings: Pick<ExtensionSettings, 'serverUrl' | 'client'>): {
  adminKey: string;
  token: string;
} {
  const slot = `${settings.serverUrl}#${settings.client}`;
  return { adminKey: `profilegate.adminKey:${slot}`, token: `profilegate.token:${slot}` };
}
