/**
 * Notices a rotation done elsewhere (the CLI, the admin page, a colleague): asks the server for its
 * current token (where settings and a stored admin key exist), keeps what it said for the status
 * bar and the diagnostics, and warns once per token replaced elsewhere, with the button that
 * finishes the job. When to ask is the Poller's business (logic/poller.ts).
 */
import { AdminApiError } from '@profilegate/client';
import {
  rotationNotice,
  serverTokenFromInfo,
  serverTokenFromSettings,
  UNKNOWN_SERVER_TOKEN,
  type RotationNotice,
  type ServerToken,
} from '../logic/server-token';
import { secretKeys, type ExtensionSettings, type SettingsResult } from '../logic/settings';
import { COMMANDS } from './common';
import type { AdminApi, SecretStore, Ui, Workbench } from './ports';

/** What the watch needs. */
export interface ServerWatchDeps {
  settings(): SettingsResult;
  secrets: SecretStore;
  createApi(settings: ExtensionSettings, adminKey: string): Pick<AdminApi, 'getToken' | 'getSettings'>;
  /** True while a token-changing command runs: its own rotation is not one "done elsewhere". */
  busy(): boolean;
  ui(): Ui;
  workbench: Workbench;
  log(line: string): void;
}

/** Keeps what the server last said about its token, and warns once per token replaced elsewhere. */
export class ServerTokenWatch {
  private slot: string | undefined;
  private server: ServerToken = UNKNOWN_SERVER_TOKEN;
  private lastFailure: string | undefined;
  private readonly announced = new Set<string>();

  constructor(private readonly deps: ServerWatchDeps) {}

  /** The server's token as last read for the current settings; unknown when not read. */
  current(): ServerToken {
    const result = this.deps.settings();
    if (!result.ok || this.slot !== secretKeys(result.settings).token) return UNKNOWN_SERVER_TOKEN;
    return this.server;
  }

  /** Asks the server (when settings and an admin key exist); true when what it says changed. */
  async check(): Promise<boolean> {
    const result = this.deps.settings();
    if (!result.ok) return this.set(undefined, UNKNOWN_SERVER_TOKEN);
    const settings = result.settings;
    // An Adobe Target target: no Profilegate server to watch.
    if (settings.target === 'adobe') return this.set(undefined, UNKNOWN_SERVER_TOKEN);
    const keys = secretKeys(settings);
    const adminKey = await this.deps.secrets.get(keys.adminKey);
    if (adminKey === undefined || adminKey === '') return this.set(keys.token, UNKNOWN_SERVER_TOKEN);
    if (this.deps.busy()) return false;
    const storedBefore = await this.deps.secrets.get(keys.token);

    let server: ServerToken;
    try {
      server = await this.read(settings, adminKey);
      this.lastFailure = undefined;
    } catch (error) {
      // Unreachable, refused: say so once in the log, and claim nothing about the token.
      const reason = error instanceof Error ? error.message : String(error);
      if (reason !== this.lastFailure) this.deps.log(`Checking the server's token failed: ${reason}`);
      this.lastFailure = reason;
      return this.set(keys.token, UNKNOWN_SERVER_TOKEN);
    }
    // A rotation by this window, or new settings, while the server answered: that answer is stale.
    const now = this.deps.settings();
    const storedAfter = await this.deps.secrets.get(keys.token);
    if (this.deps.busy() || storedAfter !== storedBefore || !now.ok || secretKeys(now.settings).token !== keys.token) {
      return false;
    }
    const changed = this.set(keys.token, server);
    this.announce(
      rotationNotice({ stored: storedAfter, server, client: settings.client, serverUrl: settings.serverUrl }),
    );
    return changed;
  }

  /** GET token; with a key that may not read it (403), GET settings, which tells the times only. */
  private async read(settings: ExtensionSettings, adminKey: string): Promise<ServerToken> {
    const api = this.deps.createApi(settings, adminKey);
    try {
      return serverTokenFromInfo(await api.getToken());
    } catch (error) {
      if (!(error instanceof AdminApiError && error.status === 403)) throw error;
    }
    return serverTokenFromSettings(await api.getSettings());
  }

  private set(slot: string | undefined, server: ServerToken): boolean {
    const changed = slot !== this.slot || !sameAnswer(server, this.server);
    this.slot = slot;
    this.server = server;
    return changed;
  }

  private announce(notice: RotationNotice | undefined): void {
    if (notice === undefined || this.announced.has(notice.key)) return;
    this.announced.add(notice.key);
    this.deps.log(`warning: ${notice.message}`);
    const { workbench } = this.deps;
    const action =
      notice.fix === 'replace-old-tokens'
        ? { title: 'Replace Old Tokens', command: COMMANDS.replaceOldTokens }
        : notice.fix === 'paste-token'
          ? { title: 'Update Stored Token…', command: COMMANDS.updateStoredToken }
          : { title: 'Generate New Token', command: COMMANDS.generateToken };
    this.deps
      .ui()
      .show('warning', notice.message, [{ title: action.title, run: () => workbench.executeCommand(action.command) }]);
  }
}

/** Whether two answers of the server say the same. */
function sameAnswer(a: ServerToken, b: ServerToken): boolean {
  if (a.kind !== 'token' || b.kind !== 'token') return a.kind === b.kind;
  return a.token === b.token && a.issuedAt === b.issuedAt && a.expiresAt === b.expiresAt;
}
