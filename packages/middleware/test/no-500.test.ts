/** API.md 1: no route ever answers 500 to bad input, nor shows a stack trace or a file path. */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  ADMIN_KEYS,
  CLIENT,
  OTHER_CLIENT,
  XML_INVALID,
  generateToken,
  rawRequest,
  seedProfiles,
  startApp,
  type RawResponse,
  type TestApp,
} from './helpers';

const RUNS = 100;

/** encodeURIComponent that also takes lone surrogates (as %ED%A0%80, which is not UTF-8). */
function encode(text: string): string {
  return Array.from(text)
    .map((ch) => {
      try {
        return encodeURIComponent(ch);
      } catch {
        return '%ED%A0%80';
      }
    })
    .join('');
}

/** Percent-encodes what Node refuses in a request path (space, controls, non-ASCII) and "#", keeps the rest raw. */
function pathSafe(text: string): string {
  return Array.from(text)
    .map((ch) => (/^[\u0021-\u007e]$/.test(ch) && ch !== '#' ? ch : encode(ch)))
    .join('');
}

/** Text with the characters that break parsers: separators, quotes, escapes, controls, non-ASCII. */
const nasty = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.stringMatching(/^[a-z0-9+%&=,;"'\\\r\n\t ._/?#-]{0,30}$/),
  fc.constantFrom(
    '%',
    '%E0',
    '%zz',
    '%00',
    '%C3%A9',
    '__proto__',
    'constructor',
    '..',
    '',
    ' ',
    '\u0000',
    '\ud800',
    '+',
    '/',
    '&',
  ),
);

const paramName = fc.oneof(
  fc.constantFrom(
    'batchId',
    'showDetails',
    'mbox3rdPartyId',
    'mboxPC',
    'profile.tier',
    'profile.__proto__',
    'profile.',
    'client',
    'authorizationScope',
    'limit',
    'access_token',
  ),
  nasty,
);

const query = fc
  .array(fc.tuple(paramName, nasty, fc.boolean()), { maxLength: 6 })
  .map((pairs) =>
    pairs
      .map(([name, value, encoded]) =>
        encoded ? `${encode(name)}=${encode(value)}` : `${pathSafe(name)}=${pathSafe(value)}`,
      )
      .join('&'),
  );

const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant('VALID'),
  fc.constant('OTHER_CLIENT'),
  fc.constantFrom(
    'Bearer',
    'Bearer a b',
    'Basic x',
    'Bearer eyJhbGciOiJub25lIn0.e30.',
    `Bearer ${ADMIN_KEYS.admin}`,
    `Bearer ${ADMIN_KEYS.observer}`,
  ),
  fc.stringMatching(/^[\x20-\x7e]{0,60}$/).map((s) => `Bearer ${s}`),
  fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,80}$/),
);

const contentType = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=latin1',
    'application/x-www-form-urlencoded; charset=utf-16',
    'text/csv',
    'text/csv; charset=utf-8',
    'application/json',
    'application/json; charset=koi8-r',
    'multipart/form-data',
    'multipart/form-data; boundary=XyZ',
    'multipart/form-data; boundary=',
    'text/plain',
    '*/*',
    'application/',
  ),
  fc.stringMatching(/^[\x21-\x7e]{1,40}$/),
);

const accept = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    'application/json',
    'application/xml',
    '*/*',
    'text/html',
    'application/json;q=0',
    'application/*;q=0.5, */*;q=0.1',
  ),
  fc.stringMatching(/^[\x20-\x7e]{0,40}$/),
);

