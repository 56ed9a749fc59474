/**
 * Profilegate: Set Admin Key… and Forget Admin Key. A new key is checked against the server
 * (reading the settings needs any valid key) before it replaces the stored one, so a typo never
 * locks the other commands out with a confusing 401 later.
 */
import { secretKeys } from '../logic/settings';
import { askAdminKey, cancelled, failed, loadSettings, report } from './common';
import type { CommandResult, CommandServices } from './ports';

/** Profilegate: Set Admin Key…. */
export async function setAdminKey(s: CommandServices): Promise<CommandResult> {
  const settings = loadSettings(s);
  if (settings === undefined) return { outcome: 'failed' };
  const key = await askAdminKey(s, settings);
  if (key === undefined) return cancelled(s, 'Set admin key');
  try {
    await s.createApi(settings, key).getSettings();
  } catch (error) {
    return failed(s, error, settings, 'check-admin-key');
  }
  await s.secrets.store(secretKeys(settings).adminKey, key);
  const message = `Admin key saved in VS Code's secret storage for client ${settings.client} on ${settings.serverUrl}.`;
  return { outcome: 'done', message: report(s, 'info', message) };
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
