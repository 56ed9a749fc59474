/**
 * Entry point: wires the commands, the status bar and the diagnostics to VS Code and pushes every
 * disposable. The logic lives in `logic/` and `commands/` (no `vscode` import, unit-tested in
 * plain Node); `vscode/` holds the adapters.
 */
import { AdminClient } from '@profilegate/core/client';
import * as vscode from 'vscode';
import { commandHandlers } from './commands';
import type { CommandServices, Ui } from './commands/ports';
import { scrubTokens } from './logic/messages';
import type { ProfilegateExtensionApi } from './testing-api';
import { configuredInWorkspace, currentSettings, vscodeWorkbench } from './vscode/config';
import { StaleTokenDiagnostics } from './vscode/diagnostics';
import { TokenStatusBar } from './vscode/status-bar';
import { VsCodeUi } from './vscode/ui';
import { WorkspaceTokenFiles } from './vscode/workspace-files';

/** Called by VS Code on the first command or once startup has finished. */
export function activate(context: vscode.ExtensionContext): ProfilegateExtensionApi {
  const output = vscode.window.createOutputChannel('Profilegate', { log: true });
  context.subscriptions.push(output);
  const log = (line: string) => output.info(scrubTokens(line));

  const vscodeUi = new VsCodeUi((error) => log(`A button's action failed: ${String(error)}`));
  let ui: Ui = vscodeUi;
  const now = () => Date.now();

  const services: CommandServices = {
    ui: () => ui,
    secrets: context.secrets,
    readSettings: currentSettings,
    createApi: (settings, adminKey) =>
      new AdminClient({ serverUrl: settings.serverUrl, client: settings.client, adminKey, timeoutMs: 20_000 }),
    files: new WorkspaceTokenFiles(),
    workbench: vscodeWorkbench,
    log,
    now,
  };

  const statusBar = new TokenStatusBar({
    secrets: context.secrets,
    state: context.globalState,
    settings: currentSettings,
    configuredInWorkspace,
    ui: () => ui,
    now,
  });
  const diagnostics = new StaleTokenDiagnostics({ secrets: context.secrets, settings: currentSettings, now });
  context.subscriptions.push(statusBar, diagnostics);

  const refresh = async () => {
    await Promise.all([statusBar.refresh(), diagnostics.refresh()]);
  };
  const refreshQuietly = () => {
    refresh().catch((error: unknown) => log(`Refreshing the token status failed: ${String(error)}`));
  };

  for (const [id, handler] of commandHandlers(services)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, handler));
  }
  context.subscriptions.push(
    context.secrets.onDidChange((event) => {
      if (event.key.startsWith('profilegate.')) refreshQuietly();
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('profilegate')) refreshQuietly();
    }),
  );
  refreshQuietly();

  return {
    testing: {
      setUi: (next) => {
        ui = next ?? vscodeUi;
      },
      secrets: context.secrets,
      refresh,
      statusBar: () => statusBar.current(),
    },
  };
}

/** Nothing to do: every resource is a disposable in `context.subscriptions`. */
export function deactivate(): void {}
