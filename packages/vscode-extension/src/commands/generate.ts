/**
 * Profilegate: Generate New Profile Authentication Token. Order matters for safety: the server's
 * current token is read first (so the exact value to replace is known, and a wrong key or an
 * unreachable server fails before anything changes), then the user confirms, then the server
 * regenerates, then the new token is stored, and only then are the files rewritten.
 */
import { describeSeconds, describeTimeLeft, maskToken, type ProfileTokenInfo } from '@profilegate/client';
import { describeGenerated } from '../logic/messages';
import { secretKeys, type ExtensionSettings } from '../logic/settings';
import { COMMANDS, cancelled, failed, keepAdminKey, loadSettings, obtainAdminKey, report } from './common';
import { doneAfterUpdate, summarizeFiles, updateWorkspace } from './files';
import type { CommandResult, CommandServices } from './ports';

function confirmDetail(current: ProfileTokenInfo | null, settings: ExtensionSettings, now: number): string {
  const grace = settings.previousTokenGraceSeconds;
  const when = grace > 0 ? `in ${describeSeconds(grace)} (the grace period you set)` : 'at once';
  const lifetime = `The new token will expire in ${describeSeconds(settings.expiresInSeconds)}.`;
  if (current === null) {
    return `Client ${settings.client} has no profile token yet. ${lifetime} It is stored in VS Code's secret storage and written into this workspace's files that hold an older token of the client.`;
  }
  const expires = Date.parse(current.expiresAt);
  const left = expires > now ? `expires in ${describeTimeLeft(expires - now)}` : 'has expired';
  return (
    `The current token (${maskToken(current.accessToken)}, ${left}) will stop working ${when}: every script and app that still sends it gets 401 while Require Authentication is on. ` +
    `${lifetime} Every copy of the old token in this workspace is replaced with the new one.`
  );
}

/** Runs the command; never throws (failures are reported and returned). */
export async function generateToken(s: CommandServices): Promise<CommandResult> {
  const settings = loadSettings(s);
  if (settings === undefined) return { outcome: 'failed' };
  const adminKey = await obtainAdminKey(s, settings);
  if (adminKey === undefined) return cancelled(s, 'Generate token');
  const api = s.createApi(settings, adminKey.value);

  let current: ProfileTokenInfo | null;
  try {
    current = await s.ui().withProgress('Profilegate: reading the current token…', () => api.getToken());
  } catch (error) {
    return failed(s, error, settings, 'read-token', COMMANDS.generateToken);
  }

  const confirmed = await s.ui().confirm({
    message: `Generate a new profile token for client ${settings.client} on ${settings.serverUrl}?`,
    detail: confirmDetail(current, settings, s.now()),
    confirmTitle: 'Generate New Token',
  });
  if (!confirmed) return cancelled(s, 'Generate token');

  let info: ProfileTokenInfo;
  try {
    info = await s.ui().withProgress('Profilegate: generating a new token…', () =>
      api.generateToken({
        expiresIn: settings.expiresInSeconds,
        previousTokenGraceSeconds: settings.previousTokenGraceSeconds,
      }),
    );
  } catch (error) {
    return failed(s, error, settings, 'generate-token', COMMANDS.generateToken);
  }
  s.log(
    `Generated ${maskToken(info.accessToken)} for client ${settings.client} on ${settings.serverUrl}` +
      (current === null ? '' : `, replacing ${maskToken(current.accessToken)}`),
  );

  // From here the server has the new token: keep it whatever happens to the files.
  const keys = secretKeys(settings);
  const previouslyStored = await s.secrets.get(keys.token);
  try {
    await s.secrets.store(keys.token, info.accessToken);
    await keepAdminKey(s, settings, adminKey);
  } catch (error) {
    // No keychain (e.g. a Linux box without a secret service): the files still get the token.
    report(
      s,
      'warning',
      `The new token could not be kept in VS Code's secret storage (${error instanceof Error ? error.message : String(error)}); ` +
        'the workspace files are still updated. Run Profilegate: Update Stored Token… once the secret storage works.',
    );
  }

  const knownOldTokens = [current?.accessToken, previouslyStored].filter((t): t is string => t !== undefined);
  const update = await updateWorkspace(s, settings, knownOldTokens, info.accessToken, {
    whatHappened: `Generated a new token (${maskToken(info.accessToken)}) and stored it in VS Code`,
  });
  if (!update.ok) return update.result;

  const message = describeGenerated({
    expiresInMs: info.expiresIn * 1000,
    previousTokenGraceSeconds: settings.previousTokenGraceSeconds,
    files: summarizeFiles(update.files),
  });
  return doneAfterUpdate(s, message, update);
}