const csvCell = fc.oneof(nasty, fc.constantFrom('gold', 'u1', 'pc-1', '"quoted, cell"', '""', 'a""b'));
const csvBody = fc
  .tuple(
    fc.constantFrom('pcId', 'thirdPartyId', 'thirdpartyid', 'email', ''),
    fc.array(fc.oneof(fc.constantFrom('tier', 'profile.city', 'a b', '__proto__', ''), nasty), { maxLength: 4 }),
    fc.array(fc.array(csvCell, { maxLength: 5 }), { maxLength: 5 }),
    fc.constantFrom('\n', '\r\n', '\r'),
    fc.boolean(),
  )
  .map(([id, names, rows, eol, form]) => {
    const lines = [[id, ...names].join(','), ...rows.map((r) => r.join(','))].join(eol);
    return form ? `batch=${lines}` : lines;
  });

const jsonBody = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc
    .array(
      fc.record(
        {
          thirdPartyId: fc.oneof(nasty, fc.integer(), fc.constant(null)),
          pcId: nasty,
          attributes: fc.oneof(
            fc.dictionary(nasty, fc.oneof(nasty, fc.integer(), fc.constant(null)), { maxKeys: 4 }),
            nasty,
          ),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 5 },
    )
    .map((profiles) => JSON.stringify({ profiles })),
);

const multipartBody = fc
  .tuple(fc.constantFrom('batch', 'file', 'other', ''), csvBody, fc.boolean(), fc.boolean())
  .map(([field, content, withFilename, closed]) => {
    const disposition = `form-data; name="${field}"${withFilename ? '; filename="b.csv"' : ''}`;
    return `--XyZ\r\nContent-Disposition: ${disposition}\r\n\r\n${content}\r\n${closed ? '--XyZ--\r\n' : ''}`;
  });

const body = fc.oneof(
  fc.constant(undefined),
  nasty,
  csvBody,
  jsonBody,
  multipartBody,
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
);

const encoding = fc.oneof(
  { weight: 5, arbitrary: fc.constant(undefined) },
  fc.constantFrom('gzip', 'identity', 'br', 'x'),
);
const clientCode = fc.oneof(
  fc.constantFrom(CLIENT, CLIENT, OTHER_CLIENT, 'nobody', 'ACME', '%E0', '%2F', '..'),
  nasty.map(pathSafe),
);

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
}

