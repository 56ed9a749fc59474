import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { auditCommand } from './commands/audit';
import { batchCommand } from './commands/batch';
import { profileCommand } from './commands/profile';
import { settingsCommand } from './commands/settings';
import { tokenCommand } from './commands/token';
import { displayJson, displayText } from '@profilegate/client';
import { displayLines, type Streams } from './context';
import { CommandFailedError, EXIT, describeError } from './errors';

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

Exit codes: 0 ok, 1 the server refused (or a batch row failed), 2 usage, 3 cannot reach the server.`;

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
    .option('--json', 'machine-readable output on stdout')
    .option('--reveal', 'show tokens in full (masked otherwise)')
    .addHelpText('after', EPILOG)
    .addCommand(tokenCommand(streams))
    .addCommand(settingsCommand(streams))
    .addCommand(batchCommand(streams))
    .addCommand(profileCommand(streams))
    .addCommand(auditCommand(streams));
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
