#!/usr/bin/env node
/** The `profilegate` command. Exit codes: 0 ok, 1 server refused, 2 usage, 3 cannot reach the server. */
import { displayText } from '@profilegate/client';
import { run } from './program';

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
