import { ProfilegateError } from '@profilegate/core';
import type { NextFunction, Request, Response } from 'express';

/** How long a request body may send nothing before it is answered 408, unless the router says otherwise. */
export const DEFAULT_BODY_IDLE_TIMEOUT_MS = 30_000;

/** Longest timeout accepted: what `setTimeout` can wait (about 24.8 days). */
export const MAX_BODY_IDLE_TIMEOUT_MS = 2_147_483_647;

/** Checks per timeout: a stalled body is answered after at least its timeout and at most 1.25 times it. */
const CHECKS_PER_TIMEOUT = 4;

/** A body that stopped arriving (HTTP 408); the connection is closed after the answer. */
export class RequestTimeoutError extends ProfilegateError {
  constructor(idleMs: number) {
    super(
      408,
      'RequestTimeout',
      `The request body stalled: nothing of it arrived for ${idleMs} ms. Send the whole body without pausing; ` +
        'nothing of this request was applied',
    );
  }
}

/** What the watchdog reads of a request: an `http.IncomingMessage` has all of it. */
export interface WatchedRequest {
  /** True once the whole body has arrived. */
  readonly complete: boolean;
  /** Bytes of the body that arrived but were not read yet. */
  readonly readableLength: number;
  /** The connection; its `bytesRead` grows with every byte the client sends. */
  readonly socket: { readonly bytesRead: number } | null;
}

/**
 * Calls `onIdle` (once) when the client sent nothing for `idleMs` while its body was incomplete.
 * Time spent with received bytes waiting unread does not count: then the reader is behind, not the
 * client (back-pressure from a batch being spooled). Progress is read from the connection's byte
 * count, so the request stream is never touched (no listener, no change of flowing mode), whoever
 * reads it. Returns a function that stops watching.
 */
export function watchBodyIdle(req: WatchedRequest, idleMs: number, onIdle: () => void): () => void {
  const step = Math.max(1, Math.ceil(idleMs / CHECKS_PER_TIMEOUT));
  let seen = req.socket?.bytesRead ?? 0;
  let quietChecks = 0;
  const timer = setInterval(() => {
    if (req.complete) {
      clearInterval(timer);
      return;
    }
    const read = req.socket?.bytesRead ?? seen;
    if (read !== seen || req.readableLength > 0) {
      seen = read;
      quietChecks = 0;
      return;
    }
    // Counted from the check that last saw progress, so the client was silent for at least idleMs.
    if (++quietChecks * step >= idleMs) {
      clearInterval(timer);
      onIdle();
    }
  }, step);
  timer.unref();
  return () => clearInterval(timer);
}

/** A body parser, or a route handler that reads the body itself. */
type BodyReader = (req: Request, res: Response, next: NextFunction) => unknown;

/**
 * Runs `reader` under the idle watchdog. When the body stalls, the request goes on to the error
 * handler at once with a RequestTimeoutError (408, in the route's error shape, `Connection:
 * close`); the connection then closes, which ends the reader's wait, and whatever it reports after
 * that is ignored. Works for express.json()/express.text() as for our own batch reader.
 */
export function withBodyIdleTimeout(idleMs: number, reader: BodyReader) {
  return (req: Request, res: Response, next: NextFunction): void => {
    let settled = false;
    const finish = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      stop();
      next(error);
    };
    const timedOut = (): void => {
      // Once its answer is sent, Node no longer aborts a request when its connection closes, so the
      // reader would wait for the rest of the body for ever (holding a batch's spool): end the body
      // when the connection closes after the 408.
      const socket = req.socket as Request['socket'] | null;
      if (socket && !socket.destroyed) socket.once('close', () => req.destroy());
      else req.destroy();
      finish(new RequestTimeoutError(idleMs));
    };
    const stop = req.complete ? () => undefined : watchBodyIdle(req, idleMs, timedOut);
    res.once('close', stop);
    let result: unknown;
    try {
      result = reader(req, res, finish);
    } catch (error) {
      finish(error);
      return;
    }
    if (result instanceof Promise) {
      result.then(stop, (error: unknown) => finish(error ?? new Error('Rejected promise')));
    }
  };
}
