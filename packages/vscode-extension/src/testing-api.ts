/**
 * INTERNAL: the object `activate()` returns, for the extension's own host tests only. Not a
 * public API: it may change in any release. It lets a test script the dialogs and read what the
 * status bar shows; it never exposes a stored secret.
 */
import type { SecretStore, Ui } from './commands/ports';
import type { StatusBarView } from './logic/status';

/** Test hooks. */
export interface ProfilegateTesting {
  /** Replaces the dialogs and notifications (undefined: back to VS Code's). */
  setUi(ui: Ui | undefined): void;
  /** The extension's SecretStorage, to arrange and check what is stored. */
  secrets: SecretStore;
  /**
   * What the one-minute timer and window focus run, now: asks the server for its token (when an
   * admin key is stored), re-reads settings and secrets, then updates the status bar and diagnostics.
   */
  refresh(): Promise<void>;
  /** What the status bar item shows (undefined before its first refresh). */
  statusBar(): StatusBarView | undefined;
  /** The `when`-clause context keys as the extension last set them. */
  contextKeys(): Record<string, boolean>;
  /** How many Adobe clients (each caching its IMS access token) are kept: at most one. */
  imsTokensCachedFor(): number;
  /** The last lines written to the Profilegate output channel. */
  logLines(): string[];
  /**
   * What activation runs: offers to adopt a token of the client found in the workspace, where
   * Profilegate is in use and none is stored, once per workspace (`again`: forget it was offered).
   * True when the offer was shown.
   */
  offerAdoption(options: { again: boolean }): Promise<boolean>;
}

/** What `activate()` returns. */
export interface ProfilegateExtensionApi {
  /** INTERNAL, for tests. */
  testing: ProfilegateTesting;
}
