/**
 * Entry point: wires the commands, the status bar, the diagnostics and the server watch to VS Code
 * and pushes every disposable. The logic lives in `logic/` and `commands/` (no `vscode` import,
 * unit-tested in plain Node); `vscode/` holds the adapters.
 */
import { createHash } from 'node:crypto';
import { AdminClient, AdobeTargetClient } from '@profilegate/client';
import * as vscode from 'vscode';
import { commandHandlers, Exclusive } from './commands';
import type { CommandServices, Ui } from './commands/ports';
import { ServerTokenWatch } from './commands/server-watch';
import { scrubTokens } from './logic/messages';
import { Poller, type Scheduler } from './logic/poller';
import type { ProfilegateExtensionApi } from './testing-api';
import { configuredInWorkspace, currentSettings, vscodeWorkbench } from './vscode/config';
import { ADOPTION_OFFERED, offerAdoption } from './vscode/adoption-offer';
import { ContextKeys } from './vscode/context-keys';
import { StaleTokenDiagnostics } from './vscode/diagnostics';
import { TokenStatusBar } from './vscode/status-bar';
import { VsCodeUi } from './vscode/ui';
import { WorkspaceTokenFiles } from './vscode/workspace-files';

/** The real timer. */
const intervalScheduler: Scheduler = {
  every: (intervalMs, run) => {
    const timer = setInterval(run, intervalMs);
    return { dispose: () => clearInterval(timer) };
  },
};

/** Called by VS Code on the first command or once startup has finished. */
export function activate(context: vscode.ExtensionContext): ProfilegateExtensionApi {
  const output = vscode.window.createOutputChannel('Profilegate', { log: true });
  context.subscriptions.push(output);
  // The last lines written to the output channel, for the host tests' check that nothing leaks.
  const logged: string[] = [];
  const log = (line: string) => {
    const safe = scrubTokens(line);
    logged.push(safe);
    if (logged.length > 1000) logged.shift();
    output.info(safe);
  };

  const vscodeUi = new VsCodeUi((error) => log(`A button's action failed: ${String(error)}`));
  let ui: Ui = vscodeUi;
  const now = () => Date.now();
  const createApi: CommandServices['createApi'] = (settings, adminKey) =>
    new AdminClient({ serverUrl: settings.serverUrl, client: settings.client, adminKey, timeoutMs: 20_000 });

  // One Adobe client per credential and endpoint, so its IMS access token is cached (in memory)
  // until it expires. The map's key holds a hash of the secret, never the secret.
  const adobeClients = new Map<string, AdobeTargetClient>();
  const createAdobe: CommandServices['createAdobe'] = (adobe, clientSecret) => {
    const secretHash = createHash('sha256').update(clientSecret).digest('hex');
    const key = JSON.stringify([adobe.tenant, adobe.clientId, adobe.scopes, adobe.imsUrl, adobe.adminUrl, secretHash]);
    let client = adobeClients.get(key);
    if (client === undefined) {
      client = new AdobeTargetClient({ ...adobe, clientSecret, timeoutMs: 20_000 });
      adobeClients.clear();
      adobeClients.set(key, client);
    }
    return client;
  };

  const files = new WorkspaceTokenFiles();
  const services: CommandServices = {
    ui: () => ui,
    secrets: context.secrets,
    readSettings: currentSettings,
    createApi,
    createAdobe,
    files,
    workbench: vscodeWorkbench,
    log,
    now,
  };
  const exclusive = new Exclusive();

  const watch = new ServerTokenWatch({
    settings: currentSettings,
    secrets: context.secrets,
    createApi,
    busy: () => exclusive.busy(),
    ui: () => ui,
    workbench: vscodeWorkbench,
    log,
  });
  const contextKeys = new ContextKeys();
  const statusBar = new TokenStatusBar({
    contextKeys,
    secrets: context.secrets,
    state: context.globalState,
    settings: currentSettings,
    configuredInWorkspace,
    ui: () => ui,
    now,
    server: () => watch.current(),
  });
  const diagnostics = new StaleTokenDiagnostics({
    secrets: context.secrets,
    settings: currentSettings,
    now,
    server: () => watch.current(),
  });
  context.subscriptions.push(statusBar, diagnostics);

  // Asks the server (when an admin key is stored), then updates what the user sees from its answer.
  // Run by the Poller: at activation, every minute, on focus, and when settings or secrets change.
  const refresh = async () => {
    await watch.check();
    await Promise.all([statusBar.refresh(), diagnostics.refresh()]);
  };
  const poller = new Poller({
    scheduler: intervalScheduler,
    now,
    run: () => refresh().catch((error: unknown) => log(`Refreshing the token status failed: ${String(error)}`)),
  });
  const refreshQuietly = () => void poller.poll();

  for (const [id, handler] of commandHandlers(services, exclusive)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, handler));
  }
  context.subscriptions.push(
    poller,
    context.secrets.onDidChange((event) => {
      if (event.key.startsWith('profilegate.')) refreshQuietly();
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('profilegate')) refreshQuietly();
    }),
    // A rotation done elsewhere is noticed when the user comes back to the window, and within a minute.
    vscode.window.onDidChangeWindowState((state) => {
      if (state.focused) void poller.nudge();
    }),
  );
  poller.start();
  refreshQuietly();
  // A project that already holds a token of the client: offer to adopt it (once per workspace).
  const offer = () =>
    offerAdoption({
      settings: currentSettings,
      configuredInWorkspace,
      secrets: context.secrets,
      files,
      state: context.workspaceState,
      ui: () => ui,
      workbench: vscodeWorkbench,
      now,
    });
  void offer().catch((error: unknown) => log(`Looking for a token to adopt failed: ${String(error)}`));

  return {
    testing: {
      setUi: (next) => {
        ui = next ?? vscodeUi;
      },
      secrets: context.secrets,
      refresh: () => poller.poll(),
      statusBar: () => statusBar.current(),
      contextKeys: () => contextKeys.current(),
      imsTokensCachedFor: () => adobeClients.size,
      logLines: () => [...logged],
      offerAdoption: async ({ again }) => {
        if (again) await context.workspaceState.update(ADOPTION_OFFERED, undefined);
        return offer();
      },
    },
  };
}

/** Nothing to do: every resource is a disposable in `context.subscriptions`. */
export function deactivate(): void {}
