import type { AuthenticationSettings } from '@profilegate/client';
import { Command, Option } from 'commander';
import { CommandContext, globalOptions, type Streams } from '../context';
import { UsageError } from '../errors';

/** `profilegate settings show|set [--require-auth on|off] [--retention-days N|off]`. */
export function settingsCommand(streams: Streams): Command {
  const settings = new Command('settings').description(
    'Show or change the Require Authentication setting and the profile retention',
  );

  settings
    .command('show')
    .description('Show whether the profile routes require the token, and the token times')
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(globalOptions(command), streams);
      const value = await ctx.api().getSettings();
      ctx.result({ client: ctx.client, ...value });
      print(ctx, value);
    });

  settings
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
      if (options.requireAuth === undefined && options.retentionDays === undefined) {
        throw new UsageError('Give --require-auth on|off, --retention-days N|off, or both');
      }
      const value = await ctx.api().updateSettings({
        ...(options.requireAuth !== undefined ? { requireAuthentication: options.requireAuth === 'on' } : {}),
        ...(options.retentionDays !== undefined
          ? { profileRetentionDays: parseRetentionDays(options.retentionDays) }
          : {}),
      });
      ctx.result({ client: ctx.client, ...value });
      print(ctx, value);
    });

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
