/** The command table: id → what runs. Token-changing commands run one at a time. */
import {
  adobeGenerateToken,
  adobeReplaceOldTokens,
  adobeShowTokenStatus,
  forgetAdobeClientSecret,
  isAdobeTarget,
  setAdobeClientSecret,
} from './adobe';
import { ADOBE_COMMANDS, notForAdobe } from './adobe-common';
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
  type Run = (s: CommandServices) => Promise<CommandResult>;
  // With profilegate.target = adobe, the Adobe version runs, or a command Adobe cannot do explains why.
  const byTarget =
    (command: string, run: Run, adobe?: Run): Run =>
    (services) =>
      isAdobeTarget(services) ? (adobe ?? ((t) => Promise.resolve(notForAdobe(t, command))))(services) : run(services);
  const locked = (name: string, run: Run) => () => exclusive.run(s, name, () => run(s));
  const plain = (run: Run) => () => run(s);
  return [
    [
      COMMANDS.generateToken,
      locked(
        'Generate New Profile Authentication Token',
        byTarget(COMMANDS.generateToken, generateToken, adobeGenerateToken),
      ),
    ],
    [
      COMMANDS.updateStoredToken,
      locked('Update Stored Token', byTarget(COMMANDS.updateStoredToken, updateStoredToken)),
    ],
    [
      COMMANDS.replaceOldTokens,
      locked(
        'Replace Old Tokens in Workspace',
        byTarget(COMMANDS.replaceOldTokens, replaceOldTokens, adobeReplaceOldTokens),
      ),
    ],
    [
      COMMANDS.toggleAuthentication,
      locked('Toggle Require Authentication', byTarget(COMMANDS.toggleAuthentication, toggleAuthentication)),
    ],
    [COMMANDS.revokeToken, locked('Revoke Profile Authentication Token', byTarget(COMMANDS.revokeToken, revokeToken))],
    [COMMANDS.showTokenStatus, plain(byTarget(COMMANDS.showTokenStatus, showTokenStatus, adobeShowTokenStatus))],
    // Its argument `{ resume: id }` names the command to run again once the key is stored.
    [
      COMMANDS.setAdminKey,
      (argument?: unknown) =>
        isAdobeTarget(s) ? Promise.resolve(notForAdobe(s, COMMANDS.setAdminKey)) : setAdminKey(s, resumeOf(argument)),
    ],
    [COMMANDS.forgetAdminKey, plain(byTarget(COMMANDS.forgetAdminKey, forgetAdminKey))],
    [COMMANDS.adoptWorkspaceToken, plain(byTarget(COMMANDS.adoptWorkspaceToken, adoptWorkspaceToken))],
    [ADOBE_COMMANDS.setClientSecret, (argument?: unknown) => setAdobeClientSecret(s, resumeOf(argument))],
    [ADOBE_COMMANDS.forgetClientSecret, plain(forgetAdobeClientSecret)],
    [
      COMMANDS.getStarted,
      async () => {
        await s.workbench.openWalkthrough();
        return { outcome: 'done' };
      },
    ],
  ];
}
