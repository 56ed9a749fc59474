import type { Request } from 'express';

/** Express's compiled `trust proxy` setting: does the app trust the proxy at this address and hop? */
type TrustProxy = (address: string, hop: number) => boolean;

/**
 * The origin (`scheme://host[:port]`) a client used to reach this request, for absolute URLs such
 * as a batch's batchStatus: the Host header with its port, or X-Forwarded-Host and
 * X-Forwarded-Proto when the host app trusts the proxy that sent them (its `trust proxy` setting).
 * An HTTP/1.0 request without Host gets the address and port it came in on. Reads only what
 * Express 4 and 5 both have (`req.host` is Express 5's; on Express 4 it drops the port and warns).
 */
export function requestOrigin(req: Request): string {
  const trusted = trustsProxy(req);
  const forwardedScheme = trusted ? firstValue(req.headers['x-forwarded-proto'])?.toLowerCase() : undefined;
  // Only a scheme a batchStatus URL can have: anything else a proxy sends is ignored.
  const scheme = forwardedScheme === 'http' || forwardedScheme === 'https' ? forwardedScheme : ownScheme(req);
  const host = (trusted && firstValue(req.headers['x-forwarded-host'])) || req.headers.host || socketHost(req);
  return `${scheme}://${host}`;
}

/** True when the app's `trust proxy` setting trusts the peer this request came from. */
function trustsProxy(req: Request): boolean {
  const trust = req.app?.get('trust proxy fn') as TrustProxy | undefined;
  const peer = req.socket?.remoteAddress;
  return typeof trust === 'function' && peer !== undefined && trust(peer, 0);
}

/** The first of a comma-separated header's values, trimmed; undefined when there is none. */
function firstValue(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  const first = text?.split(',')[0]?.trim();
  return first ? first : undefined;
}

function ownScheme(req: Request): string {
  return (req.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http';
}

function socketHost(req: Request): string {
  const address = req.socket.localAddress ?? '127.0.0.1';
  return `${address.includes(':') ? `[${address}]` : address}:${req.socket.localPort}`;
}
