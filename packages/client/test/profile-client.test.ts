import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminApiError, ServerUnreachableError } from '../src/admin-client';
import { ProfileClient } from '../src/profile-client';

const KEY = 'admin-key-0123456789-secret';

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('ProfileClient', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  });

  it('gets and deletes a profile on the fetch routes, with the profile token and the client', async () => {
    const seen: string[] = [];
    const { url, server } = await serve((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      if (req.method === 'DELETE') res.writeHead(204).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"visitorId":"p/1"}');
    });
    servers.push(server);
    const api = new ProfileClient({ serverUrl: url, client: 'acme', adminKey: KEY });
    assert.deepEqual(await api.getProfile('pcId', 'p/1', 'tok'), { visitorId: 'p/1' });
    await api.deleteProfile('thirdPartyId', 'crm 1');
    assert.deepEqual(seen, [
      'GET /rest/v1/profiles/p%2F1?client=acme Bearer tok',
      'DELETE /rest/v1/profiles/thirdPartyId/crm%201?client=acme ',
    ]);
  });

  it('streams an export with the admin key, and turns a refusal into an AdminApiError without the key', async () => {
    const { url, server } = await serve((req, res) => {
      if (req.url?.includes('format=ndjson')) {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write('{"a":1}\n');
        res.end('{"a":2}\n');
        return;
      }
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ errorCode: 'Forbidden', message: `no, ${KEY}` }] }));
    });
    servers.push(server);
    const api = new ProfileClient({ serverUrl: url, client: 'acme', adminKey: KEY });
    const download = await api.exportProfiles({ format: 'ndjson' });
    assert.equal(download.contentType, 'application/x-ndjson');
    let text = '';
    for await (const chunk of download.body) text += Buffer.from(chunk).toString('utf8');
    assert.equal(text, '{"a":1}\n{"a":2}\n');
    await assert.rejects(api.exportProfiles({ format: 'csv', key: 'thirdPartyId' }), (error: unknown) => {
      assert.ok(error instanceof AdminApiError);
      assert.equal(error.status, 403);
      assert.equal(error.errorCode, 'Forbidden');
      assert.ok(!error.message.includes(KEY));
      return true;
    });
  });

  it('reports a download cut short as ServerUnreachableError', async () => {
    const { url, server } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('pcId,a\r\n');
      setTimeout(() => res.destroy(), 20);
    });
    servers.push(server);
    const download = await new ProfileClient({ serverUrl: url, client: 'acme' }).exportProfiles({ format: 'csv' });
    await assert.rejects(
      (async () => {
        for await (const _chunk of download.body) {
          // read until it fails
        }
      })(),
      ServerUnreachableError,
    );
  });
});