describe('no 500 on any input (fast-check, API.md 1)', function () {
  this.timeout(120_000);
  let t: TestApp;
  let token: string;
  let otherToken: string;

  before(async () => {
    t = await startApp({ limits: { maxBytes: 64 * 1024 } });
    await t.store.putSettings(CLIENT, { requireAuthentication: true }); // acme closed, globex open
    await seedProfiles(t.store);
    token = await generateToken(t, CLIENT);
    otherToken = await generateToken(t, OTHER_CLIENT);
  });
  after(async () => t.close());

  async function send(sent: Sent): Promise<RawResponse> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(sent.headers)) {
      if (value === undefined) continue;
      if (name === 'Authorization' && value === 'VALID') headers[name] = `Bearer ${token}`;
      else if (name === 'Authorization' && value === 'OTHER_CLIENT') headers[name] = `Bearer ${otherToken}`;
      else headers[name] = value;
    }
    if (sent.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(sent.body));
    return rawRequest(t.origin, {
      method: sent.method,
      path: sent.path,
      headers,
      chunks: sent.body === undefined ? [] : [sent.body],
    });
  }

  function check(sent: Sent, res: RawResponse): void {
    const where = `${sent.method} ${sent.path} ${JSON.stringify(sent.headers)} body=${JSON.stringify(String(sent.body ?? '')).slice(0, 200)}`;
    assert.ok(res.status >= 200 && res.status < 500, `${res.status} for ${where}: ${res.text.slice(0, 300)}`);
    assert.ok(
      !/\n\s+at |node_modules|\/work\/|\.ts:\d|\.js:\d/.test(res.text),
      `stack or path in body for ${where}: ${res.text.slice(0, 300)}`,
    );
    if (/xml/.test(res.headers['content-type'] ?? '')) {
      assert.ok(!XML_INVALID.test(res.text), `XML not well-formed for ${where}: ${JSON.stringify(res.text)}`);
    }
  }

  const headers = fc.record({
    Authorization: authorization,
    Accept: accept,
    'Content-Type': contentType,
    'Content-Encoding': encoding,
  });

  const routes: Array<[string, fc.Arbitrary<Sent>]> = [
    [
      'POST batchUpdate (v2 and v1)',
      fc.tuple(clientCode, fc.boolean(), query, headers, body).map(([c, v2, q, h, b]) => ({
        method: 'POST',
        path: `/m2/${c}${v2 ? '/v2' : ''}/profile/batchUpdate${q ? `?${q}` : ''}`,
        headers: h as Record<string, string>,
        body: b,
      })),
    ],
    [
      'GET batchStatus (v2 and v1)',
      fc.tuple(clientCode, fc.boolean(), query, headers).map(([c, v2, q, h]) => ({
        method: 'GET',
        path: `/m2/${c}${v2 ? '/v2' : ''}/profile/batchStatus${q ? `?${q}` : ''}`,
        headers: h as Record<string, string>,
        body: undefined,
      })),
    ],
    [
      'GET|POST update',
      fc
        .tuple(
          clientCode,
          fc.constantFrom('GET', 'POST'),
          query,
          headers,
          fc.oneof(fc.constant(undefined), query, nasty),
        )
        .map(([c, m, q, h, b]) => ({
          method: m,
          path: `/m2/${c}/profile/update${q ? `?${q}` : ''}`,
          headers: h as Record<string, string>,
          body: m === 'POST' ? b : undefined,
        })),
    ],
    [
      'GET fetch (both)',
      fc
        .tuple(fc.oneof(nasty, fc.constantFrom('u1', 'pc-1', '%E0', '%', '%2F')), fc.boolean(), query, headers)
        .map(([id, third, q, h]) => ({
          method: 'GET',
          path: `/rest/v1/profiles/${third ? 'thirdPartyId/' : ''}${pathSafe(id) || 'x'}${q ? `?${q}` : ''}`,
          headers: h as Record<string, string>,
          body: undefined,
        })),
    ],
    [
      'admin routes',
      fc
        .tuple(
          clientCode,
          fc.constantFrom('token', 'settings', 'audit'),
          fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
          query,
          headers,
          fc.oneof(body, jsonBody),
          fc.constantFrom(ADMIN_KEYS.admin, ADMIN_KEYS.observer, ADMIN_KEYS.sysadmin, undefined),
        )
        .map(([c, what, m, q, h, b, key]) => ({
          method: m,
          path: `/${c}/target/authentication/${what}${q ? `?${q}` : what === 'token' ? '?authorizationScope=profile_api' : ''}`,
          headers: { ...(h as Record<string, string>), ...(key ? { Authorization: `Bearer ${key}` } : {}) },
          body: m === 'GET' || m === 'DELETE' ? undefined : b,
        })),
    ],
    [
      'export route',
      fc
        .tuple(
          clientCode,
          fc.oneof(query, fc.constantFrom('format=csv', 'format=ndjson&key=thirdPartyId', 'format=csv&key=%E0')),
          headers,
          fc.constantFrom(ADMIN_KEYS.admin, ADMIN_KEYS.observer, undefined),
        )
        .map(([c, q, h, key]) => ({
          method: 'GET',
          path: `/${c}/target/profiles/export${q ? `?${q}` : ''}`,
          headers: { ...(h as Record<string, string>), ...(key ? { Authorization: `Bearer ${key}` } : {}) },
          body: undefined,
        })),
    ],
  ];

  for (const [label, arbitrary] of routes) {
    it(`${label}: status < 500 and no stack trace (${RUNS} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(arbitrary, async (sent) => {
          check(sent, await send(sent));
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('no unexpected error reached onError', async () => {
    await new Promise((resolve) => setTimeout(resolve, 50)); // let background batches finish
    assert.deepEqual(t.errors.map(String), []);
  });
});
