import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { auditCommand } from './commands/audit';
import { batchCommand } from './commands/batch';
import { profileCommand } from './commands/profile';
import { settingsCommand } from './commands/settings';
import { tokenCommand } from './commands/token';
import { displayJson, displayText } from '@profilegate/client';
import { displayLines, type Streams } from './context';
import { CommandFailedError, EXIT, EXIT_CODES_HELP, describeError } from './errors';
import { examplesOf, withExamples } from './examples';

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return '0.0.0';
  }
}

const EPILOG = `
Configuration (flags win over the environment):
  PROFILEGATE_SERVER     server URL (default http://127.0.0.1:8080)
  PROFILEGATE_CLIENT     client code (default demo)
  PROFILEGATE_ADMIN_KEY  admin key (prefer it to --admin-key, which other users can see in ps)

Adobe Target's own token (token show, generate, replace; each variable but the secret has an
--adobe-* flag):
  PROFILEGATE_ADOBE_TENANT         tenant (your Target client code)
  PROFILEGATE_ADOBE_CLIENT_ID      client id of the OAuth Server-to-Server credential
  PROFILEGATE_ADOBE_CLIENT_SECRET  its client secret: the environment only, no flag (a flag would
                                   land in shell history and ps)
  PROFILEGATE_ADOBE_SCOPES         IMS scopes, comma separated (default: Adobe Target's list)
  PROFILEGATE_ADOBE_IMS_URL        default https://ims-na1.adobelogin.com
  PROFILEGATE_ADOBE_ADMIN_URL      default https://mc.adobe.io
  PROFILEGATE_STATE_DIR            where replaced Adobe tokens are kept, 0600 (default
                                   $XDG_STATE_HOME/profilegate or ~/.local/state/profilegate)
Any PROFILEGATE_ADOBE_* variable chooses Adobe Target; with a Profilegate setting too
(PROFILEGATE_SERVER, _CLIENT, _ADMIN_KEY or their flags) the CLI stops (exit 2) unless
--target profilegate|adobe (or PROFILEGATE_TARGET) chooses. Not for an Adobe target (exit 2, its
Admin API has no such route): token revoke, --grace, --expires-in, settings, audit, batch, profile.

Destructive commands (token generate, token revoke, settings set --require-auth off,
settings set --retention-days N, profile delete) ask first on a terminal; without one (CI,
scripts) they need --yes.

${EXIT_CODES_HELP}`;

/** The short form of the exit codes, under every subcommand's help. */
const EXIT_CODES_SHORT =
  'Exit codes: 0 done, 1 refused or answered no, 2 usage, 3 unreachable, 4 admin key or Adobe credential refused.';

/** The whole command tree, writing to `streams`. */
export function buildProgram(streams: Streams): Command {
  const program = new Command('profilegate')
    .description(
      'Rotate the profile token and update its stored copies, switch Require Authentication, upload batches, read, delete and export profiles',
    )
    .version(version())
    .option('--server <url>', 'server URL (env PROFILEGATE_SERVER)')
    .option('--client <code>', 'client code (env PROFILEGATE_CLIENT)')
    .option('--admin-key <key>', 'admin key (env PROFILEGATE_ADMIN_KEY; prefer the variable)')
    .addOption(
      new Option(
        '--target <kind>',
        'profilegate or adobe (env PROFILEGATE_TARGET); needed when both are configured',
      ).choices(['profilegate', 'adobe']),
    )
    .option('--adobe-tenant <tenant>', 'Adobe Target tenant (env PROFILEGATE_ADOBE_TENANT)')
    .option(
      '--adobe-client-id <id>',
      'Adobe credential client id (env PROFILEGATE_ADOBE_CLIENT_ID); the secret: PROFILEGATE_ADOBE_CLIENT_SECRET only, no flag (it would land in shell history)',
    )
    .option('--adobe-scopes <scopes>', 'IMS scopes, comma separated (env PROFILEGATE_ADOBE_SCOPES)')
    .option('--adobe-ims-url <url>', 'Adobe IMS URL (env PROFILEGATE_ADOBE_IMS_URL)')
    .option('--adobe-admin-url <url>', 'Adobe Admin API URL (env PROFILEGATE_ADOBE_ADMIN_URL)')
    .option('--json', 'machine-readable output on stdout')
    .option('--reveal', 'show tokens in full (masked otherwise)')
    .option('-y, --yes', 'go ahead without asking (destructive commands; needed without a terminal)')
    .addHelpText('after', EPILOG)
    .addCommand(tokenCommand(streams))
    .addCommand(settingsCommand(streams))
    .addCommand(batchCommand(streams))
    .addCommand(profileCommand(streams))
    .addCommand(auditCommand(streams));
  withExamples(program, [
    'profilegate token show',
    'PROFILEGATE_ADMIN_KEY=… profilegate token generate --update .env config --yes',
    'PROFILEGATE_ADOBE_TENANT=acme PROFILEGATE_ADOBE_CLIENT_ID=… PROFILEGATE_ADOBE_CLIENT_SECRET=… profilegate token generate --update .env',
  ]);
  configure(program, streams);
  return program;
}

/** Every command reports errors through us (exit 2 for usage) instead of exiting on its own. */
function configure(command: Command, streams: Streams): void {
  command.exitOverride();
  command.showSuggestionAfterError(true);
  command.configureOutput({
    // Usage errors quote the command line, which may hold file names from a glob.
    writeOut: (text) => streams.stdout.write(displayLines(text)),
    writeErr: (text) => streams.stderr.write(displayLines(text)),
  });
  // Every command's help lists the global options (--json, --reveal, --server, --yes…) and ends
  // with its examples; a test walks the tree, so a command added later without examples fails it.
  command.configureHelp({ showGlobalOptions: true });
  const examples = examplesOf(command);
  if (examples.length > 0) {
    command.addHelpText('after', `\nExamples:\n${examples.map((line) => `  $ ${line}`).join('\n')}`);
  }
  if (command.parent !== null) command.addHelpText('after', `\n${EXIT_CODES_SHORT}`);
  for (const sub of command.commands) configure(sub, streams);
}

/** Runs the command line (`argv` without node and the script) and returns the exit code. */
export async function run(argv: readonly string[], streams: Streams): Promise<number> {
  const program = buildProgram(streams);
  const json = argv.includes('--json');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end here too; commander already printed them (or the usage error).
      if (error.exitCode === 0) return EXIT.ok;
      if (json)
        streams.stdout.write(
          `${displayJson({ error: { code: 'Usage', message: error.message, exitCode: EXIT.usage } })}\n`,
        );
      return EXIT.usage;
    }
    const described = describeError(error);
    if (json && error instanceof CommandFailedError && error.reportedInJson) return described.exitCode;
    if (json) {
      streams.stdout.write(`${displayJson({ error: described })}\n`);
    } else {
      // Only our own failures span lines (their data pieces escaped already); any other message
      // may be the server's text, so a line break in it is escaped too.
      const message =
        error instanceof CommandFailedError ? displayLines(described.message) : displayText(described.message);
      streams.stderr.write(`profilegate: ${message}\n`);
    }
    return described.exitCode;
  }
}
