import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';

/**
 * Makes `server` answer `Expect: 100-continue` the way the request is handled, not before: Node
 * writes `100 Continue` itself before the app sees a request, unless the server has a
 * `checkContinue` listener. This installs one that hands the request to the server's own
 * 'request' listeners (the Express app) and writes `100 Continue` only when something starts
 * reading the body. A request refused on its headers alone (413 by Content-Length, 415, 404, 401,
 * 429) is then answered without `100 Continue`, and its body is never sent; any route that reads
 * its body (body parsers, the batch routes, the host's own routes) gets `100 Continue` as before.
 * Call it once, on the server that serves `profileApi()`: `handleExpectContinue(app.listen(port))`.
 */
export function handleExpectContinue<S extends Server | HttpsServer>(server: S): S {
  if (server.listenerCount('checkContinue') > 0) {
    // Two listeners would each hand the request to the app.
    throw new Error(
      'The server already has a checkContinue listener; call handleExpectContinue once, and only on a server without one',
    );
  }
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    continueOnFirstRead(req, res);
    server.emit('request', req, res);
  });
  return server;
}

type ReadFunction = (this: IncomingMessage, size: number) => void;

/**
 * Writes `100 Continue` just before `req` first asks its connection for body bytes. Readable
 * streams ask through `_read` whoever reads (`data` listeners, `pipe`, `for await`, `read()`),
 * so this catches every reader. Nothing is written once the final answer has begun: Node drains
 * an unread body after the answer, and `100 Continue` there would corrupt the connection (Node
 * closes it instead, since the client may still send the body).
 */
function continueOnFirstRead(req: IncomingMessage, res: ServerResponse): void {
  const own = req as IncomingMessage & { _read: ReadFunction };
  const read = own._read;
  own._read = function (this: IncomingMessage, size: number): void {
    own._read = read;
    if (!res.headersSent && !res.writableEnded) res.writeContinue();
    read.call(this, size);
  };
}
