import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

/** The built binary under test. */
export const BIN = join(__dirname, '..', 'src', 'main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `profilegate` binary in a child process. */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], ...options.env };
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: options.cwd, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

type DemoServerModule = typeof import('../../middleware/dist/src/demo/server');
type DemoConfigModule = typeof import('../../middleware/dist/src/demo/config');

/**
 * The demo server's modules. The middleware's `exports` map publishes only `.` and `./testing`,
 * so the demo files are loaded by path from the installed package.
 */
export function demoModules(): { server: DemoServerModule; config: DemoConfigModule } {
  const root = dirname(require.resolve('@profilegate/middleware/package.json'));
  return {
    server: require(join(root, 'dist', 'src', 'demo', 'server.js')) as DemoServerModule,
    config: require(join(root, 'dist', 'src', 'demo', 'config.js')) as DemoConfigModule,
  };
}

/** `'text'` for sh: the argument as one word, whatever it holds. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs the binary on a pseudo-terminal (util-linux `script`), so that stdin and stdout are
 * terminals. Once the output holds `waitFor`, `answer` is typed (followed by Enter).
 */
export function runCliInTerminal(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; waitFor: string; answer: string },
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ');
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], TERM: 'dumb', NO_COLOR: '1', ...options.env };
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env, cwd: options.cwd, stdio: 'pipe' });
    let stdout = '';
    let answered = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (!answered && stdout.includes(options.waitFor)) {
        answered = true;
        child.stdin.write(`${options.answer}\n`);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      child.stdin.destroy();
      resolvePromise({ code, stdout, stderr: '' });
    });
  });
}

/** True when `script` (util-linux) is there to give a child a pseudo-terminal. */
export function hasScript(): boolean {
  try {
    return spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
}
