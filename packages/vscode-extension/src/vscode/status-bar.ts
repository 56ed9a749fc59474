/**
 * The status bar item with the time left on the stored token: warning colour inside
 * `profilegate.expiryWarningDays` or once the server's token is another one (regenerated or
 * revoked elsewhere), error colour once expired, and an expiry reminder at most once a day.
 * Clicking it runs Show Token Status. Where Profilegate is not set up yet it reads "Profilegate: set
 * up" and opens the walkthrough. It also sets the `when`-clause context keys from what is stored.
 * The extension refreshes it every minute, on focus, and when a secret or setting changes.
 */
import * as vscode from 'vscode';
import { COMMANDS } from '../commands';
import type { SecretStore, Ui } from '../commands/ports';
import type { SettingsResult } from '../logic/settings';
import type { ServerToken } from '../logic/server-token';
import { secretKeys, type ExtensionSettings } from '../logic/settings';
import { adobeSecretKey, adobeTokenKeys } from '../logic/adobe-settings';
import { scopesInUse } from '../commands/adobe-common';
import {
  expiryReminder,
  localDay,
  setupView,
  shouldNotifyExpiry,
  statusBarView,
  type StatusBarView,
} from '../logic/status';
import { CONTEXT_KEYS } from '../commands/common';
import type { ContextKeys } from './context-keys';

/** What the status bar item needs. */
export interface StatusBarDeps {
  secrets: SecretStore;
  /** Where the day of the last reminder is kept (the extension's globalState). */
  state: vscode.Memento;
  settings: () => SettingsResult;
  /** Whether the workspace configures Profilegate (then the item shows even without a token). */
  configuredInWorkspace: () => boolean;
  ui: () => Ui;
  now: () => number;
  /** The server's token as last read (unknown when it was not). */
  server: () => ServerToken;
  /** The `when`-clause keys, set from what is stored. */
  contextKeys: ContextKeys;
}

/** The token status bar item; `refresh` after anything it shows may have changed. */
export class TokenStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private view: StatusBarView | undefined;
  private generation = 0;

  constructor(private readonly deps: StatusBarDeps) {
    this.item = vscode.window.createStatusBarItem('profilegate.token', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Profilegate Token';
  }

  /** What the item shows now (for tests). */
  current(): StatusBarView | undefined {
    return this.view;
  }

  async refresh(): Promise<void> {
    const generation = ++this.generation;
    const result = this.deps.settings();
    if (!result.ok) {
      await Promise.all([
        this.deps.contextKeys.set(CONTEXT_KEYS.adminKeyStored, false),
        this.deps.contextKeys.set(CONTEXT_KEYS.tokenStored, false),
        this.deps.contextKeys.set(CONTEXT_KEYS.adobeTarget, false),
        this.deps.contextKeys.set(CONTEXT_KEYS.adobeClientSecretStored, false),
      ]);
      if (generation !== this.generation) return;
      this.show(setupView(result.problems.join('; ')));
      return;
    }
    const settings = result.settings;
    if (settings.adobe !== undefined) return this.refreshAdobe(settings, generation);
    await Promise.all([
      this.deps.contextKeys.set(CONTEXT_KEYS.adobeTarget, false),
      this.deps.contextKeys.set(CONTEXT_KEYS.adobeClientSecretStored, false),
    ]);
    const keys = secretKeys(settings);
    const [token, adminKey] = await Promise.all([
      this.deps.secrets.get(keys.token),
      this.deps.secrets.get(keys.adminKey),
    ]);
    if (generation !== this.generation) return; // a newer refresh is under way
    await Promise.all([
      this.deps.contextKeys.set(CONTEXT_KEYS.adminKeyStored, adminKey !== undefined && adminKey !== ''),
      this.deps.contextKeys.set(CONTEXT_KEYS.tokenStored, token !== undefined && token !== ''),
    ]);
    if (generation !== this.generation) return;
    const now = this.deps.now();
    const view = statusBarView({
      token,
      inUse: adminKey !== undefined || this.deps.configuredInWorkspace(),
      client: settings.client,
      serverUrl: settings.serverUrl,
      warningDays: settings.expiryWarningDays,
      now,
      server: this.deps.server(),
    });
    this.show(view);

    const stateKey = `profilegate.expiryReminder:${keys.token}`;
    // A replaced token gets its own warning (from the server watch), not an expiry reminder.
    if (
      token !== undefined &&
      !view.replaced &&
      shouldNotifyExpiry(view.level, this.deps.state.get<string>(stateKey), now)
    ) {
      await this.deps.state.update(stateKey, localDay(now));
      this.deps.ui().show('warning', expiryReminder(token, settings.client, now), [
        {
          title: 'Generate New Token',
          run: () => vscode.commands.executeCommand(COMMANDS.generateToken),
        },
      ]);
    }
  }

  /** An Adobe Target target: the context keys, and an item that opens Show Token Status. */
  private async refreshAdobe(settings: ExtensionSettings, generation: number): Promise<void> {
    const adobe = settings.adobe;
    if (adobe === undefined) return;
    const secret = await this.deps.secrets.get(adobeSecretKey(adobe));
    const tokens = await Promise.all(
      scopesInUse(adobe).map((scope) => this.deps.secrets.get(adobeTokenKeys(adobe, scope).token)),
    );
    if (generation !== this.generation) return;
    await Promise.all([
      this.deps.contextKeys.set(CONTEXT_KEYS.adobeTarget, true),
      this.deps.contextKeys.set(CONTEXT_KEYS.adobeClientSecretStored, secret !== undefined && secret !== ''),
      this.deps.contextKeys.set(CONTEXT_KEYS.adminKeyStored, false),
      this.deps.contextKeys.set(
        CONTEXT_KEYS.tokenStored,
        tokens.some((t) => t !== undefined && t !== ''),
      ),
    ]);
    if (generation !== this.generation) return;
    this.show({
      level: 'none',
      replaced: false,
      text: `$(key) Adobe Target: ${adobe.tenant}`,
      tooltip: `Profilegate rotates the Adobe Target token of tenant ${adobe.tenant} (${scopesInUse(adobe).join(', ')}). Click for the token status.`,
      visible: true,
      action: 'status',
    });
  }

  private show(view: StatusBarView): void {
    this.view = view;
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.action === 'walkthrough' ? COMMANDS.getStarted : COMMANDS.showTokenStatus;
    this.item.backgroundColor =
      view.level === 'expired'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.level === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    if (view.visible) this.item.show();
    else this.item.hide();
  }

  dispose(): void {
    this.item.dispose();
  }
}
