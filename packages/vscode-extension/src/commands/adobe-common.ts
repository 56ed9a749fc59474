/**
 * Steps the Adobe Target commands share: the Adobe settings, the client secret (stored in
 * SecretStorage, or asked for in a password box naming where it is sent), the scope, the stored
 * token and its earlier tokens, and failures explained with the button that fixes them.
 */
import {
  ADOBE_AUTHORIZATION_SCOPES,
  AdminApiError,
  AdobeImsError,
  ServerUnreachableError,
  type AdobeAuthorizationScope,
} from '@profilegate/client';
import { adobeSecretKey, adobeTokenKeys, type AdobeSettings } from '../logic/adobe-settings';
import type { ExtensionSettings } from '../logic/settings';
import { COMMANDS, loadSettings, report } from './common';
import type { AdobeApi, CommandResult, CommandServices, MessageAction } from './ports';

/** Command ids of the Adobe client secret. */
export const ADOBE_COMMANDS = Object.freeze({
  setClientSecret: 'profilegate.setAdobeClientSecret',
  forgetClientSecret: 'profilegate.forgetAdobeClientSecret',
});

/** The Adobe settings, or undefined after telling the user what to fix. */
export function loadAdobeSettings(
  s: CommandServices,
): { settings: ExtensionSettings; adobe: AdobeSettings } | undefined {
  const settings = loadSettings(s);
  if (settings?.adobe === undefined) return undefined;
  return { settings, adobe: settings.adobe };
}

/** A client secret to call Adobe with; `typed` when the user just typed it (not yet stored). */
export interface ClientSecret {
  value: string;
  typed: boolean;
}

/** Asks for the client secret in a password box naming where it goes. */
export async function askClientSecret(s: CommandServices, adobe: AdobeSettings): Promise<string | undefined> {
  const answer = await s.ui().askSecret({
    title: 'Profilegate: Adobe Client Secret',
    prompt: `Client secret of the OAuth Server-to-Server credential ${adobe.clientId} (sent only to ${adobe.imsUrl}; kept in VS Code's secret storage)`,
    placeHolder: 'From the Adobe Developer Console: your project → OAuth Server-to-Server → Client secret',
    validate: (value) => (value.trim() === '' ? 'Type or paste the client secret' : undefined),
  });
  const secret = answer?.trim();
  return secret === undefined || secret === '' ? undefined : secret;
}

/** The stored client secret, or one asked for now; undefined when cancelled. */
export async function obtainClientSecret(s: CommandServices, adobe: AdobeSettings): Promise<ClientSecret | undefined> {
  const stored = await s.secrets.get(adobeSecretKey(adobe));
  if (stored !== undefined && stored !== '') return { value: stored, typed: false };
  const typed = await askClientSecret(s, adobe);
  return typed === undefined ? undefined : { value: typed, typed: true };
}

/** Stores a secret the user typed, once Adobe has accepted it. */
export async function keepClientSecret(s: CommandServices, adobe: AdobeSettings, secret: ClientSecret): Promise<void> {
  if (!secret.typed) return;
  await s.secrets.store(adobeSecretKey(adobe), secret.value);
  s.log(`Stored the Adobe client secret of credential ${adobe.clientId}`);
}

/** The scopes in use: the configured one, or both when Generate asks. */
export function scopesInUse(adobe: AdobeSettings): AdobeAuthorizationScope[] {
  return adobe.authorizationScope === 'ask' ? [...ADOBE_AUTHORIZATION_SCOPES] : [adobe.authorizationScope];
}

/** The configured scope, or the one picked now (undefined when the pick was dismissed). */
export async function chooseScope(
  s: CommandServices,
  adobe: AdobeSettings,
): Promise<AdobeAuthorizationScope | undefined> {
  if (adobe.authorizationScope !== 'ask') return adobe.authorizationScope;
  return s.ui().pick<AdobeAuthorizationScope>({
    title: `Profilegate: Adobe Target tenant ${adobe.tenant}`,
    placeHolder: 'Which token?',
    items: [
      { label: 'profile_api', description: 'Profile API token (profile fetch and update calls)', value: 'profile_api' },
      {
        label: 'debug_tools',
        description: 'Debug token (mbox trace, Adobe Experience Cloud Debugger)',
        value: 'debug_tools',
      },
    ],
  });
}

