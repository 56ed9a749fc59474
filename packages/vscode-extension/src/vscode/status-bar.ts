/**
 * The status bar item with the time left on the stored token: warning colour inside
 * `profilegate.expiryWarningDays` or once the server's token is another one (regenerated or
 * revoked elsewhere), error colour once expired, and an expiry reminder at most once a day.
 * Clicking it runs Show Token Status. The extension refreshes it every minute and on focus.
 */
import * as vscode from 'vscode';
import { COMMANDS } from '../commands';
import type { SecretStore, Ui } from '../commands/ports';
import type { SettingsResult } from '../logic/settings';
import type { ServerToken } from '../logic/server-token';
import { secretKeys } from '../logic/settings';
import { expiryReminder, localDay, shouldNotifyExpiry, statusBarView, type StatusBarView } from '../logic/status';

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
}

/** The token status bar item; `refresh` after anything it shows may have changed. */
export class TokenStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private view: StatusBarView | undefined;
  private generation = 0;

  constructor(private readonly deps: StatusBarDeps) {
    this.item = vscode.window.createStatusBarItem('profilegate.token', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Profilegate Token';
    this.item.command = COMMANDS.showTokenStatus;
  }

  /** What the item shows now (for tests). */
  current(): StatusBarView | undefined {
    return this.view;
  }

  async refresh(): Promise<void> {
    const generation = ++this.generation;
    const result = this.deps.settings();
    if (!result.ok) {
      this.view = undefined;
      this.item.hide();
      return;
    }
    const settings = result.settings;
    const keys = secretKeys(settings);
    const [token, adminKey] = await Promise.all([
      this.deps.secrets.get(keys.token),
      this.deps.secrets.get(keys.adminKey),
    ]);
    if (generation !== this.generation) return; // a newer refresh is under way
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
    this.view = view;
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor =
      view.level === 'expired'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.level === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    if (view.visible) this.item.show();
    else this.item.hide();

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

  dispose(): void {
    this.item.dispose();
  }
}
