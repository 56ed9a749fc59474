#!/usr/bin/env node
/** The `profilegate` command. Exit codes (errors.ts EXIT): 0 ok, 1 refused or answered no, 2 usage, 3 unreachable, 4 admin key or Adobe credential refused. */
import { displayText } from '@profilegate/client';
import { run } from './program';

// A reader that goes away early (`profilegate --help | head`) makes every later write fail with
// EPIPE. Unhandled, Node prints a stack trace; the output nobody reads is dropped instead, and the
// command still finishes (a rotation that has started goes on to update the files).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}

run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`profilegate: ${displayText(error instanceof Error ? error.message : String(error))}\n`);
    process.exitCode = 1;
  },
);
