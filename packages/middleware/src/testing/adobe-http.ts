/** Small HTTP helpers of the Adobe emulation. */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';

/** The scope of a token request: `?authorizationScope=` (Adobe's guide) or the JSON string body (its document). */
export function scopeOf(query: URLSearchParams, body: string): string | undefined {
  const fromQuery = query.getAll('authorizationScope');
  let fromBody: unknown;
  if (body.trim() !== '') {
    try {
      fromBody = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (fromQuery.length > 1) return undefined;
  if (fromQuery.length === 1 && fromBody !== undefined && fromBody !== fromQuery[0]) return undefined;
  const scope = fromQuery[0] ?? fromBody;
  return typeof scope === 'string' ? scope : undefined;
}

export function opaqueToken(): string {
  return randomBytes(24).toString('base64url');
}

export function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

export function listen(server: Server): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
