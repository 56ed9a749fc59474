import { Command } from 'commander';
import { CommandContext, globalOptions, type Streams } from '../context';
import { UsageError } from '../errors';
import { withExamples } from '../examples';

/** `profilegate audit [--limit N]`. */
export function auditCommand(streams: Streams): Command {
  const audit = new Command('audit')
    .description('Show the newest audit events (token generated or revoked, settings changed, denials)')
    .option('--limit <n>', 'how many events (newest first)')
    .action(async (options: { limit?: string }, command: Command) => {
      const ctx = new CommandContext(globalOptions(command), streams);
      ctx.refuseForAdobe(
        "The audit log is a Profilegate server's; Adobe Target's Admin API has none (--target profilegate for a server).",
      );
      let limit: number | undefined;
      if (options.limit !== undefined) {
        if (!/^\d{1,6}$/.test(options.limit) || Number(options.limit) < 1) {
          throw new UsageError(`--limit must be a whole number of at least 1 (got "${options.limit}")`);
        }
        limit = Number(options.limit);
      }
      const events = await ctx.api().getAudit(limit);
      ctx.result({ client: ctx.client, events });
      if (events.length === 0) ctx.say(`No audit events for client ${ctx.client}.`);
      for (const event of events) {
        const details =
          event.details && Object.keys(event.details).length > 0 ? ` ${JSON.stringify(event.details)}` : '';
        ctx.say(`${event.at}  ${event.actor}  ${event.action}${details}`);
      }
    });
  return withExamples(audit, ['profilegate audit', 'profilegate audit --limit 50 --json']);
}
