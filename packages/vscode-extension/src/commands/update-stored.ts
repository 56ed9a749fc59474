/**
 * Profilegate: Update Stored Token… — for a token generated elsewhere (the admin page, the CLI, a
 * teammate). The pasted token is checked (a JWT of this client, not expired) before it is stored
 * or written anywhere; then the old copies in the workspace are replaced as after Generate.
 * An empty box re-applies the token already stored (to finish a rotation whose file step failed).
 */
import { maskToken } from '@profilegate/client';
import { describeStored } from '../logic/messages';
import { secretKeys } from '../logic/settings';
import { checkPastedToken } from '../logic/token-check';
import { cancelled, loadSettings, report } from './common';
import { doneAfterUpdate, summarizeFiles, updateWorkspace } from './files';
import type { CommandResult, CommandServices } from './ports';

/** Runs the command; never throws. */
export async function updateStoredToken(s: CommandServices): Promise<CommandResult> {
  const settings = loadSettings(s);
  if (settings === undefined) return { outcome: 'failed' };
  const keys = secretKeys(settings);
  const stored = await s.secrets.get(keys.token);

  const answer = await s.ui().askSecret({
    title: 'Profilegate: Update Stored Token',
    prompt:
      `Paste the new profile token of client ${settings.client} (from the admin page, the CLI or a teammate)` +
      (stored === undefined
        ? ''
        : `; leave it empty to apply the stored token ${maskToken(stored)} to the workspace again`),
    placeHolder: 'eyJ…',
    validate: (value) => {
      if (value.trim() === '' && stored !== undefined) return undefined;
      const check = checkPastedToken(value, settings.client, s.now());
      return check.ok ? undefined : check.reason;
    },
  });
  if (answer === undefined) return cancelled(s, 'Update stored token');

  const reapply = answer.trim() === '' && stored !== undefined;
  const check = checkPastedToken(reapply ? (stored as string) : answer, settings.client, s.now());
  if (!check.ok) {
    const what = reapply ? 'The stored token cannot be applied' : 'The pasted token was not stored';
    return {
      outcome: 'failed',
      message: report(s, 'error', `${what}: ${check.reason}. No file was changed.`),
    };
  }
  const token = check.token;
  if (!reapply) await s.secrets.store(keys.token, token);
  s.log(`Stored ${maskToken(token)} for client ${settings.client} on ${settings.serverUrl}`);

  const knownOldTokens = stored !== undefined && stored !== token ? [stored] : [];
  const update = await updateWorkspace(s, settings, knownOldTokens, token, {
    whatHappened: `Stored the token ${maskToken(token)} in VS Code`,
  });
  if (!update.ok) return update.result;

  const message = describeStored({
    reapplied: reapply,
    expiresInMs: check.claims.expiresAt - s.now(),
    files: summarizeFiles(update.files),
  });
  return doneAfterUpdate(s, message, update);
}
