/** Helpers for tests that hold a request body open: a hand-driven upload and a store that reports its calls. */
import * as http from 'node:http';
import type { Store } from '@profilegate/core';

/** The answer to a hand-driven upload, and whether the server closed the connection after it. */
export interface UploadAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
}

/** A request whose body the test sends piece by piece. */
export interface Upload {
  /** Sends more of the body. */
  write(chunk: string | Buffer): void;
  /** Sends the last piece (if any) and ends the body. */
  end(chunk?: string | Buffer): void;
  /** Settles with the server's answer, whenever it comes (before the body ends, too). */
  answer: Promise<UploadAnswer>;
}

/**
 * Starts a request on its own connection, sends its headers and `first` at once, and leaves the
 * rest of the body to the test.
 */
export function startUpload(
  origin: string,
  options: { method?: string; path: string; headers: http.OutgoingHttpHeaders; first?: string | Buffer },
): Upload {
  const url = new URL(origin);
  const req = http.request({
    host: url.hostname,
    port: url.port,
    method: options.method ?? 'POST',
    path: options.path,
    headers: options.headers,
    agent: false,
  });
  const answer = new Promise<UploadAnswer>((resolve, reject) => {
    req.on('response', (res) => {
      const closed = new Promise<void>((done) => {
        if (res.socket.destroyed) done();
        else res.socket.once('close', () => done());
      });
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(parts).toString('utf8'),
          closed,
        }),
      );
      res.on('error', reject);
    });
    // Writing after the server answered and closed may fail; the answer is what the test checks.
    req.on('error', (error) => reject(error));
  });
  req.flushHeaders();
  if (options.first !== undefined) req.write(options.first);
  return {
    write: (chunk) => {
      req.write(chunk);
    },
    end: (chunk) => {
      if (chunk === undefined) req.end();
      else req.end(chunk);
    },
    answer,
  };
}

/** A store wrapper that counts the calls that have settled, and can hide change notifications. */
export interface ObservedStore {
  store: Store;
  /** How many calls of `method` have settled so far. */
  count(method: string): number;
  /**
   * Resolves once `times` calls of `method` have settled and every continuation queued on them
   * has run (so the code that awaited the call has moved on).
   */
  settled(method: string, times?: number): Promise<void>;
}

/**
 * Wraps `store`. With `quiet`, `onChange` never reports anything: the view of an instance that
 * missed a change made elsewhere (a PostgreSQL NOTIFY that has not arrived).
 */
export function observeStore(store: Store, options: { quiet?: boolean } = {}): ObservedStore {
  const counts = new Map<string, number>();
  const waiters: Array<{ method: string; times: number; resolve: () => void }> = [];
  const settle = (method: string) => {
    counts.set(method, (counts.get(method) ?? 0) + 1);
    for (const waiter of [...waiters]) {
      if (waiter.method === method && (counts.get(method) ?? 0) >= waiter.times) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'onChange' && options.quiet) return () => () => undefined;
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) {
          // setImmediate: the awaiting code's continuations (microtasks) run first.
          void result.then(
            () => setImmediate(() => settle(property)),
            () => setImmediate(() => settle(property)),
          );
        } else setImmediate(() => settle(property));
        return result;
      };
    },
  });
  return {
    store: proxy,
    count: (method) => counts.get(method) ?? 0,
    settled: (method, times = 1) =>
      new Promise<void>((resolve) => {
        if ((counts.get(method) ?? 0) >= times) resolve();
        else waiters.push({ method, times, resolve });
      }),
  };
}
