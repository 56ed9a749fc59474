import type { AuthenticationSettings } from '@profilegate/client';
import { Command, Option } from 'commander';
import { confirmDestructive } from '../confirm';
import { CommandContext, globalOptions, type Streams } from '../context';
import { withExamples } from '../examples';

const NOT_ADOBE =
  "Adobe Target has no Require Authentication route in its Admin API: switch it in Target's UI. " +
  'This command is for a Profilegate server (--target profilegate).';

/** `profilegate settings show|set --require-auth on|off`. */
export function settingsCommand(streams: Streams): Command {
  const settings = new Command('settings').description('Show or change the Require Authentication setting');
  withExamples(settings, ['profilegate settings show', 'profilegate settings set --require-auth on']);

  const show = settings
    .command('show')
    .description('Show whether the profile routes require the token, and the token times')
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(globalOptions(command), streams);
      ctx.refuseForAdobe(NOT_ADOBE);
      const value = await ctx.api().getSettings();
      ctx.result({ client: ctx.client, ...value });
      print(ctx, value);
    });
  withExamples(show, ['profilegate settings show', 'profilegate settings show --json']);

  const set = settings
    .command('set')
    .description('Turn Require Authentication on or off')
    .addOption(
      new Option('--require-auth <state>', 'on: profile routes need the token; off: they are open')
        .choices(['on', 'off'])
        .makeOptionMandatory(),
    )
    .action(async (options: { requireAuth: 'on' | 'off' }, command: Command) => {
      const ctx = new CommandContext(globalOptions(command), streams);
      ctx.refuseForAdobe(NOT_ADOBE);
      const api = ctx.api();
      if (options.requireAuth === 'off') {
        await confirmDestructive(ctx, {
          question: `Turn Require Authentication off for client ${ctx.client} on ${ctx.server}?`,
          consequences: ['The profile routes become open to anyone who can reach them, without a token.'],
        });
      }
      const value = await api.setRequireAuthentication(options.requireAuth === 'on');
      ctx.result({ client: ctx.client, ...value });
      print(ctx, value);
    });
  withExamples(set, [
    'profilegate settings set --require-auth on',
    'profilegate settings set --require-auth off --yes   # without a terminal',
  ]);

  return settings;
}

function print(ctx: CommandContext, value: AuthenticationSettings): void {
  ctx.say(
    value.requireAuthentication
      ? `Require Authentication is ON for client ${ctx.client}: profile routes need Authorization: Bearer <profile token>.`
      : `Require Authentication is OFF for client ${ctx.client}: profile routes are open to anyone who can reach them.`,
  );
  ctx.say(
    value.token === null
      ? 'There is no profile token.'
      : `Profile token created ${value.token.createdAt} by ${value.token.createdBy}, expires ${value.token.expiresAt}.`,
  );
}
