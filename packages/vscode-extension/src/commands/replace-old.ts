/**
 * Profilegate: Replace Old Tokens in Workspace — finishes a replacement: after a rotation whose
 * copies were left (unticked in the preview, a file that failed), or after a rotation done
 * elsewhere. The token put in is the server's current one when the stored admin key may read it
 * (it is stored too), else the stored one once the server's settings show it is still current.
 * The edits are applied directly, never through the preview: the user asked to finish.
 */
import { AdminApiError, maskToken } from '@profilegate/client';
import { describeReplaced } from '../logic/messages';
import { isServerToken, serverTokenFromInfo, serverTokenFromSettings, type ServerToken } from '../logic/server-token';
import { secretKeys, type ExtensionSettings } from '../logic/settings';
import { checkPastedToken } from '../logic/token-check';
import { COMMANDS, failed, loadSettings, report } from './common';
import { doneAfterUpdate, summarizeFiles, updateWorkspace } from './files';
import type { CommandResult, CommandServices } from './ports';

const PASTE = 'Update Stored Token…';
const GENERATE = 'Generate New Token';

/** The server's token, read with the stored admin key; `unknown` without a key. */
async function readServerToken(
  s: CommandServices,
  settings: ExtensionSettings,
  adminKey: string | undefined,
): Promise<{ ok: true; server: ServerToken } | { ok: false; result: CommandResult }> {
  if (adminKey === undefined || adminKey === '') return { ok: true, server: { kind: 'unknown' } };
  const api = s.createApi(settings, adminKey);
  try {
    const info = await s.ui().withProgress('Profilegate: reading the current token…', () => api.getToken());
    return { ok: true, server: serverTokenFromInfo(info) };
  } catch (error) {
    if (!(error instanceof AdminApiError && error.status === 403)) {
      return { ok: false, result: failed(s, error, settings, 'read-token', COMMANDS.replaceOldTokens) };
    }
  }
  // A key that may not read the token may read the settings: enough to tell whether the stored one is current.
  try {
    return { ok: true, server: serverTokenFromSettings(await api.getSettings()) };
  } catch (error) {
    return { ok: false, result: failed(s, error, settings, 'read-settings', COMMANDS.replaceOldTokens) };
  }
}

/** Runs the command; never throws. */
export async function replaceOldTokens(s: CommandServices): Promise<CommandResult> {
  const settings = loadSettings(s);
  if (settings === undefined) return { outcome: 'failed' };
  const keys = secretKeys(settings);
  const stored = await s.secrets.get(keys.token);
  const where = `client ${settings.client} on ${settings.serverUrl}`;
  const read = await readServerToken(s, settings, await s.secrets.get(keys.adminKey));
  if (!read.ok) return read.result;
  const server = read.server;
  const refuse = (message: string, button: string, command: string): CommandResult => ({
    outcome: 'failed',
    message: report(s, 'error', `${message} No file was changed.`, [
      { title: button, run: () => s.workbench.executeCommand(command) },
    ]),
  });

  if (server.kind === 'none') {
    return refuse(
      `${where} has no profile token (it was revoked): generate a new one.`,
      GENERATE,
      COMMANDS.generateToken,
    );
  }
  let token = stored;
  if (server.kind === 'token') {
    if (server.token !== null) token = server.token;
    else if (stored === undefined || !isServerToken(stored, server)) {
      return refuse(
        `The token of ${where} was regenerated on the server, and this admin key may not read the new one: paste it with Profilegate: Update Stored Token….`,
        PASTE,
        COMMANDS.updateStoredToken,
      );
    }
  }
  if (token === undefined) {
    return refuse(
      `No profile token is stored for ${where}, and no admin key to read it from the server: paste it with Profilegate: Update Stored Token….`,
      PASTE,
      COMMANDS.updateStoredToken,
    );
  }
  const check = checkPastedToken(token, settings.client, s.now());
  if (!check.ok)
    return refuse(`The current token cannot be put in: ${check.reason}.`, GENERATE, COMMANDS.generateToken);

  const storedFromServer = token !== stored;
  if (storedFromServer) {
    try {
      await s.secrets.store(keys.token, token);
      s.log(`Stored the server's current token ${maskToken(token)} for ${where}`);
    } catch (error) {
      report(
        s,
        'warning',
        `The server's current token could not be kept in VS Code's secret storage (${error instanceof Error ? error.message : String(error)}); the workspace files are still updated.`,
      );
    }
  }
  const knownOldTokens = stored !== undefined && stored !== token ? [stored] : [];
  const update = await updateWorkspace(s, settings, knownOldTokens, token, {
    whatHappened: storedFromServer
      ? `Stored the server's current token (${maskToken(token)}) in VS Code`
      : `Read the stored token (${maskToken(token)})`,
    preview: false,
  });
  if (!update.ok) return update.result;
  const message = describeReplaced({
    storedFromServer,
    expiresInMs: check.claims.expiresAt - s.now(),
    files: summarizeFiles(update.files),
  });
  return doneAfterUpdate(s, message, update);
}
