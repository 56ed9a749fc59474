import { createInterface } from 'node:readline';
import { displayText } from '@profilegate/client';
import type { CommandContext } from './context';
import { CommandFailedError, UsageError } from './errors';

/** What a destructive command is about to do, as the confirmation shows it. */
export interface DestructiveAction {
  /** The question, e.g. `Revoke the profile token of client demo on http://…?` */
  question: string;
  /** What will happen, one line each (e.g. "No token works until you generate a new one."). */
  consequences?: readonly string[];
}

/**
 * Asks before a destructive command changes anything (like `gh` or the Stripe CLI):
 * - with `--yes`, goes ahead at once;
 * - on a terminal (stdin and stdout both), shows the question and what will happen on stderr, asks
 *   "Go ahead? [y/N]" and reads the answer: only `y` or `yes` goes ahead, anything else (Enter included) cancels (exit 1);
 * - without a terminal (CI, pipes), refuses with a usage error (exit 2) that names `--yes`.
 * Resolves when the command may go ahead; throws otherwise, before anything changed.
 */
export async function confirmDestructive(ctx: CommandContext, action: DestructiveAction): Promise<void> {
  if (ctx.yes) return;
  const { stdin, stdout, stderr } = ctx.streams;
  const lines = [action.question, ...(action.consequences ?? [])].map(displayText);
  if (stdin.isTTY !== true || stdout.isTTY !== true) {
    throw new UsageError(
      `${lines.join(' ')} Not asking: there is no terminal to answer on. Pass --yes to go ahead without confirmation.`,
    );
  }
  stderr.write(`${lines[0]}\n`);
  for (const line of lines.slice(1)) stderr.write(`  ${line}\n`);
  const answer = await ask(stdin, stderr, 'Go ahead? [y/N] ');
  if (!/^\s*y(es)?\s*$/i.test(answer)) throw new CommandFailedError('Cancelled; nothing was changed.');
}

/** One line read from `input` after `prompt`; empty when the input ends first. */
function ask(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, output, terminal: false });
    let answered = false;
    output.write(prompt);
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      if (!answered) resolve('');
    });
  });
}
