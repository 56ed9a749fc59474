/** requestOrigin: the batchStatus URL's origin from what Express 4 and 5 both give a request. */
import { strict as assert } from 'node:assert';
import type { IncomingHttpHeaders } from 'node:http';
import type { Request } from 'express';
import { requestOrigin } from '../src/request-origin';

interface FakeRequest {
  headers?: IncomingHttpHeaders;
  /** The app's compiled `trust proxy` (undefined: a request not dispatched by an app). */
  trust?: (address: string, hop: number) => boolean;
  socket?: { remoteAddress?: string; encrypted?: boolean; localAddress?: string; localPort?: number };
}

function origin({ headers = {}, trust, socket = {} }: FakeRequest): string {
  const req = {
    headers,
    app: trust === undefined ? undefined : { get: (name: string) => (name === 'trust proxy fn' ? trust : undefined) },
    socket: { remoteAddress: '127.0.0.1', ...socket },
  };
  return requestOrigin(req as unknown as Request);
}

const trustAll = () => true;
const trustNone = () => false;

describe('requestOrigin', () => {
  it('keeps the Host header whole, port and IPv6 brackets included', () => {
    assert.equal(origin({ headers: { host: '127.0.0.1:3000' }, trust: trustNone }), 'http://127.0.0.1:3000');
    assert.equal(origin({ headers: { host: '[::1]:8080' }, trust: trustNone }), 'http://[::1]:8080');
    assert.equal(
      origin({ headers: { host: 'profiles.example.test' }, trust: trustNone }),
      'http://profiles.example.test',
    );
  });

  it('is https on a TLS connection', () => {
    assert.equal(
      origin({ headers: { host: 'a.example.test:8443' }, trust: trustNone, socket: { encrypted: true } }),
      'https://a.example.test:8443',
    );
  });

  it('takes the first X-Forwarded-Host and -Proto values when the app trusts the peer', () => {
    const headers = {
      host: '127.0.0.1:3000',
      'x-forwarded-host': ' api.example.test:8443 , inner.example.test',
      'x-forwarded-proto': 'HTTPS,http',
    };
    assert.equal(origin({ headers, trust: trustAll }), 'https://api.example.test:8443');
  });

  it('asks the trust function about the peer address, hop 0', () => {
    const asked: Array<[string, number]> = [];
    const trust = (address: string, hop: number) => {
      asked.push([address, hop]);
      return address === '10.9.8.7';
    };
    const headers = { host: '127.0.0.1:3000', 'x-forwarded-host': 'api.example.test' };
    assert.equal(origin({ headers, trust, socket: { remoteAddress: '10.9.8.7' } }), 'http://api.example.test');
    assert.equal(origin({ headers, trust, socket: { remoteAddress: '10.9.8.6' } }), 'http://127.0.0.1:3000');
    assert.deepEqual(asked, [
      ['10.9.8.7', 0],
      ['10.9.8.6', 0],
    ]);
  });

  it('ignores forwarded headers when not trusted, or when no app setting is there', () => {
    const headers = { host: '127.0.0.1:3000', 'x-forwarded-host': 'evil.example.test', 'x-forwarded-proto': 'https' };
    assert.equal(origin({ headers, trust: trustNone }), 'http://127.0.0.1:3000');
    assert.equal(origin({ headers }), 'http://127.0.0.1:3000');
  });

  it('falls back to Host for an empty X-Forwarded-Host, and to the connection for a scheme that is not http(s)', () => {
    const headers = { host: '127.0.0.1:3000', 'x-forwarded-host': ' ,other', 'x-forwarded-proto': 'javascript' };
    assert.equal(origin({ headers, trust: trustAll }), 'http://127.0.0.1:3000');
  });

  it('uses the address and port the request came in on when there is no Host (HTTP/1.0)', () => {
    assert.equal(
      origin({ trust: trustNone, socket: { localAddress: '127.0.0.1', localPort: 4321 } }),
      'http://127.0.0.1:4321',
    );
    assert.equal(origin({ trust: trustNone, socket: { localAddress: '::1', localPort: 4321 } }), 'http://[::1]:4321');
  });
});
