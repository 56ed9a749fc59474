import { AdminApiError, AdobeConfigError, ServerUnreachableError, UnsupportedByTargetError } from '@profilegate/client';
import { CommanderError } from 'commander';

/** Exit codes of every command (documented in the README). */
export const EXIT = {
  ok: 0,
  /** The server refused the request, or the operation failed (e.g. a batch row failed). */
  refused: 1,
  /** Wrong command line or configuration. */
  usage: 2,
  /** The server could not be reached. */
  unreachable: 3,
  /**
   * The server refused the admin key (401 from an admin route): set PROFILEGATE_ADMIN_KEY; or
   * Adobe refused the credential (IMS refused the client id or secret, or the Admin API the IMS token).
   */
  adminKey: 4,
} as const;

/** The exit codes as `--help` and the README list them. */
export const EXIT_CODES_HELP = `Exit codes:
  0  done
  1  the server refused, a batch row failed, or you answered no
  2  usage: a wrong flag, file or setting, or a confirmation needed without a terminal (pass --yes)
  3  the server could not be reached
  4  the server refused the admin key (set PROFILEGATE_ADMIN_KEY or pass --admin-key),
     or Adobe refused the credential (check PROFILEGATE_ADOBE_CLIENT_ID and _CLIENT_SECRET)`;

/** A wrong flag, argument or configuration (exit 2); the message says what to fix. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure that is not the server's refusal: exit 1 with this message. */
export class CommandFailedError extends Error {
  constructor(
    message: string,
    /** True when --json output already describes the failure, so no error object follows it. */
    readonly reportedInJson = false,
  ) {
    super(message);
    this.name = 'CommandFailedError';
  }
}

/** A failure with its own exit code and machine code (e.g. Adobe refused the credential: 4). */
export class ExitError extends Error {
  constructor(
    readonly exitCode: number,
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ExitError';
  }
}

/** Exit code, machine code and human message of any error a command can end with. */
export function describeError(error: unknown): { exitCode: number; code: string; message: string; status?: number } {
  if (error instanceof UsageError) return { exitCode: EXIT.usage, code: 'Usage', message: error.message };
  if (error instanceof CommanderError) return { exitCode: EXIT.usage, code: 'Usage', message: error.message };
  if (error instanceof AdobeConfigError || error instanceof UnsupportedByTargetError) {
    return { exitCode: EXIT.usage, code: 'Usage', message: error.message };
  }
  if (error instanceof ExitError) {
    return {
      exitCode: error.exitCode,
      code: error.code,
      message: error.message,
      ...(error.status === undefined ? {} : { status: error.status }),
    };
  }
  if (error instanceof ServerUnreachableError) {
    return { exitCode: EXIT.unreachable, code: 'ServerUnreachable', message: error.message };
  }
  if (error instanceof AdminApiError && error.status === 401 && error.route === 'admin') {
    return {
      exitCode: EXIT.adminKey,
      code: error.errorCode,
      status: error.status,
      message:
        'The server refused the admin key. Set PROFILEGATE_ADMIN_KEY (or pass --admin-key) to an admin key ' +
        "this server accepts (the demo server's is in its data folder, file admin-key), and check --server.",
    };
  }
  if (error instanceof AdminApiError && error.status === 401 && error.route === 'profile') {
    // The server's text tells an HTTP caller which header to send; a CLI user sends none.
    return {
      exitCode: EXIT.refused,
      code: error.errorCode,
      status: error.status,
      message:
        'The server refused the profile request: Require Authentication is on and no valid profile token was sent. ' +
        'The CLI sends the current token, read with the admin key: if it was revoked or never generated, run ' +
        'profilegate token generate; without an admin key (set PROFILEGATE_ADMIN_KEY) it sends none.',
    };
  }
  if (error instanceof AdminApiError) {
    return {
      exitCode: EXIT.refused,
      code: error.errorCode,
      status: error.status,
      message: `${error.message}${hint(error)}`,
    };
  }
  if (error instanceof CommandFailedError) return { exitCode: EXIT.refused, code: 'Failed', message: error.message };
  if (error instanceof TypeError && /server URL/.test(error.message)) {
    return { exitCode: EXIT.usage, code: 'Usage', message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { exitCode: EXIT.refused, code: 'Failed', message };
}

function hint(error: AdminApiError): string {
  if (error.status === 403) return ' (use an admin key with a role that may do this)';
  if (error.errorCode === 'ClientNotFound') return ' (check PROFILEGATE_CLIENT or --client)';
  // A 404 without the router's error body: nothing is mounted there (often the admin page's URL
  // pasted as the server's).
  if (error.status === 404 && error.errorCode === 'Http404' && error.message.startsWith('The server answered 404')) {
    return (
      ': nothing answers there; check --server (or PROFILEGATE_SERVER): the URL the Profilegate router is ' +
      'mounted at, e.g. http://127.0.0.1:8080, not the admin page'
    );
  }
  return '';
}
