/**
 * What the commands need from the outside world, as interfaces: the UI (so host tests can script
 * the answers), SecretStorage, the admin API, the workspace files and the workbench. The VS Code
 * adapters in `src/vscode` implement them; unit tests pass fakes. No `vscode` import here.
 */
import type { AdminClient, AdobeTargetClient } from '@profilegate/client';
import type { AdobeSettings } from '../logic/adobe-settings';
import type { ExtensionSettings, SettingsResult } from '../logic/settings';

/** A password input box. */
export interface SecretRequest {
  title: string;
  prompt: string;
  placeHolder?: string;
  /** Live validation: a reason to show under the box, or undefined when the value is fine. */
  validate?: (value: string) => string | undefined;
}

/** A modal warning with one confirming button (Cancel is always offered). */
export interface ConfirmRequest {
  message: string;
  detail: string;
  confirmTitle: string;
}

/** A button on a notification; `run` is called when it is chosen. */
export interface MessageAction {
  title: string;
  run: () => unknown;
}

/** One row of a quick pick: a choice carrying `value`, or a separator with a heading. */
export type PickItem<T> = { label: string; description?: string; detail?: string; value: T } | { separator: string };

/** A quick pick. */
export interface PickRequest<T> {
  title: string;
  placeHolder: string;
  items: ReadonlyArray<PickItem<T>>;
}

/** Severity of a notification. */
export type MessageLevel = 'info' | 'warning' | 'error';

/** The dialogs and notifications the commands use. Never pass a full token or key in any text. */
export interface Ui {
  /** Asks for a secret in a password box; undefined when the box was cancelled. */
  askSecret(request: SecretRequest): Promise<string | undefined>;
  /** Shows a modal warning; true only when the confirming button was chosen. */
  confirm(request: ConfirmRequest): Promise<boolean>;
  /** Shows a notification. Does not wait for a button: a command must not hang on an unanswered toast. */
  show(level: MessageLevel, message: string, actions?: readonly MessageAction[]): void;
  /** Shows a quick pick; the chosen item's value, or undefined when it was dismissed. */
  pick<T>(request: PickRequest<T>): Promise<T | undefined>;
  /** Runs `task` while a progress notification titled `title` is shown. */
  withProgress<T>(title: string, task: () => Promise<T>): Promise<T>;
}

/** The subset of SecretStorage used (VS Code's SecretStorage satisfies it). */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

/** The admin API calls used (core's AdminClient satisfies it). */
export type AdminApi = Pick<
  AdminClient,
  'getToken' | 'generateToken' | 'revokeToken' | 'getSettings' | 'setRequireAuthentication'
>;

/** Adobe Target's token routes (the client's AdobeTargetClient satisfies it). */
export type AdobeApi = Pick<AdobeTargetClient, 'getToken' | 'regenerateToken'>;

/** A file whose copies were replaced. */
export interface ChangedFile {
  /** URI as a string, to open it. */
  uri: string;
  /** Path shown to the user (relative to the workspace). */
  label: string;
  copies: number;
}

/** What replacing the old tokens in the workspace did. */
export interface FileUpdateOutcome {
  noWorkspace: boolean;
  filesScanned: number;
  changed: ChangedFile[];
  copies: number;
  /** Copies found but not replaced (left unticked or discarded in the Refactor Preview). */
  notApplied: number;
  /** Changed files not saved (they had unsaved changes before, or saving failed). */
  unsaved: string[];
  skipped: Array<{ label: string; reason: 'binary' | 'too-large' | 'unreadable' }>;
}

/** A request to replace old tokens in the workspace. */
export interface FileUpdateRequest {
  knownOldTokens: readonly string[];
  newToken: string;
  /** Other tokens of this Profilegate client are old too; undefined for opaque (Adobe) tokens, found by value only. */
  client: string | undefined;
  exclude: string | undefined;
  preview: boolean;
}

/** A token of the client found in the workspace files, and where. */
export interface FoundToken {
  token: string;
  /** Paths shown to the user (relative to the workspace), sorted. */
  files: string[];
}

/** Replaces copies of old tokens in the workspace files, and finds the client's tokens in them. */
export interface TokenFileUpdater {
  replace(request: FileUpdateRequest): Promise<FileUpdateOutcome>;
  /** Every distinct token of `client` in the workspace files (minus `exclude`), with its files. */
  findClientTokens(client: string, exclude: string | undefined): Promise<FoundToken[]>;
}

/** Workbench actions offered as buttons. */
export interface Workbench {
  executeCommand(command: string, ...args: unknown[]): PromiseLike<unknown>;
  openSettings(query: string): PromiseLike<unknown>;
  openFiles(uris: readonly string[]): PromiseLike<unknown>;
  /** Opens the extension's walkthrough (Get Started with Profilegate). */
  openWalkthrough(): PromiseLike<unknown>;
}

/** Everything a command needs; `ui` is read on each use so tests can swap it. */
export interface CommandServices {
  ui(): Ui;
  secrets: SecretStore;
  readSettings(): SettingsResult;
  createApi(settings: ExtensionSettings, adminKey: string): AdminApi;
  /** Adobe's token routes with this credential; the same one (and its cached IMS token) while nothing changed. */
  createAdobe(adobe: AdobeSettings, clientSecret: string): AdobeApi;
  files: TokenFileUpdater;
  workbench: Workbench;
  /** One line to the output channel; callers pass masked text only (it is scrubbed again). */
  log(line: string): void;
  now(): number;
}

/** What a command did, returned by `executeCommand` (used by tests; users read the messages). */
export interface CommandResult {
  outcome: 'done' | 'cancelled' | 'failed';
  /** The message shown last. */
  message?: string;
  copies?: number;
  files?: string[];
  /** The command that ran after this one finished: the interrupted one resumed, or the step picked. */
  next?: { command: string; result: CommandResult | undefined };
}