/** The token stored for a scope, and the earlier tokens kept from earlier rotations. */
export async function storedAdobeTokens(
  s: CommandServices,
  adobe: AdobeSettings,
  scope: AdobeAuthorizationScope,
): Promise<{ stored: string | undefined; history: string[] }> {
  const keys = adobeTokenKeys(adobe, scope);
  const stored = await s.secrets.get(keys.token);
  let history: string[] = [];
  try {
    const parsed = JSON.parse((await s.secrets.get(keys.history)) ?? '[]') as unknown;
    if (Array.isArray(parsed)) history = parsed.filter((t): t is string => typeof t === 'string' && t !== '');
  } catch {
    history = [];
  }
  return { stored: stored === '' ? undefined : stored, history };
}

/** Stores the current token of a scope and the earlier tokens to look for next time. */
export async function storeAdobeTokens(
  s: CommandServices,
  adobe: AdobeSettings,
  scope: AdobeAuthorizationScope,
  token: string,
  history: readonly string[],
): Promise<void> {
  const keys = adobeTokenKeys(adobe, scope);
  await s.secrets.store(keys.token, token);
  await s.secrets.store(keys.history, JSON.stringify(history));
}

/** The Adobe API for this credential. */
export function adobeApi(s: CommandServices, adobe: AdobeSettings, secret: ClientSecret): AdobeApi {
  return s.createAdobe(adobe, secret.value);
}

/** Reports a failed Adobe call (nothing was stored or changed); `resume` runs again after Set Adobe Client Secret…. */
export function adobeFailed(
  s: CommandServices,
  error: unknown,
  adobe: AdobeSettings,
  doing: string,
  resume?: string,
): CommandResult {
  const reason = error instanceof Error ? error.message : String(error);
  const setSecret: MessageAction = {
    title: 'Set Adobe Client Secret…',
    run: () =>
      resume === undefined
        ? s.workbench.executeCommand(ADOBE_COMMANDS.setClientSecret)
        : s.workbench.executeCommand(ADOBE_COMMANDS.setClientSecret, { resume }),
  };
  const openSettings = (setting: string): MessageAction => ({
    title: 'Open Settings',
    run: () => s.workbench.openSettings(setting),
  });
  let message: string;
  let actions: MessageAction[] = [];
  if (error instanceof AdobeImsError) {
    message = `Could not ${doing}: ${reason}.`;
    actions = error.errorCode === 'invalid_scope' ? [openSettings('profilegate.adobe.scopes')] : [setSecret];
  } else if (error instanceof ServerUnreachableError) {
    message = `Could not ${doing}: ${reason}.`;
    actions = [openSettings(reason.includes(adobe.imsUrl) ? 'profilegate.adobe.imsUrl' : 'profilegate.adobe.adminUrl')];
  } else if (error instanceof AdminApiError) {
    message = `Could not ${doing} of Adobe Target tenant ${adobe.tenant}: ${reason}.`;
    actions = error.status === 404 ? [openSettings('profilegate.adobe.tenant')] : [setSecret];
  } else {
    message = `Could not ${doing}: ${reason}.`;
  }
  return { outcome: 'failed', message: report(s, 'error', message, actions) };
}

/** The commands an Adobe Target target cannot do, and why (they are hidden from the palette too). */
export const NOT_FOR_ADOBE: Readonly<Record<string, string>> = Object.freeze({
  [COMMANDS.revokeToken]:
    'Adobe Target has no revoke route: a token stops working when a new one is generated. Run Profilegate: Generate New Profile Authentication Token to replace it.',
  [COMMANDS.toggleAuthentication]:
    'Require Authentication is a Profilegate server setting; Adobe Target turns token authentication on in its own UI (Administration → Implementation).',
  [COMMANDS.updateStoredToken]:
    'Adobe Target tokens are read from Adobe with the client secret: run Profilegate: Replace Old Tokens in Workspace to store Adobe’s current token and put it in your files.',
  [COMMANDS.setAdminKey]:
    'The admin key is for a Profilegate server; Adobe Target uses the OAuth Server-to-Server credential: run Profilegate: Set Adobe Client Secret….',
  [COMMANDS.forgetAdminKey]:
    'The admin key is for a Profilegate server; for Adobe Target run Profilegate: Forget Adobe Client Secret.',
  [COMMANDS.adoptWorkspaceToken]:
    'Adobe Target tokens are opaque, so they are never guessed from your files: the token read from Adobe before each rotation is the one replaced.',
});

/** Explains why a command does not apply to an Adobe Target target. */
export function notForAdobe(s: CommandServices, command: string): CommandResult {
  const why = NOT_FOR_ADOBE[command] ?? 'This command works with a Profilegate server only.';
  const message = `${why} (profilegate.target is "adobe".)`;
  return {
    outcome: 'cancelled',
    message: report(s, 'info', message, [
      { title: 'Open Settings', run: () => s.workbench.openSettings('profilegate.target') },
    ]),
  };
}
