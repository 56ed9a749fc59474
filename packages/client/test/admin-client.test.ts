import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminApiError, AdminClient, ServerUnreachableError } from '../src/admin-client';

const KEY = 'admin-key-0123456789-secret';

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A tiny HTTP server answering from `handler`, recording every request. */
async function stubServer(
  handler: (req: Seen) => { status: number; body?: unknown; raw?: string },
): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(request);
      const answer = handler(request);
      res.statusCode = answer.status;
      if (answer.raw !== undefined) res.end(answer.raw);
      else if (answer.body === undefined) res.end();
      else {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(answer.body));
      }
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const adminError = (status: number, errorCode: string, message: string) => ({
  httpStatus: status,
  requestId: 'r',
  requestTime: new Date().toISOString(),
  errors: [{ errorCode, message }],
});

describe('AdminClient', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });
  const start = async (handler: Parameters<typeof stubServer>[0]) => {
    const stub = await stubServer(handler);
    servers.push(stub.server);
    return { ...stub, api: new AdminClient({ serverUrl: `${stub.url}/`, client: 'demo', adminKey: KEY }) };
  };

  it('sends the admin key as a bearer token to the documented token routes', async () => {
    const token = { accessToken: 'eyJ.x.y', tokenType: 'bearer', scope: 'profile_api', expiresIn: 10 };
    const { api, seen } = await start((req) =>
      req.method === 'DELETE' ? { status: 204 } : { status: 201, body: token },
    );
    assert.deepEqual(await api.generateToken({ expiresIn: 3600, previousTokenGraceSeconds: 5 }), token);
    await api.revokeToken();
    assert.equal(seen[0]?.url, '/demo/target/authentication/token?authorizationScope=profile_api');
    assert.equal(seen[0]?.method, 'POST');
    assert.equal(seen[0]?.headers['authorization'], `Bearer ${KEY}`);
    assert.equal(seen[0]?.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), { expiresIn: 3600, previousTokenGraceSeconds: 5 });
    assert.equal(seen[1]?.method, 'DELETE');
  });

  it('says whether an admin route or a profile route refused (issue 20: a refused admin key has its own exit code)', async () => {
    const { api } = await start(() => ({ status: 401, body: adminError(401, 'Unauthorized', 'no') }));
    await assert.rejects(api.getSettings(), (e: unknown) => e instanceof AdminApiError && e.route === 'admin');
    await assert.rejects(
      api.getBatchStatus('demo-1-1'),
      (e: unknown) => e instanceof AdminApiError && e.route === 'profile',
    );
    await assert.rejects(
      api.uploadBatch('batch=a'),
      (e: unknown) => e instanceof AdminApiError && e.route === 'profile',
    );
  });

  it('updateSettings PUTs only the fields given: the retention, the switch, or both (issue 19)', async () => {
    const answer = { requireAuthentication: true, profileRetentionDays: 30, token: null };
    const { api, seen } = await start(() => ({ status: 200, body: answer }));
    assert.deepEqual(await api.updateSettings({ profileRetentionDays: 30 }), answer);
    await api.updateSettings({ profileRetentionDays: null });
    await api.updateSettings({ requireAuthentication: false, profileRetentionDays: 7 });
    assert.deepEqual(
      seen.map((r) => [r.method, r.url, JSON.parse(r.body)]),
      [
        ['PUT', '/demo/target/authentication/settings', { profileRetentionDays: 30 }],
        ['PUT', '/demo/target/authentication/settings', { profileRetentionDays: null }],
        ['PUT', '/demo/target/authentication/settings', { requireAuthentication: false, profileRetentionDays: 7 }],
      ],
    );
  });

  it('getToken answers null for TokenNotFound but throws for an unknown client', async () => {
    let code = 'TokenNotFound';
    const { api } = await start(() => ({ status: 404, body: adminError(404, code, 'none') }));
    assert.equal(await api.getToken(), null);
    code = 'ClientNotFound';
    await assert.rejects(
      api.getToken(),
      (e: unknown) => e instanceof AdminApiError && e.errorCode === 'ClientNotFound',
    );
  });

  it('throws AdminApiError with status, errorCode and message, never the key', async () => {
    const { api } = await start(() => ({ status: 401, body: adminError(401, 'Unauthorized', `bad key ${KEY}`) }));
    await assert.rejects(api.getSettings(), (e: unknown) => {
      assert.ok(e instanceof AdminApiError);
      assert.equal(e.status, 401);
      assert.equal(e.errorCode, 'Unauthorized');
      assert.ok(!e.message.includes(KEY));
      return true;
    });
  });

  it('maps the profile routes’ {success:false,message} errors and non-JSON answers', async () => {
    let raw = false;
    const { api } = await start(() =>
      raw ? { status: 502, raw: '<html>bad gateway</html>' } : { status: 401, body: { success: false, message: 'no' } },
    );
    await assert.rejects(api.getBatchStatus('b1'), (e: unknown) => e instanceof AdminApiError && e.message === 'no');
    raw = true;
    await assert.rejects(api.getAudit(), (e: unknown) => e instanceof AdminApiError && e.status === 502);
  });

  it('uploads batches with the profile token, and reads their status', async () => {
    const { api, seen } = await start((req) =>
      req.method === 'POST'
        ? { status: 200, body: { success: true, batchId: 'demo-1-1', batchStatus: 'x', message: 'ok' } }
        : { status: 200, body: { batchId: 'demo-1-1', status: 'complete', batchSize: 1 } },
    );
    const submitted = await api.uploadBatch('batch=thirdPartyId,tier\nu1,gold\n', { profileToken: 'ptoken', v1: true });
    assert.equal(submitted.batchId, 'demo-1-1');
    const status = await api.getBatchStatus('demo-1-1', { profileToken: 'ptoken' });
    assert.equal(status.status, 'complete');
    assert.equal(seen[0]?.url, '/m2/demo/profile/batchUpdate');
    assert.equal(seen[0]?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(seen[0]?.headers['authorization'], 'Bearer ptoken');
    assert.equal(seen[1]?.url, '/m2/demo/v2/profile/batchStatus?batchId=demo-1-1&showDetails=true');
  });

  it('throws ServerUnreachableError when nothing listens', async () => {
    const { url, server } = await stubServer(() => ({ status: 200 }));
    await new Promise<void>((done) => server.close(() => done()));
    const api = new AdminClient({ serverUrl: url, client: 'demo', adminKey: KEY });
    await assert.rejects(api.getSettings(), (e: unknown) => {
      assert.ok(e instanceof ServerUnreachableError);
      assert.match(e.message, /Nothing is listening/);
      assert.ok(!e.message.includes(KEY));
      return true;
    });
  });

  it('refuses a server URL that is not http(s)', () => {
    assert.throws(() => new AdminClient({ serverUrl: 'ftp://x', client: 'demo' }), /http/);
    assert.throws(() => new AdminClient({ serverUrl: 'not a url', client: 'demo' }), /not a URL/);
  });
});
