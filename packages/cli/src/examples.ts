import type { Command } from 'commander';

const EXAMPLES = new WeakMap<Command, readonly string[]>();

/**
 * Gives `command` the examples its `--help` ends with (program.ts prints them, and a test checks
 * that every command has some). Returns the command, to chain.
 */
export function withExamples(command: Command, examples: readonly string[]): Command {
  EXAMPLES.set(command, examples);
  return command;
}

/** The examples given to `command` with `withExamples` (none: an empty list). */
export function examplesOf(command: Command): readonly string[] {
  return EXAMPLES.get(command) ?? [];
}
