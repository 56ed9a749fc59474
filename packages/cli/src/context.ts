import {
  AdminClient,
  ProfileClient,
  displayJson,
  displayText,
  isValidClientCode,
  maskToken,
} from '@profilegate/client';
import type { Command } from 'commander';
import { AdobeSettings, chooseTarget, type AdobeOptions, type TargetKind } from './adobe-target';
import { UsageError } from './errors';

/** Server used when neither --server nor PROFILEGATE_SERVER is given: the demo server's default. */
export const DEFAULT_SERVER = 'http://127.0.0.1:8080';
/** Client used when neither --client nor PROFILEGATE_CLIENT is given. */
export const DEFAULT_CLIENT = 'demo';

/** The options every command takes. */
export interface GlobalOptions extends AdobeOptions {
  target?: TargetKind;
  server?: string;
  client?: string;
  adminKey?: string;
  json?: boolean;
  reveal?: boolean;
  yes?: boolean;
}

/** Where output goes; swapped in tests, process streams otherwise. */
export interface Streams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Everything a command needs: resolved settings, output helpers and the API client. */
export class CommandContext {
  readonly server: string;
  readonly client: string;
  readonly json: boolean;
  readonly reveal: boolean;
  /** --yes: destructive commands go ahead without asking (see confirm.ts). */
  readonly yes: boolean;
  /** What the commands act on: a Profilegate server or Adobe Target (see adobe-target.ts). */
  readonly target: TargetKind;
  private readonly adminKey: string | undefined;
  private readonly options: GlobalOptions;
  #adobe: AdobeSettings | undefined;

  constructor(
    options: GlobalOptions,
    readonly streams: Streams,
  ) {
    const env = streams.env;
    this.options = options;
    this.target = chooseTarget(options, env);
    this.server = nonEmpty(options.server) ?? nonEmpty(env['PROFILEGATE_SERVER']) ?? DEFAULT_SERVER;
    this.client = nonEmpty(options.client) ?? nonEmpty(env['PROFILEGATE_CLIENT']) ?? DEFAULT_CLIENT;
    this.adminKey = nonEmpty(options.adminKey) ?? nonEmpty(env['PROFILEGATE_ADMIN_KEY']);
    this.json = options.json === true;
    this.reveal = options.reveal === true;
    this.yes = options.yes === true;
    if (this.target === 'profilegate' && !isValidClientCode(this.client)) {
      throw new UsageError(
        'The client code must be 1 to 64 characters of a-z, 0-9 and "-" (set --client or PROFILEGATE_CLIENT)',
      );
    }
  }

  /** True when the admin key is known (from --admin-key or PROFILEGATE_ADMIN_KEY). */
  get hasAdminKey(): boolean {
    return this.adminKey !== undefined;
  }

  /** The Adobe Target settings and client (one per run, so its IMS access token is reused). */
  adobe(): AdobeSettings {
    this.#adobe ??= new AdobeSettings(this.options, this.streams.env);
    return this.#adobe;
  }

  /**
   * Stops a command an Adobe target cannot do (exit 2) before anything is sent; `why` says why,
   * in a sentence.
   */
  refuseForAdobe(why: string): void {
    if (this.target === 'adobe') throw new UsageError(why);
  }

  /** The API client; `needsAdminKey` makes a missing key a usage error. */
  api(needsAdminKey = true): AdminClient {
    if (needsAdminKey && this.adminKey === undefined) {
      throw new UsageError('Give the admin key: set PROFILEGATE_ADMIN_KEY (or pass --admin-key)');
    }
    return new AdminClient({
      serverUrl: this.server,
      client: this.client,
      ...(this.adminKey === undefined ? {} : { adminKey: this.adminKey }),
    });
  }

  /** The API client with the profile routes (get, delete, export); `needsAdminKey` as for `api`. */
  profileApi(needsAdminKey = true): ProfileClient {
    if (needsAdminKey && this.adminKey === undefined) {
      throw new UsageError('Give the admin key: set PROFILEGATE_ADMIN_KEY (or pass --admin-key)');
    }
    return new ProfileClient({
      serverUrl: this.server,
      client: this.client,
      ...(this.adminKey === undefined ? {} : { adminKey: this.adminKey }),
    });
  }

  /** The token as this run may show it: whole with --reveal, masked otherwise. */
  show(token: string): string {
    return displayText(this.reveal ? token : maskToken(token));
  }

  // Every line is escaped as a whole: the lines hold ids, messages, times and file names that
  // came from a file or the server, and none of the CLI's own text needs a control character.

  /** Prints one line of human output (nothing in --json mode). */
  say(line = ''): void {
    if (!this.json) this.streams.stdout.write(`${displayText(line)}\n`);
  }

  /** Prints a progress or warning line on stderr (never in --json mode's stdout). */
  note(line: string): void {
    this.streams.stderr.write(`${displayText(line)}\n`);
  }

  /** Prints the machine output of --json mode. */
  result(value: unknown): void {
    if (this.json) this.streams.stdout.write(`${displayJson(value)}\n`);
  }
}

/**
 * Text of several lines as it may be printed: each line escaped by `displayText`. The pieces that
 * came from data must already be escaped, so that a line break in them cannot pose as our own.
 */
export function displayLines(text: string): string {
  return text.split('\n').map(displayText).join('\n');
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** The global options of a command, wherever on the line they were given. */
export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}
