/**
 * The workspace step shared by Generate, Update Stored Token and Replace Old Tokens: replace the
 * old tokens, and if that fails or leaves copies behind, say what already happened (the new token
 * is stored) and offer the button that finishes the job.
 */
import { maskToken } from '@profilegate/client';
import { leftCopiesBehind, REPLACE_OLD_TOKENS_TITLE, type FilesSummary } from '../logic/messages';
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

/** The button that replaces every copy of an old token left in the workspace. */
export function replaceOldTokensAction(s: CommandServices): MessageAction {
  return { title: 'Replace Old Tokens', run: () => s.workbench.executeCommand(COMMANDS.replaceOldTokens) };
}

/**
 * A command's result once the workspace step went through: `message` as information when every
 * copy was replaced and saved, as a warning (with Replace Old Tokens first) when any was left.
 */
export function doneAfterUpdate(
  s: CommandServices,
  message: string,
  update: { files: FileUpdateOutcome; actions: MessageAction[] },
): CommandResult {
  const summary = summarizeFiles(update.files);
  const left = leftCopiesBehind(summary);
  const actions = summary.notApplied > 0 ? [replaceOldTokensAction(s), ...update.actions] : update.actions;
  return {
    outcome: 'done',
    message: report(s, left ? 'warning' : 'info', message, actions),
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
  context: { whatHappened: string; preview?: boolean },
): Promise<{ ok: true; files: FileUpdateOutcome; actions: MessageAction[] } | { ok: false; result: CommandResult }> {
  let files: FileUpdateOutcome;
  try {
    files = await s.ui().withProgress('Profilegate: replacing the old token in the workspace…', () =>
      s.files.replace({
        knownOldTokens,
        newToken,
        client: settings.target === 'adobe' ? undefined : settings.client,
        exclude: settings.exclude,
        preview: context.preview ?? settings.previewChanges,
      }),
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const message =
      `${context.whatHappened}, but updating the files failed: ${reason}. ` +
      `Finish with Replace Old Tokens (Profilegate: ${REPLACE_OLD_TOKENS_TITLE}) once the cause is fixed.`;
    return {
      ok: false,
      result: { outcome: 'failed', message: report(s, 'error', message, [replaceOldTokensAction(s)]) },
    };
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
