/**
 * The commands that only talk to the server: Toggle Require Authentication, Revoke Profile
 * Authentication Token and Show Token Status. Each reads the state first, says what the change
 * means, and stores a typed admin key only once the server has accepted it. A refused key's
 * Set Admin Key… button runs the command again once a key is stored.
 */
import type { AuthenticationSettings } from '@profilegate/client';
import { describeTokenStatus } from '../logic/status';
import { tokenStatusView, type StatusStep } from '../logic/status-view';
import { secretKeys } from '../logic/settings';
import { COMMANDS, cancelled, failed, keepAdminKey, loadSettings, obtainAdminKey, report } from './common';
import type { CommandResult, CommandServices, PickItem } from './ports';

/** Profilegate: Toggle Require Authentication. */
export async function toggleAuthentication(s: CommandServices): Promise<CommandResult> {
  const settings = loadSettings(s);
  if (settings === undefined) return { outcome: 'failed' };
  const adminKey = await obtainAdminKey(s, settings);
  if (adminKey === undefined) return cancelled(s, 'Toggle Require Authentication');
  const api = s.createApi(settings, adminKey.value);

  let before: AuthenticationSettings;
  try {
    before = await api.getSettings();
  } catch (error) {
    return failed(s, error, settings, 'read-settings', COMMANDS.toggleAuthentication);
  }
  const turnOn = !before.requireAuthentication;
  const where = `client ${settings.client} on ${settings.serverUrl}`;
  const confirmed = await s.ui().confirm(
    turnOn
      ? {
          message: `Turn Require Authentication ON for ${where}?`,
          detail:
            'Every profile request (batch upload, batch status, single update, fetch) will need "Authorization: Bearer <profile token>". ' +
            'Requests without the current token get 401, so make sure your scripts and apps have it first.',
          confirmTitle: 'Turn On',
        }
      : {
          message: `Turn Require Authentication OFF for ${where}?`,
          detail:
            'The profile routes will be open to anyone who can reach the server: profiles can be read and changed without a token. ' +
            'Tokens are ignored until you turn it back on.',
          confirmTitle: 'Turn Off',
        },
  );
  if (!confirmed) return cancelled(s, 'Toggle Require Authentication');

  let after: AuthenticationSettings;
  try {
    after = await api.setRequireAuthentication(turnOn);
  } catch (error) {
    return failed(s, error, settings, 'toggle-authentication', COMMANDS.toggleAuthentication);
  }
  await keepAdminKey(s, settings, adminKey);
  const message = after.requireAuthentication
    ? `Require Authentication is now ON for ${where}: profile requests need the current profile token.`
    : `Require Authentication is now OFF for ${where}: profile requests work without a token.`;
  return { outcome: 'done', message: report(s, 'info', message) };
}

/** Profilegate: Revoke Profile Authentication Token. */
export async function revokeToken(s: CommandServices): Promise<CommandResult> {
  const settings = loadSettings(s);
  if (settings === undefined) return { outcome: 'failed' };
  const adminKey = await obtainAdminKey(s, settings);
  if (adminKey === undefined) return cancelled(s, 'Revoke token');
  const where = `client ${settings.client} on ${settings.serverUrl}`;
  const confirmed = await s.ui().confirm({
    message: `Revoke the profile token of ${where}?`,
    detail:
      'No token works until a new one is generated: every script and app that calls the profile routes gets 401 while Require Authentication is on. ' +
      'The token stored in VS Code is forgotten; copies in your files stay as they are.',
    confirmTitle: 'Revoke Token',
  });
  if (!confirmed) return cancelled(s, 'Revoke token');
  try {
    await s.createApi(settings, adminKey.value).revokeToken();
  } catch (error) {
    return failed(s, error, settings, 'revoke-token', COMMANDS.revokeToken);
  }
  await keepAdminKey(s, settings, adminKey);
  await s.secrets.delete(secretKeys(settings).token);
  const message = `Revoked the profile token of ${where}. No token works until you generate a new one.`;
  return {
    outcome: 'done',
    message: report(s, 'info', message, [
      { title: 'Generate New Token', run: () => s.workbench.executeCommand(COMMANDS.generateToken) },
    ]),
  };
}

/**
 * Profilegate: Show Token Status. A quick pick: the facts first (expiry, who generated it, Require
 * Authentication, the stored token), then the next steps; picking a step runs its command.
 */
export async function showTokenStatus(s: CommandServices): Promise<CommandResult> {
  const settings = loadSettings(s);
  if (settings === undefined) return { outcome: 'failed' };
  const adminKey = await obtainAdminKey(s, settings);
  if (adminKey === undefined) return cancelled(s, 'Show token status');
  let server: AuthenticationSettings;
  try {
    server = await s.createApi(settings, adminKey.value).getSettings();
  } catch (error) {
    return failed(s, error, settings, 'read-settings', COMMANDS.showTokenStatus);
  }
  await keepAdminKey(s, settings, adminKey);
  const input = {
    settings: server,
    storedToken: await s.secrets.get(secretKeys(settings).token),
    client: settings.client,
    serverUrl: settings.serverUrl,
    now: s.now(),
  };
  const message = describeTokenStatus(input);
  s.log(`info: ${message}`);
  const view = tokenStatusView(input);
  const items: Array<PickItem<StatusStep | undefined>> = [
    ...view.facts.map((fact) => ({ label: fact.label, detail: fact.detail, value: undefined })),
    { separator: 'Next steps' },
    ...view.steps.map((step) => ({ label: STEP_LABELS[step](server), value: step })),
  ];
  const step = await s.ui().pick({ title: view.title, placeHolder: view.placeHolder, items });
  if (step === undefined) return { outcome: 'done', message };
  const next = await runStep(s, step);
  return { outcome: 'done', message, next };
}

/** What each next step is called in the quick pick. */
const STEP_LABELS: Readonly<Record<StatusStep, (server: AuthenticationSettings) => string>> = {
  generate: () => '$(sync) Generate New Token',
  'replace-old': () => '$(replace-all) Replace Old Tokens in Workspace',
  'update-stored': () => '$(edit) Update Stored Token…',
  'toggle-authentication': (server) =>
    server.requireAuthentication
      ? '$(unlock) Turn Require Authentication Off…'
      : '$(lock) Turn Require Authentication On…',
  'set-admin-key': () => '$(key) Set Admin Key…',
  'open-settings': () => '$(gear) Open Settings',
};

/** Runs the step picked in the status. */
async function runStep(s: CommandServices, step: StatusStep): Promise<CommandResult['next']> {
  if (step === 'open-settings') {
    await s.workbench.openSettings('profilegate');
    return { command: 'workbench.action.openSettings', result: undefined };
  }
  const command = {
    generate: COMMANDS.generateToken,
    'replace-old': COMMANDS.replaceOldTokens,
    'update-stored': COMMANDS.updateStoredToken,
    'toggle-authentication': COMMANDS.toggleAuthentication,
    'set-admin-key': COMMANDS.setAdminKey,
  }[step];
  const result = (await s.workbench.executeCommand(command)) as CommandResult | undefined;
  return { command, result };
}
