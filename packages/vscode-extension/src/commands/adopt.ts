/**
 * Profilegate: Adopt Token Found in Workspace… — for a project that already holds a token of the
 * client (in `.env`, a config file, a script): the workspace is scanned with @profilegate/client's
 * scanner, the tokens that may be adopted are offered in a quick pick (masked, with their expiry
 * and files), and the one chosen is stored as the current token. The next rotation then knows
 * which value to replace, and the status bar counts down its expiry. No server call, no file changed.
 */
import { maskToken } from '@profilegate/client';
import { adoptionCandidates, describeFiles } from '../logic/adoption';
import { secretKeys } from '../logic/settings';
import { cancelled, COMMANDS, loadSettings, report } from './common';
import type { CommandResult, CommandServices } from './ports';

/** Runs the command; never throws. */
export async function adoptWorkspaceToken(s: CommandServices): Promise<CommandResult> {
  const settings = loadSettings(s);
  if (settings === undefined) return { outcome: 'failed' };
  const where = `client ${settings.client} on ${settings.serverUrl}`;
  const found = await s
    .ui()
    .withProgress('Profilegate: looking for tokens in the workspace…', () =>
      s.files.findClientTokens(settings.client, settings.exclude),
    );
  const { candidates, leftOut } = adoptionCandidates(found, settings.client, s.now());
  const skipped =
    leftOut.length === 0 ? '' : ` Left out: ${leftOut.map((t) => `${t.masked} (${t.reason})`).join('; ')}.`;
  if (candidates.length === 0) {
    const message = `No usable token of client ${settings.client} was found in this workspace's files.${skipped}`;
    return {
      outcome: 'done',
      message: report(s, 'info', message, [
        { title: 'Generate New Token', run: () => s.workbench.executeCommand(COMMANDS.generateToken) },
        { title: 'Update Stored Token…', run: () => s.workbench.executeCommand(COMMANDS.updateStoredToken) },
      ]),
    };
  }
  const keys = secretKeys(settings);
  const stored = await s.secrets.get(keys.token);
  const chosen = await s.ui().pick({
    title: `Profilegate: Adopt a Token of client ${settings.client}`,
    placeHolder: 'The token your scripts send now: it is stored in VS Code, and rotations replace its copies',
    items: candidates.map((c) => ({
      label: c.label,
      description: c.token === stored ? `${c.description} · stored already` : c.description,
      detail: c.detail,
      value: c,
    })),
  });
  if (chosen === undefined) return cancelled(s, 'Adopt token');
  await s.secrets.store(keys.token, chosen.token);
  s.log(`Adopted ${maskToken(chosen.token)} for ${where}`);
  const message =
    `Adopted the token ${maskToken(chosen.token)} found in ${describeFiles(chosen.files)}: it is stored in VS Code for ${where}, ` +
    `and the next rotation replaces its copies.${skipped}`;
  return { outcome: 'done', message: report(s, 'info', message), files: chosen.files };
}
