/**
 * Steps every command shares: reading the settings, getting the admin key (stored, or asked for
 * in a password box), reporting a failure with the button that fixes it, and a lock so two
 * rotations never run at once.
 */
import { describeFailure, type Fix, type Operation } from '../logic/failures';
import { scrubTokens } from '../logic/messages';
import { secretKeys, type ExtensionSettings } from '../logic/settings';
import type { CommandResult, CommandServices, MessageAction, MessageLevel } from './ports';

/** Command ids, as package.json declares them. */
export const COMMANDS = Object.freeze({
  generateToken: 'profilegate.generateToken',
  updateStoredToken: 'profilegate.updateStoredToken',
  replaceOldTokens: 'profilegate.replaceOldTokens',
  toggleAuthentication: 'profilegate.toggleAuthentication',
  revokeToken: 'profilegate.revokeToken',
  showTokenStatus: 'profilegate.showTokenStatus',
  setAdminKey: 'profilegate.setAdminKey',
  forgetAdminKey: 'profilegate.forgetAdminKey',
  adoptWorkspaceToken: 'profilegate.adoptWorkspaceToken',
  getStarted: 'profilegate.getStarted',
});

/** The context keys of package.json's `when` clauses (set by the status bar's refresh). */
export const CONTEXT_KEYS = Object.freeze({
  /** An admin key is stored for the current server URL and client. */
  adminKeyStored: 'profilegate.adminKeyStored',
  /** A profile token is stored for the current server URL and client. */
  tokenStored: 'profilegate.tokenStored',
  /** profilegate.target is adobe: the commands Adobe cannot do are hidden. */
  adobeTarget: 'profilegate.adobeTarget',
  /** An Adobe client secret is stored for the configured credential. */
  adobeClientSecretStored: 'profilegate.adobeClientSecretStored',
});

/** The commands Set Admin Key… may resume once the key is stored (the ones that need a key). */
export const RESUMABLE: ReadonlySet<string> = new Set([
  COMMANDS.generateToken,
  COMMANDS.replaceOldTokens,
  COMMANDS.toggleAuthentication,
  COMMANDS.revokeToken,
  COMMANDS.showTokenStatus,
]);

/** Shows `message` (scrubbed of tokens) and logs it; returns it for the command's result. */
export function report(
  s: CommandServices,
  level: MessageLevel,
  message: string,
  actions: readonly MessageAction[] = [],
): string {
  const safe = scrubTokens(message);
  s.log(`${level}: ${safe}`);
  s.ui().show(level, safe, actions);
  return safe;
}

/**
 * The button that carries out a fix. Set Admin Key… resumes `resume` (the command that failed)
 * once the new key is stored, so the user does not start it again.
 */
export function fixAction(s: CommandServices, fix: Fix, resume?: string): MessageAction[] {
  switch (fix) {
    case 'set-admin-key':
      return [
        {
          title: 'Set Admin Key…',
          run: () =>
            resume === undefined
              ? s.workbench.executeCommand(COMMANDS.setAdminKey)
              : s.workbench.executeCommand(COMMANDS.setAdminKey, { resume }),
        },
      ];
    case 'open-server-setting':
      return [{ title: 'Open Settings', run: () => s.workbench.openSettings('profilegate.serverUrl') }];
    case 'open-client-setting':
      return [{ title: 'Open Settings', run: () => s.workbench.openSettings('profilegate.client') }];
    default:
      return [];
  }
}

/**
 * Reports a failed server call; nothing has been stored or changed when this is called. `resume`:
 * the command to run again once Set Admin Key… (the button of a refused key) has stored a key.
 */
export function failed(
  s: CommandServices,
  error: unknown,
  settings: ExtensionSettings,
  operation: Operation,
  resume?: string,
): CommandResult {
  const { message, fix } = describeFailure(error, { operation, ...settings });
  return { outcome: 'failed', message: report(s, 'error', message, fixAction(s, fix, resume)) };
}

/** The validated settings, or undefined after telling the user what to fix. */
export function loadSettings(s: CommandServices): ExtensionSettings | undefined {
  const result = s.readSettings();
  if (result.ok) return result.settings;
  report(s, 'error', `Fix the Profilegate settings first: ${result.problems.join('; ')}.`, [
    { title: 'Open Settings', run: () => s.workbench.openSettings(result.setting) },
  ]);
  return undefined;
}

/** An admin key to call the server with; `typed` when the user just typed it (not yet stored). */
export interface AdminKey {
  value: string;
  typed: boolean;
}

/** The stored admin key of this server and client, or one asked for now; undefined when cancelled. */
export async function obtainAdminKey(s: CommandServices, settings: ExtensionSettings): Promise<AdminKey | undefined> {
  const stored = await s.secrets.get(secretKeys(settings).adminKey);
  if (stored !== undefined && stored !== '') return { value: stored, typed: false };
  const typed = await askAdminKey(s, settings);
  return typed === undefined ? undefined : { value: typed, typed: true };
}

/** Asks for an admin key in a password box naming the server it goes to. */
export async function askAdminKey(s: CommandServices, settings: ExtensionSettings): Promise<string | undefined> {
  const answer = await s.ui().askSecret({
    title: 'Profilegate: Admin Key',
    prompt: `Admin key for client ${settings.client} on ${settings.serverUrl} (kept in VS Code's secret storage)`,
    placeHolder: 'The key sent as Authorization: Bearer <admin key> to the admin API',
    validate: (value) => (value.trim() === '' ? 'Type or paste the admin key' : undefined),
  });
  const key = answer?.trim();
  return key === undefined || key === '' ? undefined : key;
}

/** Stores a key the user typed, once a server call has accepted it. */
export async function keepAdminKey(s: CommandServices, settings: ExtensionSettings, key: AdminKey): Promise<void> {
  if (!key.typed) return;
  await s.secrets.store(secretKeys(settings).adminKey, key.value);
  s.log(`Stored the admin key for client ${settings.client} on ${settings.serverUrl}`);
}

/** A cancelled command: nothing happened, nothing to say. */
export function cancelled(s: CommandServices, what: string): CommandResult {
  s.log(`${what}: cancelled`);
  return { outcome: 'cancelled' };
}

/** Runs one token-changing command at a time: a second one is refused with a message. */
export class Exclusive {
  private running: string | undefined;

  /** True while a token-changing command runs. */
  busy(): boolean {
    return this.running !== undefined;
  }

  async run(s: CommandServices, name: string, task: () => Promise<CommandResult>): Promise<CommandResult> {
    if (this.running !== undefined) {
      const message = report(
        s,
        'warning',
        `Profilegate is still running "${this.running}"; wait for it to finish, then try again.`,
      );
      return { outcome: 'cancelled', message };
    }
    this.running = name;
    try {
      return await task();
    } catch (error) {
      // A bug, not a server refusal: say so plainly rather than leave the command silent.
      const reason = error instanceof Error ? error.message : String(error);
      return { outcome: 'failed', message: report(s, 'error', `${name} failed unexpectedly: ${reason}`) };
    } finally {
      this.running = undefined;
    }
  }
}
