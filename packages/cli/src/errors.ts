import { AdminApiError, ServerUnreachableError } from '@profilegate/client';
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
} as const;

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

/** Exit code, machine code and human message of any error a command can end with. */
export function describeError(error: unknown): { exitCode: number; code: string; message: string; status?: number } {
  if (error instanceof UsageError) return { exitCode: EXIT.usage, code: 'Usage', message: error.message };
  if (error instanceof CommanderError) return { exitCode: EXIT.usage, code: 'Usage', message: error.message };
  if (error instanceof ServerUnreachableError) {
    return { exitCode: EXIT.unreachable, code: 'ServerUnreachable', message: error.message };
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
  if (error.status === 401) return ' (check PROFILEGATE_ADMIN_KEY or --admin-key)';
  if (error.status === 403) return ' (use an admin key with a role that may do this)';
  if (error.errorCode === 'ClientNotFound') return ' (check PROFILEGATE_CLIENT or --client)';
  return '';
}
