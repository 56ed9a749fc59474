/**
 * The token commands for an Adobe Target target (`profilegate.target` = `adobe`): Generate, Show
 * Token Status, Replace Old Tokens, and Set/Forget Adobe Client Secret. As for a Profilegate
 * server: Adobe's current token is read first (a wrong secret or tenant fails before anything
 * changes), the user confirms, Adobe regenerates, the new token is stored, then every copy of the
 * old ones is replaced. Adobe's tokens are opaque: copies are found by value only (the token read
 * first, the stored one, the earlier ones kept in SecretStorage), never guessed.
 */
import {
  describeSeconds,
  maskToken,
  nextTokenHistory,
  type AdobeAuthorizationScope,
  type AdobeToken,
} from '@profilegate/client';
import { adobeLabel, adobeSecretKey } from '../logic/adobe-settings';
import { describeGenerated, describeReplaced } from '../logic/messages';
import {
  ADOBE_COMMANDS,
  adobeApi,
  adobeFailed,
  askClientSecret,
  chooseScope,
  keepClientSecret,
  loadAdobeSettings,
  obtainClientSecret,
  scopesInUse,
  storeAdobeTokens,
  storedAdobeTokens,
} from './adobe-common';
import { cancelled, COMMANDS, RESUMABLE, report } from './common';
import { doneAfterUpdate, summarizeFiles, updateWorkspace } from './files';
import type { CommandResult, CommandServices, PickItem } from './ports';

function confirmDetail(current: AdobeToken | null, label: string): string {
  if (current === null) {
    return `${label} has no token yet. The new one is stored in VS Code's secret storage and written into this workspace's files that hold an earlier token.`;
  }
  return (
    `The current token (${maskToken(current.accessToken)}, expires in ${describeSeconds(current.expiresIn)}) stops working at once: Adobe Target has no grace period, so every script and app that still sends it is refused. ` +
    'Every copy of the old token in this workspace is replaced with the new one.'
  );
}

/** Generate New Profile Authentication Token, for Adobe Target. */
export async function adobeGenerateToken(s: CommandServices): Promise<CommandResult> {
  const loaded = loadAdobeSettings(s);
  if (loaded === undefined) return { outcome: 'failed' };
  const { settings, adobe } = loaded;
  const scope = await chooseScope(s, adobe);
  if (scope === undefined) return cancelled(s, 'Generate token');
  const secret = await obtainClientSecret(s, adobe);
  if (secret === undefined) return cancelled(s, 'Generate token');
  const api = adobeApi(s, adobe, secret);
  const label = adobeLabel(adobe, scope);

  let current: AdobeToken | null;
  try {
    current = await s.ui().withProgress('Profilegate: reading the current Adobe token…', () => api.getToken(scope));
  } catch (error) {
    return adobeFailed(s, error, adobe, 'read the current token', COMMANDS.generateToken);
  }
  await keepClientSecret(s, adobe, secret);

  const confirmed = await s.ui().confirm({
    message: `Generate a new token for ${label}?`,
    detail: confirmDetail(current, label),
    confirmTitle: 'Generate New Token',
  });
  if (!confirmed) return cancelled(s, 'Generate token');

  let token: AdobeToken;
  try {
    token = await s.ui().withProgress('Profilegate: generating a new Adobe token…', () => api.regenerateToken(scope));
  } catch (error) {
    return adobeFailed(s, error, adobe, 'generate a new token', COMMANDS.generateToken);
  }
  s.log(
    `Generated ${maskToken(token.accessToken)} for ${label}` +
      (current === null ? '' : `, replacing ${maskToken(current.accessToken)}`),
  );

  const { stored, history } = await storedAdobeTokens(s, adobe, scope);
  const replaced = [current?.accessToken, stored].filter((t): t is string => t !== undefined);
  const kept = nextTokenHistory(history, replaced, token.accessToken);
  try {
    await storeAdobeTokens(s, adobe, scope, token.accessToken, kept);
  } catch (error) {
    report(
      s,
      'warning',
      `The new token could not be kept in VS Code's secret storage (${error instanceof Error ? error.message : String(error)}); the workspace files are still updated.`,
    );
  }
  const update = await updateWorkspace(s, settings, [...replaced, ...history], token.accessToken, {
    whatHappened: `Generated a new token (${maskToken(token.accessToken)}) for ${label} and stored it in VS Code`,
  });
  if (!update.ok) return update.result;
  const message = describeGenerated({
    expiresInMs: token.expiresIn * 1000,
    previousTokenGraceSeconds: 0,
    files: summarizeFiles(update.files),
  });
  return doneAfterUpdate(s, message, update);
}

