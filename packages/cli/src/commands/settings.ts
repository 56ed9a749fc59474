import type { AuthenticationSettings } from '@profilegate/client';
import { Command, Option } from 'commander';
import { confirmDestructive } from '../confirm';
import { CommandContext, globalOptions, type Streams } from '../context';
import { withExamples } from '../examples';
import { UsageError } from '../errors';

const NOT_ADOBE =
  "Adobe Target has no Require Authentication or retention route in its Admin API: switch it in Target's UI. " +
  'This command is for a Profilegate server (--target profilegate).';

/** `profilegate settings show|set [--require-auth on|off] [--retention-days N|off]`. */
export function settingsCommand(streams: Streams): Command {
  const settings = new Command('settings').description(
    'Show or change the Require Authentication setting and the profile retention',
  );
  withExamples(settings, ['profilegate settings show', 'profilegate settings set --retention-days 30']);

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
    .description('Turn Require Authentication on or off, or set the profile retention (one of them at least)')
    .addOption(
      new Option('--require-auth <state>', 'on: profile routes need the token; off: they are open').choices([
        'on',
        'off',
      ]),
    )
    .option(
      '--retention-days <days>',
      'delete profiles not modified for this many days (1 to 3650); off: keep them forever',
    )
    .action(async (options: { requireAuth?: 'on' | 'off'; retentionDays?: string }, command: Command) => {
      const ctx = new CommandContext(globalOptions(command), streams);
      ctx.refuseForAdobe(NOT_ADOBE);
      if (options.requireAuth === undefined && options.retentionDays === undefined) {
        throw new UsageError('Give --require-auth on|off, --retention-days N|off, or both');
      }
      const profileRetentionDays =
        options.retentionDays !== undefined ? parseRetentionDays(options.retentionDays) : undefined;
      const api = ctx.api();
      if (options.requireAuth === 'off') {
        await confirmDestructive(ctx, {
          question: `Turn Require Authentication off for client ${ctx.client} on ${ctx.server}?`,
          consequences: ['The profile routes become open to anyone who can reach them, without a token.'],
        });
      }
      if (typeof profileRetentionDays === 'number') {
        await confirmDestructive(ctx, {
          question: `Delete the profiles of client ${ctx.client} on ${ctx.server} not modified for ${profileRetentionDays} days?`,
          consequences: [
            `From now on the server deletes every profile not modified for ${profileRetentionDays} days within an hour, for good.`,
          ],
        });
      }
      const value = await api.updateSettings({
        ...(options.requireAuth !== undefined ? { requireAuthentication: options.requireAuth === 'on' } : {}),
        ...(profileRetentionDays !== undefined ? { profileRetentionDays } : {}),
      });
      ctx.result({ client: ctx.client, ...value });
      print(ctx, value);
    });
  withExamples(set, [
    'profilegate settings set --require-auth on',
    'profilegate settings set --require-auth off --yes   # without a terminal',
    'profilegate settings set --retention-days 30 --yes  # or off: keep profiles forever',
  ]);

  return settings;
}

function print(ctx: CommandContext, value: AuthenticationSettings): void {
  ctx.say(
    value.requireAuthentication
      ? `Require Authentication is ON for client ${ctx.client}: profile routes need Authorization: Bearer <profile token>.`
      : `Require Authentication is OFF for client ${ctx.client}: profile routes are open to anyone who can reach them.`,
  );
  // Absent from servers older than retention (issue 19): say nothing rather than guess.
  if (value.profileRetentionDays !== undefined) {
    ctx.say(
      value.profileRetentionDays === null
        ? 'Profiles are kept forever.'
        : `Profiles not modified for ${value.profileRetentionDays} ${value.profileRetentionDays === 1 ? 'day' : 'days'} are deleted.`,
    );
  }
  ctx.say(
    value.token === null
      ? 'There is no profile token.'
      : `Profile token created ${value.token.createdAt} by ${value.token.createdBy}, expires ${value.token.expiresAt}.`,
  );
}

/** `--retention-days`: a whole number of days from 1 to 3650, or `off` (keep forever, sent as null). */
function parseRetentionDays(text: string): number | null {
  if (text === 'off') return null;
  const days = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(days >= 1 && days <= 3650)) {
    throw new UsageError(`--retention-days must be a whole number of days from 1 to 3650, or off (got "${text}")`);
  }
  return days;
}
