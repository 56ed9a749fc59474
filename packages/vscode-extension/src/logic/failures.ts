/**
 * What the user reads when a server call fails: what went wrong, on which server, and what to do,
 * with the one action that fixes it (a button). Pure: the errors are core's typed ones.
 */
import { AdminApiError, ServerUnreachableError } from '@profilegate/client';
import { scrubTokens } from './messages';

/** The server operation that failed, as the sentence needs it. */
export type Operation =
  'read-token' | 'generate-token' | 'revoke-token' | 'read-settings' | 'toggle-authentication' | 'check-admin-key';

/** A button offered with the message. */
export type Fix = 'set-admin-key' | 'open-server-setting' | 'open-client-setting' | 'none';

/** The message and its fix. */
export interface FailureDescription {
  message: string;
  fix: Fix;
}

const DOING: Readonly<Record<Operation, string>> = {
  'read-token': 'read the profile token',
  'generate-token': 'generate the profile token',
  'revoke-token': 'revoke the profile token',
  'read-settings': 'read the settings',
  'toggle-authentication': 'change Require Authentication',
  'check-admin-key': 'check the admin key',
};

/** Who may do it, from API.md section 3. */
function whoMay(operation: Operation): string {
  if (operation === 'toggle-authentication') return 'only the admin role, a workspace admin or a sysadmin may';
  if (operation === 'read-settings' || operation === 'check-admin-key') return 'any valid admin key may';
  return 'only the approver, publisher or admin role, a workspace admin or a sysadmin may';
}

/** Describes a failed server call of `operation` against `serverUrl` for `client`. */
export function describeFailure(
  error: unknown,
  context: { operation: Operation; serverUrl: string; client: string },
): FailureDescription {
  const { operation, serverUrl, client } = context;
  if (error instanceof ServerUnreachableError) {
    return {
      message: `Cannot reach the Profilegate server at ${serverUrl}: ${scrubTokens(error.message)}. Check the profilegate.serverUrl setting and that the server is running.`,
      fix: 'open-server-setting',
    };
  }
  if (error instanceof AdminApiError) {
    if (error.status === 401) {
      return {
        message: `The admin key was refused by ${serverUrl}. Run Profilegate: Set Admin Key… and try again.`,
        fix: 'set-admin-key',
      };
    }
    if (error.status === 403) {
      return {
        message:
          `The role of this admin key may not ${DOING[operation]} of client ${client} on ${serverUrl}: ${whoMay(operation)}. ` +
          'Ask one of them to do it, or run Profilegate: Set Admin Key… with a key of such a role.',
        fix: 'set-admin-key',
      };
    }
    if (error.status === 404 && error.errorCode === 'ClientNotFound') {
      return {
        message: `${serverUrl} does not serve client ${client}. Check the profilegate.client setting.`,
        fix: 'open-client-setting',
      };
    }
    if (error.status === 404 && error.errorCode !== 'TokenNotFound') {
      return {
        message: `${serverUrl} has no Profilegate admin API for client ${client} (404). Check profilegate.serverUrl: it must be where the router is mounted.`,
        fix: 'open-server-setting',
      };
    }
    if (error.status === 429) {
      return { message: `${serverUrl} is limiting requests (429); try again in a minute.`, fix: 'none' };
    }
    return {
      message: `${serverUrl} refused to ${DOING[operation]} of client ${client}: ${scrubTokens(error.message)} (HTTP ${error.status}).`,
      fix: 'none',
    };
  }
  const reason = error instanceof Error ? error.message : String(error);
  return { message: `Could not ${DOING[operation]} of client ${client}: ${scrubTokens(reason)}`, fix: 'none' };
}