/** Replace Old Tokens in Workspace, for Adobe Target: Adobe's current token replaces the stored and earlier ones. */
export async function adobeReplaceOldTokens(s: CommandServices): Promise<CommandResult> {
  const loaded = loadAdobeSettings(s);
  if (loaded === undefined) return { outcome: 'failed' };
  const { settings, adobe } = loaded;
  const secret = await obtainClientSecret(s, adobe);
  if (secret === undefined) return cancelled(s, 'Replace old tokens');
  const api = adobeApi(s, adobe, secret);
  let last: CommandResult = { outcome: 'done' };
  for (const scope of scopesInUse(adobe)) {
    const label = adobeLabel(adobe, scope);
    let current: AdobeToken | null;
    try {
      current = await s.ui().withProgress('Profilegate: reading the current Adobe token…', () => api.getToken(scope));
    } catch (error) {
      return adobeFailed(s, error, adobe, 'read the current token', COMMANDS.replaceOldTokens);
    }
    await keepClientSecret(s, adobe, secret);
    if (current === null) {
      if (scopesInUse(adobe).length > 1) continue;
      return {
        outcome: 'failed',
        message: report(s, 'error', `${label} has no token: generate one. No file was changed.`, [
          { title: 'Generate New Token', run: () => s.workbench.executeCommand(COMMANDS.generateToken) },
        ]),
      };
    }
    const { stored, history } = await storedAdobeTokens(s, adobe, scope);
    const olds = nextTokenHistory(history, stored === undefined ? [] : [stored], current.accessToken);
    const storedFromServer = stored !== current.accessToken;
    if (storedFromServer) {
      await storeAdobeTokens(s, adobe, scope, current.accessToken, olds);
      s.log(`Stored Adobe's current token ${maskToken(current.accessToken)} for ${label}`);
    }
    const update = await updateWorkspace(s, settings, olds, current.accessToken, {
      whatHappened: `Stored Adobe's current token (${maskToken(current.accessToken)}) for ${label}`,
      preview: false,
    });
    if (!update.ok) return update.result;
    const message = describeReplaced({
      storedFromServer,
      expiresInMs: current.expiresIn * 1000,
      files: summarizeFiles(update.files),
    });
    last = doneAfterUpdate(s, message, update);
  }
  return last;
}

/** Show Token Status, for Adobe Target: Adobe's token of each scope in use, the stored one, next steps. */
export async function adobeShowTokenStatus(s: CommandServices): Promise<CommandResult> {
  const loaded = loadAdobeSettings(s);
  if (loaded === undefined) return { outcome: 'failed' };
  const { adobe } = loaded;
  const secret = await obtainClientSecret(s, adobe);
  if (secret === undefined) return cancelled(s, 'Show token status');
  const api = adobeApi(s, adobe, secret);
  const facts: Array<PickItem<string | undefined>> = [];
  const summary: string[] = [];
  let anyStale = false;
  for (const scope of scopesInUse(adobe)) {
    let current: AdobeToken | null;
    try {
      current = await api.getToken(scope);
    } catch (error) {
      return adobeFailed(s, error, adobe, 'read the current token', COMMANDS.showTokenStatus);
    }
    const { stored } = await storedAdobeTokens(s, adobe, scope);
    if (current === null) {
      facts.push({ label: `$(circle-slash) ${scope}: no token`, detail: 'Generate one to start.', value: undefined });
      summary.push(`${scope}: no token`);
      continue;
    }
    const left = `expires in ${describeSeconds(current.expiresIn)}`;
    summary.push(`${scope}: ${maskToken(current.accessToken)}, ${left}`);
    facts.push({ label: `$(clock) ${scope}: ${maskToken(current.accessToken)} ${left}`, value: undefined });
    if (stored === current.accessToken) {
      facts.push({ label: `$(pass) The stored ${scope} token is the current one`, value: undefined });
    } else {
      anyStale = true;
      facts.push({
        label:
          stored === undefined
            ? `$(warning) No ${scope} token is stored in VS Code`
            : `$(warning) The stored ${scope} token ${maskToken(stored)} is not the current one`,
        detail: 'Replace Old Tokens stores Adobe’s current token and puts it in your files.',
        value: undefined,
      });
    }
  }
  await keepClientSecret(s, adobe, secret);
  const message = `Adobe Target tenant ${adobe.tenant}: ${summary.join('; ')}.`;
  s.log(`info: ${message}`);
  const steps: Array<[string, string]> = [
    ['$(sync) Generate New Token', COMMANDS.generateToken],
    ['$(replace-all) Replace Old Tokens in Workspace', COMMANDS.replaceOldTokens],
    ['$(key) Set Adobe Client Secret…', ADOBE_COMMANDS.setClientSecret],
    ['$(gear) Open Settings', 'workbench.action.openSettings'],
  ];
  if (anyStale) steps.unshift(steps.splice(1, 1)[0] as [string, string]);
  const step = await s.ui().pick<string | undefined>({
    title: `Profilegate: Token Status of Adobe Target tenant ${adobe.tenant}`,
    placeHolder: 'Adobe Target has no grace period, revoke or Require Authentication setting. Choose a next step',
    items: [...facts, { separator: 'Next steps' }, ...steps.map(([label, value]) => ({ label, value }))],
  });
  if (step === undefined) return { outcome: 'done', message };
  if (step === 'workbench.action.openSettings') {
    await s.workbench.openSettings('profilegate.adobe');
    return { outcome: 'done', message, next: { command: step, result: undefined } };
  }
  const result = (await s.workbench.executeCommand(step)) as CommandResult | undefined;
  return { outcome: 'done', message, next: { command: step, result } };
}

