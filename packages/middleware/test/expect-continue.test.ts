import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { handleExpectContinue } from '../src';
import { loadDemoConfig } from '../src/demo/config';
import { startDemoServer, type DemoServer } from '../src/demo/server';

const ADMIN_KEY = 'expect-continue-admin-key-0123456789';

/**
 * One HTTP/1.1 exchange on a raw socket: sends the head (with `Expect: 100-continue`), reads the
 * first status line the server writes, then sends `body` only if that was `100 Continue`, and reads
 * until the server closes (every request says `Connection: close`).
 */
async function exchange(
  url: string,
  head: string[],
  body: Buffer,
): Promise<{ firstLine: string; response: string; bodySent: boolean }> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.setNoDelay(true);
  let received = '';
  let firstLine: string | undefined;
  let bodySent = false;
  return new Promise((resolvePromise, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (firstLine === undefined && received.includes('\r\n')) {
        firstLine = received.slice(0, received.indexOf('\r\n'));
        if (firstLine === 'HTTP/1.1 100 Continue') {
          bodySent = true;
          socket.write(body);
        }
      }
    });
    socket.on('end', () => {
      socket.end();
      resolvePromise({ firstLine: firstLine ?? '', response: received, bodySent });
    });
    socket.write(
      [...head, 'Host: localhost', 'Expect: 100-continue', 'Connection: close', `Content-Length: ${body.length}`]
        .map((line) => `${line}\r\n`)
        .join('') + '\r\n',
    );
  });
}

/** Like exchange, for a body too big to build: declares `length` and never sends it. */
async function exchangeDeclared(url: string, head: string[], length: number) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  let received = '';
  return new Promise<{ firstLine: string; response: string }>((resolvePromise, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('end', () => {
      socket.end();
      resolvePromise({ firstLine: received.slice(0, received.indexOf('\r\n')), response: received });
    });
    socket.write(
      [...head, 'Host: localhost', 'Expect: 100-continue', 'Connection: close', `Content-Length: ${length}`]
        .map((line) => `${line}\r\n`)
        .join('') + '\r\n',
    );
  });
}

