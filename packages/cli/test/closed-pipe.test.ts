import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BIN } from './helpers';

/**
 * `profilegate --help | head` and `profilegate token show | head -1`: the reader goes away before
 * the CLI has written everything. Before, Node's unhandled EPIPE printed a stack trace to the user
 * (commander writes a command's help in several pieces, so `head` closing after the first one was
 * enough).
 */
function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env['PATH'] },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Close our end of the pipe at once: every write of the child fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stderr }));
  });
}

describe('a reader that closes stdout early (`profilegate … | head`)', () => {
  for (const args of [['--help'], ['token', '--help'], ['token', 'generate', '--help'], ['--version']]) {
    it(`profilegate ${args.join(' ')} exits 0 without a stack trace`, async () => {
      const result = await runWithClosedStdout(args);
      assert.equal(result.stderr, '', 'nothing on stderr');
      assert.equal(result.code, 0);
    });
  }
});
