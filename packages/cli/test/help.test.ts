import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import type { Streams } from '../src/context';
import { buildProgram, run } from '../src/program';

/** Streams that keep what is written. */
function capture(): { streams: Streams; out: () => string } {
  let text = '';
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const stdout = { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream;
  return { streams: { stdout, stderr: stdout, stdin: sink, env: {}, cwd: process.cwd() }, out: () => text };
}

/** The command line of every command of the tree: [], ['token'], ['token', 'show'], … */
function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return [prefix, ...command.commands.flatMap((sub) => commandPaths(sub, [...prefix, sub.name()]))];
}

describe('every command’s --help (issue 20)', () => {
  const paths = commandPaths(buildProgram(capture().streams));

  it('walks the whole tree (so a command added later is checked too)', () => {
    for (const expected of [
      'token show',
      'token generate',
      'token revoke',
      'settings set',
      'batch upload',
      'audit',
      'profile delete',
      'profile export',
    ])
      assert.ok(
        paths.some((p) => p.join(' ') === expected),
        expected,
      );
  });

  for (const path of paths) {
    const name = ['profilegate', ...path].join(' ');
    it(`${name} --help lists the global options and at least one example`, async () => {
      const { streams, out } = capture();
      assert.equal(await run([...path, '--help'], streams), 0);
      const help = out();
      for (const option of ['--json', '--reveal', '--server', '--client', '--admin-key', '--yes'])
        assert.ok(help.includes(option), `${name} --help does not list ${option}:\n${help}`);
      assert.match(help, /\nExamples:\n {2}\$ profilegate /, `${name} --help has no example:\n${help}`);
      assert.match(help, /Exit codes/);
    });
  }

  it('the top-level help names every command that asks first, and every one refused for Adobe', async () => {
    // Before: profile delete asked (and needed --yes without a terminal) but the help's list of
    // destructive commands left it out; the Adobe sentence named only revoke, grace and the toggle.
    const { streams, out } = capture();
    await run(['--help'], streams);
    const help = out().replace(/\s+/g, ' ');
    const asking = /Destructive commands \(([^)]*)\)/.exec(help)?.[1] ?? '';
    for (const command of [
      'token generate',
      'token revoke',
      'settings set --require-auth off',
      'settings set --retention-days N',
      'profile delete',
    ])
      assert.ok(asking.includes(command), `${command} is not in "${asking}"`);
    const adobe = /Not for an Adobe target[^:]*: ([^.]*)\./.exec(help)?.[1] ?? '';
    for (const command of ['token revoke', '--grace', '--expires-in', 'settings', 'audit', 'batch', 'profile'])
      assert.ok(adobe.includes(command), `${command} is not in "${adobe}"`);
  });

  it('the top-level help lists every exit code', async () => {
    const { streams, out } = capture();
    await run(['--help'], streams);
    for (const code of ['0', '1', '2', '3', '4']) assert.match(out(), new RegExp(`^ {2}${code} {2}\\S`, 'm'));
  });
});