describe('Expect: 100-continue on the demo server', function () {
  this.timeout(30_000);
  const root = mkdtempSync(join(tmpdir(), 'profilegate-continue-'));
  let demo: DemoServer;
  let token: string;

  before(async () => {
    demo = await startDemoServer(
      loadDemoConfig(
        { PORT: '0', PROFILEGATE_DATA: join(root, 'data'), PROFILEGATE_ADMIN_KEYS: `${ADMIN_KEY}:admin:ops` },
        tmpdir(),
      ),
      { log() {} },
    );
    const res = await fetch(`${demo.url}/demo/target/authentication/token?authorizationScope=profile_api`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 201);
    token = ((await res.json()) as { accessToken: string }).accessToken;
  });

  after(async () => {
    await demo?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const refusals: Array<{ what: string; status: number; head: () => string[]; length: number }> = [
    {
      what: 'a batch whose Content-Length is over the 50 MB limit',
      status: 413,
      head: () => [
        'POST /m2/demo/v2/profile/batchUpdate HTTP/1.1',
        'Content-Type: text/csv',
        `Authorization: Bearer ${token}`,
      ],
      length: 60 * 1024 * 1024,
    },
    {
      what: 'a v1 batch whose Content-Length is over the limit',
      status: 413,
      head: () => [
        'POST /m2/demo/profile/batchUpdate HTTP/1.1',
        'Content-Type: application/x-www-form-urlencoded',
        `Authorization: Bearer ${token}`,
      ],
      length: 200 * 1024 * 1024,
    },
    {
      what: 'a single-update POST over the 60 KB limit',
      status: 413,
      head: () => [
        'POST /m2/demo/profile/update HTTP/1.1',
        'Content-Type: application/x-www-form-urlencoded',
        `Authorization: Bearer ${token}`,
      ],
      length: 61 * 1024,
    },
    {
      what: 'an admin JSON body over its 16 KB limit',
      status: 413,
      head: () => [
        'POST /demo/target/authentication/token?authorizationScope=profile_api HTTP/1.1',
        'Content-Type: application/json',
        `Authorization: Bearer ${ADMIN_KEY}`,
      ],
      length: 1024 * 1024,
    },
    {
      what: 'a batch in a Content-Type the API does not take',
      status: 415,
      head: () => [
        'POST /m2/demo/v2/profile/batchUpdate HTTP/1.1',
        'Content-Type: image/png',
        `Authorization: Bearer ${token}`,
      ],
      length: 1000,
    },
    {
      what: 'a batch for an unknown client',
      status: 404,
      head: () => [
        'POST /m2/nobody/v2/profile/batchUpdate HTTP/1.1',
        'Content-Type: text/csv',
        `Authorization: Bearer ${token}`,
      ],
      length: 1000,
    },
    {
      what: 'a batch without the token while Require Authentication is on',
      status: 401,
      head: () => ['POST /m2/demo/v2/profile/batchUpdate HTTP/1.1', 'Content-Type: text/csv'],
      length: 1000,
    },
    {
      what: 'a single-update POST without the token',
      status: 401,
      head: () => ['POST /m2/demo/profile/update HTTP/1.1', 'Content-Type: application/x-www-form-urlencoded'],
      length: 100,
    },
  ];

  for (const { what, status, head, length } of refusals) {
    it(`answers ${status} without 100 Continue to ${what}`, async () => {
      const { firstLine, response } = await exchangeDeclared(demo.url, head(), length);
      assert.match(firstLine, new RegExp(`^HTTP/1\\.1 ${status} `), response);
      assert.ok(!response.includes('100 Continue'), response);
    });
  }

  it('still sends 100 Continue to a good batch, then applies it', async () => {
    const body = Buffer.from('thirdPartyId,tier\ncontinue-1,gold\n');
    const result = await exchange(
      demo.url,
      [
        'POST /m2/demo/v2/profile/batchUpdate HTTP/1.1',
        'Content-Type: text/csv',
        `Authorization: Bearer ${token}`,
        'Accept: application/json',
      ],
      body,
    );
    assert.equal(result.firstLine, 'HTTP/1.1 100 Continue');
    assert.ok(result.bodySent);
    assert.match(result.response, /\r\n\r\nHTTP\/1\.1 200 OK\r\n/, result.response);
    assert.match(result.response, /"success":true/);
  });

  it('still sends 100 Continue to a good multipart batch', async () => {
    const boundary = 'continue-boundary';
    const body = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="batch"; filename="b.csv"\r\nContent-Type: text/csv\r\n\r\n` +
        `thirdPartyId,tier\ncontinue-3,gold\n\r\n--${boundary}--\r\n`,
    );
    const result = await exchange(
      demo.url,
      [
        'POST /m2/demo/v2/profile/batchUpdate HTTP/1.1',
        `Content-Type: multipart/form-data; boundary=${boundary}`,
        `Authorization: Bearer ${token}`,
        'Accept: application/json',
      ],
      body,
    );
    assert.equal(result.firstLine, 'HTTP/1.1 100 Continue');
    assert.match(result.response, /\r\n\r\nHTTP\/1\.1 200 OK\r\n/, result.response);
  });

  it('still sends 100 Continue to a good single-update POST and to an admin JSON body', async () => {
    const update = await exchange(
      demo.url,
      [
        'POST /m2/demo/profile/update HTTP/1.1',
        'Content-Type: application/x-www-form-urlencoded',
        `Authorization: Bearer ${token}`,
        'Accept: application/json',
      ],
      Buffer.from('mbox3rdPartyId=continue-2&profile.tier=silver'),
    );
    assert.equal(update.firstLine, 'HTTP/1.1 100 Continue');
    // The update never creates a profile: the 404 naming the id shows that the body was read.
    assert.match(update.response, /\r\n\r\nHTTP\/1\.1 404 Not Found\r\n/, update.response);
    assert.match(update.response, /third party id=continue-2/);

    const settings = await exchange(
      demo.url,
      [
        'PUT /demo/target/authentication/settings HTTP/1.1',
        'Content-Type: application/json',
        `Authorization: Bearer ${ADMIN_KEY}`,
      ],
      Buffer.from('{"requireAuthentication":true}'),
    );
    assert.equal(settings.firstLine, 'HTTP/1.1 100 Continue');
    assert.match(settings.response, /\r\n\r\nHTTP\/1\.1 200 OK\r\n/, settings.response);
  });
});

describe('handleExpectContinue in a host app', () => {
  it("sends 100 Continue to the host's own routes when their body parser starts reading", async () => {
    const app = express();
    app.post('/echo', express.json(), (req, res) => {
      res.json({ got: req.body as unknown });
    });
    app.post('/refuse', (_req, res) => {
      res.status(403).json({ refused: true });
    });
    const server = handleExpectContinue(app.listen(0, '127.0.0.1'));
    await new Promise<void>((done) => server.once('listening', () => done()));
    try {
      const { port } = server.address() as net.AddressInfo;
      const url = `http://127.0.0.1:${port}`;
      const echo = await exchange(
        url,
        ['POST /echo HTTP/1.1', 'Content-Type: application/json'],
        Buffer.from('{"a":1}'),
      );
      assert.equal(echo.firstLine, 'HTTP/1.1 100 Continue');
      assert.match(echo.response, /\r\n\r\nHTTP\/1\.1 200 OK\r\n[\s\S]*\{"got":\{"a":1\}\}$/);
      const refused = await exchange(
        url,
        ['POST /refuse HTTP/1.1', 'Content-Type: application/json'],
        Buffer.from('{}'),
      );
      assert.match(refused.firstLine, /^HTTP\/1\.1 403 /);
      assert.ok(!refused.bodySent);
      assert.throws(() => handleExpectContinue(server), /already has a checkContinue listener/);
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
  });
});