/** Profilegate: Set Adobe Client Secret…; checked with IMS and the Admin API before it is stored. */
export async function setAdobeClientSecret(s: CommandServices, resume?: string): Promise<CommandResult> {
  const loaded = loadAdobeSettings(s);
  if (loaded === undefined) {
    return notAdobe(s);
  }
  const { adobe } = loaded;
  const typed = await askClientSecret(s, adobe);
  if (typed === undefined) return cancelled(s, 'Set Adobe client secret');
  const scope: AdobeAuthorizationScope = scopesInUse(adobe)[0] ?? 'profile_api';
  try {
    await s.createAdobe(adobe, typed).getToken(scope);
  } catch (error) {
    return adobeFailed(s, error, adobe, 'check the client secret', resume);
  }
  await s.secrets.store(adobeSecretKey(adobe), typed);
  const message = `Adobe client secret of credential ${adobe.clientId} saved in VS Code's secret storage.`;
  if (resume === undefined || !RESUMABLE.has(resume)) return { outcome: 'done', message: report(s, 'info', message) };
  s.log(`info: ${message} Resuming ${resume}.`);
  const result = (await s.workbench.executeCommand(resume)) as CommandResult | undefined;
  return { outcome: 'done', message, next: { command: resume, result } };
}

/** Profilegate: Forget Adobe Client Secret. */
export async function forgetAdobeClientSecret(s: CommandServices): Promise<CommandResult> {
  const loaded = loadAdobeSettings(s);
  if (loaded === undefined) return notAdobe(s);
  const { adobe } = loaded;
  const key = adobeSecretKey(adobe);
  if ((await s.secrets.get(key)) === undefined) {
    return {
      outcome: 'done',
      message: report(s, 'info', `No Adobe client secret was stored for credential ${adobe.clientId}.`),
    };
  }
  await s.secrets.delete(key);
  return {
    outcome: 'done',
    message: report(
      s,
      'info',
      `Forgot the Adobe client secret of credential ${adobe.clientId}; the next command that needs it asks for it.`,
    ),
  };
}

function notAdobe(s: CommandServices): CommandResult {
  const result = s.readSettings();
  if (!result.ok) return { outcome: 'failed' };
  return {
    outcome: 'cancelled',
    message: report(s, 'info', 'The Adobe client secret is used only when profilegate.target is "adobe".', [
      { title: 'Open Settings', run: () => s.workbench.openSettings('profilegate.target') },
    ]),
  };
}

/** Whether the settings choose an Adobe Target target (invalid settings: no). */
export function isAdobeTarget(s: CommandServices): boolean {
  const result = s.readSettings();
  return result.ok ? result.settings.target === 'adobe' : false;
}
