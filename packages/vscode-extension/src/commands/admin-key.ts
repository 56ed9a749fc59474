/**
 * Profilegate: Set Admin Key… and Forget Admin Key. A new key is checked against the server
 * (reading the settings needs any valid key) before it replaces the stored one, so a typo never
 * locks the other commands out with a confusing 401 later. Asked for by a command whose key was
 * refused (its error's button), Set Admin Key… runs that command again once the key is stored.
 */
import { secretKeys } from '../logic/settings';
import { askAdminKey, cancelled, failed, loadSettings, report, RESUMABLE } from './common';
import type { CommandResult, CommandServices } from './ports';

/** The command to resume, from Set Admin Key…'s argument (`{ resume: id }`); anything else is ignored. */
export function resumeOf(argument: unknown): string | undefined {
  if (typeof argument !== 'object' || argument === null) return undefined;
  const resume = (argument as { resume?: unknown }).resume;
  return typeof resume === 'string' && RESUMABLE.has(resume) ? resume : undefined;
}

/** Profilegate: Set Admin Key…; `resume` runs once the key is stored (the command that asked for it). */
export async function setAdminKey(s: CommandServices, resume?: string): Promise<CommandResult> {
  const settings = loadSettings(s);
  if (settings === undefined) return { outcome: 'failed' };
  const key = await askAdminKey(s, settings);
  if (key === undefined) return cancelled(s, 'Set admin key');
  try {
    await s.createApi(settings, key).getSettings();
  } catch (error) {
    // A wrong key again: its button asks once more, and still resumes the same command.
    return failed(s, error, settings, 'check-admin-key', resume);
  }
  await s.secrets.store(secretKeys(settings).adminKey, key);
  const message = `Admin key saved in VS Code's secret storage for client ${settings.client} on ${settings.serverUrl}.`;
  if (resume === undefined) return { outcome: 'done', message: report(s, 'info', message) };
  // No toast here: the resumed command's own messages follow at once.
  s.log(`info: ${message} Resuming ${resume}.`);
  const result = (await s.workbench.executeCommand(resume)) as CommandResult | undefined;
  return { outcome: 'done', message, next: { command: resume, result } };
}

/** Profilegate: Forget Admin Key. */
export async function forgetAdminKey(s: CommandServices): Promise<CommandResult> {
  const settings = loadSettings(s);
  if (settings === undefined) return { outcome: 'failed' };
  const key = secretKeys(settings).adminKey;
  const where = `client ${settings.client} on ${settings.serverUrl}`;
  if ((await s.secrets.get(key)) === undefined) {
    return { outcome: 'done', message: report(s, 'info', `No admin key was stored for ${where}.`) };
  }
  await s.secrets.delete(key);
  return {
    outcome: 'done',
    message: report(s, 'info', `Forgot the admin key for ${where}; the next command that needs it asks for it.`),
  };
}
