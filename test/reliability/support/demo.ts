/**
 * The real demo server (`npm start`) as a child process on an isolated data folder, and a small
 * HTTP client with a deadline on every request: a request that gets no answer is a hang, which
 * the suite reports as a failure instead of waiting for mocha's timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..', '..', '..');
const MAIN = join(ROOT, 'packages', 'middleware', 'dist', 'src', 'demo', 'main.js');

/** Admin key of the suites that configure one (PROFILEGATE_ADMIN_KEYS). */
export const ADMIN_KEY = 'reliability-admin-key-0123456789abcdef';

/** Options of startDemo. */
export interface DemoOptions {
  /** Data folder (PROFILEGATE_DATA). */
  dataDir: string;
  /** PROFILEGATE_CLIENTS (default `demo`). */
  clients?: string[];
  /** PROFILEGATE_ADMIN_KEYS; null leaves it unset, so the server generates a key (default: ADMIN_KEY as admin). */
  adminKeys?: string | null;
  /** More environment (e.g. PROFILEGATE_STORE, TMPDIR). */
  env?: Record<string, string>;
}

/** A running demo server child. */
export interface DemoChild {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** True until the process exits. */
  alive(): boolean;
  /** SIGTERM (a clean stop); resolves with the exit code (SIGKILL after 15 s). */
  stop(): Promise<number | null>;
  /** SIGKILL, at once; resolves when the process is gone. */
  kill(): Promise<void>;
}

/** The parent's environment without anything that would configure the child behind the test's back. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('PROFILEGATE_') || name === 'PORT' || name === 'HOST') continue;
    env[name] = value;
  }
  return env;
}

/** Starts `node packages/middleware/dist/src/demo/main.js` and resolves once it prints its URL. */
export function startDemo(options: DemoOptions): Promise<DemoChild> {
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    PORT: '0',
    HOST: '127.0.0.1',
    PROFILEGATE_DATA: options.dataDir,
    PROFILEGATE_CLIENTS: (options.clients ?? ['demo']).join(','),
    // These suites send batches by the hundred on purpose; the default rate limit has its own
    // test (packages/middleware/test/demo-server.test.ts). A test may set it in `env`.
    PROFILEGATE_BULK_RATE_LIMIT: 'off',
    ...options.env,
  };
  if (options.adminKeys !== null) env['PROFILEGATE_ADMIN_KEYS'] = options.adminKeys ?? `${ADMIN_KEY}:admin:ops`;
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: string[] = [];
  let exited = false;
  const exit = new Promise<number | null>((done) =>
    child.once('exit', (code) => {
      exited = true;
      done(code);
    }),
  );
  child.stdout!.on('data', (data: Buffer) => chunks.push(data.toString('utf8')));
  child.stderr!.on('data', (data: Buffer) => chunks.push(data.toString('utf8')));
  const output = () => chunks.join('');

  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`The demo server did not print its URL within 30 s:\n${tail(output())}`));
    }, 30_000);
    const onData = () => {
      const match = /Profilegate demo server listening on (http:\/\/\S+)/.exec(output());
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolvePromise({
        url: match[1]!,
        pid: child.pid!,
        child,
        output,
        alive: () => !exited,
        async stop() {
          if (exited) return exit;
          child.kill('SIGTERM');
          const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
          const code = await exit;
          clearTimeout(force);
          return code;
        },
        async kill() {
          if (!exited) child.kill('SIGKILL');
          await exit;
        },
      });
    };
    child.stdout!.on('data', onData);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`The demo server exited (${code}) before listening:\n${tail(output())}`));
    });
  });
}

/** The end of a log, with anything shaped like a generated key or a JWT masked. */
export function tail(text: string): string {
  return text
    .slice(-1500)
    .replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, 'eyJ…(token)')
    .replace(/\b[\w-]{40,}\b/g, (s) => `${s.slice(0, 4)}…`);
}

/** One HTTP exchange. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** Options of `send`. */
export interface SendOptions {
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
  /** No answer within this time is a hang (default 15 s). */
  timeoutMs?: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * Sends one request over loopback with a deadline; rejects with "no answer" on a hang. A request
 * on a reused keep-alive connection that the server had just closed is retried once on a new one
 * (the race of RFC 9112 9.3.1, not a server failure).
 */
export async function send(url: string, options: SendOptions = {}): Promise<Answer> {
  try {
    return await sendOnce(url, options);
  } catch (error) {
    if ((error as { reusedSocket?: boolean }).reusedSocket) return sendOnce(url, options);
    throw error;
  }
}

function sendOnce(url: string, options: SendOptions): Promise<Answer> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolvePromise, reject) => {
    const target = new URL(url);
    const headers: http.OutgoingHttpHeaders = { ...options.headers };
    if (options.body !== undefined) headers['Content-Length'] = Buffer.byteLength(options.body);
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? 'GET',
        headers,
        agent,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolvePromise({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(parts).toString('utf8'),
          });
        });
        res.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${options.method ?? 'GET'} ${target.pathname} (a hang)`));
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (req.reusedSocket && error.code === 'ECONNRESET') Object.assign(error, { reusedSocket: true });
      reject(error);
    });
    req.end(options.body);
  });
}

/** JSON of an answer, or a failure naming the status and the start of the text. */
export function json<T = Record<string, unknown>>(answer: Answer): T {
  try {
    return JSON.parse(answer.text) as T;
  } catch {
    throw new Error(`expected JSON, got ${answer.status}: ${answer.text.slice(0, 200)}`);
  }
}

export const tokenPath = (client: string) => `/${client}/target/authentication/token?authorizationScope=profile_api`;
export const settingsPath = (client: string) => `/${client}/target/authentication/settings`;
export const auditPath = (client: string) => `/${client}/target/authentication/audit`;

/** Admin calls of a demo server with a known admin key. */
export class Admin {
  constructor(
    readonly url: string,
    readonly key: string = ADMIN_KEY,
  ) {}

  call(method: string, path: string, body?: unknown): Promise<Answer> {
    const headers: http.OutgoingHttpHeaders = { Authorization: `Bearer ${this.key}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return send(`${this.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  /** POST token (201 expected); returns the JWT. */
  async generate(client: string, body?: object): Promise<string> {
    const answer = await this.call('POST', tokenPath(client), body);
    if (answer.status !== 201) throw new Error(`POST token for ${client}: ${answer.status} ${answer.text}`);
    return json<{ accessToken: string }>(answer).accessToken;
  }

  /** PUT settings (200 expected). */
  async requireAuth(client: string, on: boolean): Promise<void> {
    const answer = await this.call('PUT', settingsPath(client), { requireAuthentication: on });
    if (answer.status !== 200) throw new Error(`PUT settings for ${client}: ${answer.status} ${answer.text}`);
  }
}

/** Resident memory of a process in bytes (Linux /proc), or null elsewhere. */
export function rssOf(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Polls a batchStatus URL (JSON) until it is no longer `incomplete`. */
export async function waitForBatch(
  statusUrl: string,
  headers: http.OutgoingHttpHeaders = {},
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await send(`${statusUrl}&showDetails=true`, { headers: { ...headers, Accept: 'application/json' } });
    if (answer.status !== 200) throw new Error(`batchStatus answered ${answer.status}: ${answer.text.slice(0, 200)}`);
    const body = json(answer);
    if (body['status'] !== 'incomplete') return body;
    if (Date.now() > deadline) throw new Error(`batch still incomplete after ${timeoutMs} ms`);
    await sleep(5);
  }
}

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
