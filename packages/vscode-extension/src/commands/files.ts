/**
 * The workspace step shared by Generate and Update Stored Token: replace the old tokens, and if
 * that fails, say what already happened (the new token is stored) and how to finish.
 */
import { maskToken } from '@profilegate/core/client';
import type { FilesSummary } from '../logic/messages';
import type { ExtensionSettings } from '../logic/settings';
import { COMMANDS, report } from './common';
import type { CommandResult, CommandServices, FileUpdateOutcome, MessageAction } from './ports';

/** The outcome's numbers as the summary sentence needs them. */
export function summarizeFiles(outcome: FileUpdateOutcome): FilesSummary {
  return {
    copies: outcome.copies,
    files: outcome.changed.length,
    notApplied: outcome.notApplied,
    unsaved: outcome.unsaved.length,
    noWorkspace: outcome.noWorkspace,
  };
}

/** A command's result once the workspace step went through: `message`, with its Open Files action. */
export function doneAfterUpdate(
  s: CommandServices,
  message: string,
  update: { files: FileUpdateOutcome; actions: MessageAction[] },
): CommandResult {
  return {
    outcome: 'done',
    message: report(s, 'info', message, update.actions),
    copies: update.files.copies,
    files: update.files.changed.map((file) => file.label),
  };
}

/** Replaces `knownOldTokens` (and the client's other tokens) by `newToken` in the workspace. */
export async function updateWorkspace(
  s: CommandServices,
  settings: ExtensionSettings,
  knownOldTokens: readonly string[],
  newToken: string,
  context: { whatHappened: string },
): Promise<{ ok: true; files: FileUpdateOutcome; actions: MessageAction[] } | { ok: false; result: CommandResult }> {
  let files: FileUpdateOutcome;
  try {
    files = await s.ui().withProgress('Profilegate: replacing the old token in the workspace…', () =>
      s.files.replace({
        knownOldTokens,
        newToken,
        client: settings.client,
        exclude: settings.exclude,
        preview: settings.previewChanges,
      }),
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const message =
      `${context.whatHappened}, but updating the files failed: ${reason}. ` +
      'Finish with Profilegate: Update Stored Token… and leave the box empty to apply the stored token to the workspace.';
    const actions = [
      { title: 'Update Stored Token…', run: () => s.workbench.executeCommand(COMMANDS.updateStoredToken) },
    ];
    return { ok: false, result: { outcome: 'failed', message: report(s, 'error', message, actions) } };
  }
  for (const file of files.changed) s.log(`  ${file.label}: ${file.copies} replaced with ${maskToken(newToken)}`);
  // Skipped files go to the log only: nearly every workspace has a big lock file or an image.
  for (const skip of files.skipped) s.log(`  skipped ${skip.label} (${skip.reason})`);
  for (const label of files.unsaved) s.log(`  not saved: ${label}`);
  const uris = files.changed.map((file) => file.uri);
  const actions: MessageAction[] =
    uris.length > 0 ? [{ title: 'Open Files', run: () => s.workbench.openFiles(uris) }] : [];
  return { ok: true, files, actions };
}
