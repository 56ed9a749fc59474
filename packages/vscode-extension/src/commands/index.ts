/** The command table: id → what runs. Token-changing commands run one at a time. */
import { forgetAdminKey, resumeOf, setAdminKey } from './admin-key';
import { adoptWorkspaceToken } from './adopt';
import { COMMANDS, Exclusive } from './common';
import { generateToken } from './generate';
import type { CommandResult, CommandServices } from './ports';
import { replaceOldTokens } from './replace-old';
import { revokeToken, showTokenStatus, toggleAuthentication } from './server';
import { updateStoredToken } from './update-stored';

export { COMMANDS, Exclusive } from './common';

/** Every command of package.json with its handler; `exclusive` runs the token-changing ones one at a time. */
export function commandHandlers(
  s: CommandServices,
  exclusive = new Exclusive(),
): Array<[string, (...args: unknown[]) => Promise<CommandResult>]> {
  const locked = (name: string, run: (s: CommandServices) => Promise<CommandResult>) => () =>
    exclusive.run(s, name, () => run(s));
  const plain = (run: (s: CommandServices) => Promise<CommandResult>) => () => run(s);
  return [
    [COMMANDS.generateToken, locked('Generate New Profile Authentication Token', generateToken)],
    [COMMANDS.updateStoredToken, locked('Update Stored Token', updateStoredToken)],
    [COMMANDS.replaceOldTokens, locked('Replace Old Tokens in Workspace', replaceOldTokens)],
    [COMMANDS.toggleAuthentication, locked('Toggle Require Authentication', toggleAuthentication)],
    [COMMANDS.revokeToken, locked('Revoke Profile Authentication Token', revokeToken)],
    [COMMANDS.showTokenStatus, plain(showTokenStatus)],
    // Its argument `{ resume: id }` names the command to run again once the key is stored.
    [COMMANDS.setAdminKey, (argument?: unknown) => setAdminKey(s, resumeOf(argument))],
    [COMMANDS.forgetAdminKey, plain(forgetAdminKey)],
    [COMMANDS.adoptWorkspaceToken, plain(adoptWorkspaceToken)],
    [
      COMMANDS.getStarted,
      async () => {
        await s.workbench.openWalkthrough();
        return { outcome: 'done' };
      },
    ],
  ];
}
