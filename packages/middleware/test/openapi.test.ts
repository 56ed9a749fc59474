import assert from 'node:assert/strict';
import { KeyRing, MemoryStore, generateSigningKey } from '@profilegate/core';
import express from 'express';
import request from 'supertest';
import { profileApi } from '../src/index';
import { openApiDocument } from '../src/openapi';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every route of API.md (sections 2.1 to 3.3, the admin page and this document), in OpenAPI spelling. */
const ROUTES: Array<[method: string, path: string]> = [
  ['post', '/m2/{client}/v2/profile/batchUpdate'],
  ['post', '/m2/{client}/profile/batchUpdate'],
  ['get', '/m2/{client}/v2/profile/batchStatus'],
  ['get', '/m2/{client}/profile/batchStatus'],
  ['get', '/m2/{client}/profile/update'],
  ['post', '/m2/{client}/profile/update'],
  ['get', '/rest/v1/profiles/{pcId}'],
  ['get', '/rest/v1/profiles/thirdPartyId/{id}'],
  ['get', '/rest/v1/profiles/marketingCloudVisitorId/{ecid}'],
  ['delete', '/rest/v1/profiles/{pcId}'],
  ['delete', '/rest/v1/profiles/thirdPartyId/{id}'],
  ['delete', '/rest/v1/profiles/marketingCloudVisitorId/{ecid}'],
  ['get', '/{client}/target/authentication/token'],
  ['post', '/{client}/target/authentication/token'],
  ['delete', '/{client}/target/authentication/token'],
  ['get', '/{client}/target/authentication/settings'],
  ['put', '/{client}/target/authentication/settings'],
  ['get', '/{client}/target/authentication/audit'],
  ['get', '/{client}/target/profiles/export'],
  ['get', '/{client}/target/admin'],
  ['get', '/openapi.json'],
];
const PROFILE_NEGOTIATED = ROUTES.filter(([, path]) => path.startsWith('/m2/'));
const ADMIN = ROUTES.filter(([, path]) => path.includes('/target/authentication/'));
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);

function resolvePointer(doc: Json, ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `$ref ${ref} must point inside the document`);
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return undefined;
    node = (node as Json)[part];
  }
  return node;
}

/** Follows a `$ref` (if any) to the object it names. */
function deref(doc: Json, node: Json): Json {
  return typeof node?.$ref === 'string' ? (resolvePointer(doc, node.$ref) as Json) : node;
}

function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((item) => collectRefs(item, out));
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') out.push(value);
      else collectRefs(value, out);
    }
  }
  return out;
}

function operations(doc: Json): Array<{ method: string; path: string; op: Json; pathItem: Json }> {
  const out = [];
  for (const [path, pathItem] of Object.entries(doc.paths as Json)) {
    for (const [method, op] of Object.entries(pathItem as Json)) {
      if (METHODS.has(method)) out.push({ method, path, op: op as Json, pathItem: pathItem as Json });
    }
  }
  return out;
}

describe('openApiDocument', () => {
  const doc = openApiDocument() as Json;

  it('is an OpenAPI 3.1 document with a relative server and info', () => {
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    assert.deepEqual(doc.servers, [{ url: '/' }]);
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
  });

  it('describes every route of API.md', () => {
    for (const [method, path] of ROUTES) {
      assert.ok(doc.paths[path], `path ${path} is missing`);
      assert.ok(doc.paths[path][method], `${method.toUpperCase()} ${path} is missing`);
    }
    assert.equal(operations(doc).length, ROUTES.length, 'no operation beyond the API.md routes');
  });

  it('gives every operation a unique operationId and at least one success response', () => {
    const ids = new Set<string>();
    for (const { method, path, op } of operations(doc)) {
      assert.equal(typeof op.operationId, 'string', `${method} ${path} operationId`);
      assert.ok(!ids.has(op.operationId), `duplicate operationId ${op.operationId}`);
      ids.add(op.operationId);
      const codes = Object.keys(op.responses ?? {});
      assert.ok(
        codes.some((code) => /^2\d\d$/.test(code)),
        `${method} ${path} has no 2xx response`,
      );
      for (const code of codes) {
        const response = deref(doc, op.responses[code]);
        assert.equal(typeof response?.description, 'string', `${method} ${path} ${code} needs a description`);
      }
    }
  });

  it('resolves every $ref inside the document', () => {
    const refs = collectRefs(doc);
    assert.ok(refs.length > 20);
    for (const ref of refs) assert.notEqual(resolvePointer(doc, ref), undefined, `unresolved ${ref}`);
  });

  it('declares every path template parameter', () => {
    for (const { method, path, op, pathItem } of operations(doc)) {
      const declared = [...(pathItem.parameters ?? []), ...(op.parameters ?? [])]
        .map((p: Json) => deref(doc, p))
        .filter((p: Json) => p.in === 'path')
        .map((p: Json) => p.name);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      assert.deepEqual(declared.sort(), templated.sort(), `${method} ${path}`);
    }
  });

  it('uses only declared security schemes', () => {
    const schemes = doc.components.securitySchemes;
    assert.deepEqual(schemes.profileToken, { ...schemes.profileToken, type: 'http', scheme: 'bearer' });
    assert.deepEqual(schemes.adminKey, { ...schemes.adminKey, type: 'http', scheme: 'bearer' });
    for (const { op } of operations(doc)) {
      for (const requirement of op.security ?? []) {
        for (const name of Object.keys(requirement)) assert.ok(schemes[name], `unknown security scheme ${name}`);
      }
    }
  });

  it('gives profile routes the optional profileToken and a WWW-Authenticate header on 401 and 400', () => {
    for (const { path, op } of operations(doc).filter(
      (o) => o.path.startsWith('/m2/') || o.path.startsWith('/rest/'),
    )) {
      assert.deepEqual(op.security, [{ profileToken: [] }, {}], path);
      for (const code of ['400', '401']) {
        const response = deref(doc, op.responses[code]);
        assert.ok(response.headers?.['WWW-Authenticate'], `${path} ${code} lacks WWW-Authenticate`);
      }
    }
  });

  it('offers XML and JSON on the negotiated profile routes, JSON only on fetch, JSON and Adobe JSON on admin routes', () => {
    for (const [method, path] of PROFILE_NEGOTIATED) {
      for (const [code, raw] of Object.entries(doc.paths[path][method].responses as Json)) {
        const content = deref(doc, raw as Json).content;
        assert.deepEqual(
          Object.keys(content).sort(),
          ['application/json', 'application/xml'],
          `${method} ${path} ${code}`,
        );
      }
    }
    for (const raw of Object.values(doc.paths['/rest/v1/profiles/{pcId}'].get.responses as Json)) {
      const content = deref(doc, raw as Json).content;
      if (content) assert.deepEqual(Object.keys(content), ['application/json'], 'get /rest/v1/profiles/{pcId}');
    }
    for (const [method, path] of ADMIN) {
      for (const raw of Object.values(doc.paths[path][method].responses as Json)) {
        const content = deref(doc, raw as Json).content;
        if (content) {
          assert.deepEqual(
            Object.keys(content),
            ['application/json', 'application/vnd.adobe.target.v1+json'],
            `${method} ${path}`,
          );
        }
      }
    }
  });

  it('describes the export: CSV or NDJSON, format required, key pcId or thirdPartyId, 409 for a CSV a batch cannot read', () => {
    const op = doc.paths['/{client}/target/profiles/export'].get;
    assert.deepEqual(Object.keys(op.responses['200'].content).sort(), ['application/x-ndjson', 'text/csv']);
    const params = (op.parameters as Json[]).map((p) => deref(doc, p));
    const format = params.find((p) => p.name === 'format');
    assert.equal(format?.required, true);
    assert.deepEqual(format?.schema.enum, ['ndjson', 'csv']);
    assert.deepEqual(params.find((p) => p.name === 'key')?.schema.enum, ['pcId', 'thirdPartyId']);
    assert.ok(op.responses['409']);
    assert.ok(doc.components.schemas.AuditEvent.properties.action.enum.includes('profiles.exported'));
  });

  it('accepts the four batch body types', () => {
    for (const path of ['/m2/{client}/v2/profile/batchUpdate', '/m2/{client}/profile/batchUpdate']) {
      const content = doc.paths[path].post.requestBody.content;
      assert.deepEqual(Object.keys(content).sort(), [
        'application/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data',
        'text/csv',
      ]);
      for (const code of ['413', '415', '429']) assert.ok(doc.paths[path].post.responses[code], `${path} ${code}`);
    }
  });

  it('documents attribute removal: removeAttribute on the single update, null in a JSON batch (issue 19)', () => {
    const update = doc.paths['/m2/{client}/profile/update'];
    const param = update.get.parameters.map((p: Json) => deref(doc, p)).find((p: Json) => p.name === 'removeAttribute');
    assert.ok(param, 'GET update has removeAttribute');
    assert.equal(param.in, 'query');
    assert.equal(param.explode, true);
    assert.equal(param.schema.type, 'array');
    assert.ok(update.post.parameters.some((p: Json) => deref(doc, p).name === 'removeAttribute'));
    const form = deref(doc, update.post.requestBody.content['application/x-www-form-urlencoded'].schema);
    assert.equal(form.properties.removeAttribute.type, 'array');
    const batch = deref(
      doc,
      doc.paths['/m2/{client}/v2/profile/batchUpdate'].post.requestBody.content['application/json'].schema,
    );
    const values = batch.properties.profiles.items.properties.attributes.additionalProperties;
    assert.deepEqual(values.type, ['string', 'null']);
    assert.match(values.description, /null removes/);
  });

  it('answers admin errors with the admin error schema and admin routes need the admin key', () => {
    const adminError = '#/components/schemas/AdminError';
    for (const [method, path] of ADMIN) {
      const op = doc.paths[path][method];
      assert.deepEqual(op.security, [{ adminKey: [] }]);
      for (const code of ['400', '401', '403', '404']) {
        assert.equal(
          deref(doc, op.responses[code]).content['application/json'].schema.$ref,
          adminError,
          `${method} ${path} ${code}`,
        );
      }
    }
    assert.deepEqual(doc.components.schemas.AdminError.required, ['httpStatus', 'requestId', 'requestTime', 'errors']);
  });

  it("answers 408 on every route that reads a body, in that route's error shape", () => {
    const bodyRoutes: Array<[string, string, string]> = [
      ['post', '/m2/{client}/v2/profile/batchUpdate', 'profile'],
      ['post', '/m2/{client}/profile/batchUpdate', 'profile'],
      ['post', '/m2/{client}/profile/update', 'profile'],
      ['post', '/{client}/target/authentication/token', 'admin'],
      ['put', '/{client}/target/authentication/settings', 'admin'],
    ];
    for (const [method, path, style] of bodyRoutes) {
      const response = deref(doc, doc.paths[path][method].responses['408']);
      assert.ok(response, `${method} ${path} lacks 408`);
      assert.match(response.description, /bodyIdleTimeoutMs/);
      const content = response.content;
      if (style === 'admin') {
        assert.equal(content['application/json'].schema.$ref, '#/components/schemas/AdminError');
      } else {
        assert.deepEqual(Object.keys(content).sort(), ['application/json', 'application/xml']);
      }
    }
    for (const { method, path, op } of operations(doc)) {
      const reads = bodyRoutes.some(([m, p]) => m === method && p === path);
      if (!reads) assert.equal(op.responses['408'], undefined, `${method} ${path} reads no body`);
    }
  });

  it('serves the admin page as HTML', () => {
    assert.ok(doc.paths['/{client}/target/admin'].get.responses['200'].content['text/html']);
  });

  it("lints clean with Redocly's recommended rules (one exception: GET /openapi.json never answers 4xx)", async () => {
    // An ES module only: imported, not required.
    const { createConfig, lintFromString } = await import('@redocly/openapi-core');
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({
      source: JSON.stringify(doc, null, 2),
      absoluteRef: '/openapi.json',
      config,
    });
    const shown = problems
      .filter(
        (p) =>
          !(p.ruleId === 'operation-4xx-response' && p.location[0]?.pointer === '#/paths/~1openapi.json/get/responses'),
      )
      .map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    assert.deepEqual(shown, []);
  });

  it("documents the admin page's 404 for an unknown client as the JSON admin error it is", async () => {
    const documented = doc.paths['/{client}/target/admin'].get.responses['404'];
    assert.equal(deref(doc, documented.content['application/json'].schema), doc.components.schemas.AdminError);
    const router = profileApi({
      clients: ['demo'],
      store: new MemoryStore(),
      signingKeys: new KeyRing([generateSigningKey(Date.now())]),
      authenticateAdmin: () => null,
      adminPage: true,
    });
    const res = await request(express().use(router)).get('/nobody/target/admin');
    assert.equal(res.status, 404);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.deepEqual(Object.keys(res.body), ['httpStatus', 'requestId', 'requestTime', 'errors']);
  });

  it('returns a fresh copy on each call', () => {
    const a = openApiDocument() as Json;
    a.paths = {};
    assert.ok(Object.keys((openApiDocument() as Json).paths).length > 0);
  });

  it('documents every route the router mounts, and the router serves it at /openapi.json', async () => {
    const router = profileApi({
      clients: ['demo'],
      store: new MemoryStore(),
      signingKeys: new KeyRing([generateSigningKey(Date.now())]),
      authenticateAdmin: () => null,
    });
    const mounted = new Set<string>();
    const walk = (stack: Json[]): void => {
      for (const layer of stack) {
        if (layer.route) {
          const openApiPath = String(layer.route.path).replace(/:([A-Za-z0-9_]+)/g, '{$1}');
          for (const method of Object.keys(layer.route.methods)) mounted.add(`${method} ${openApiPath}`);
        } else if (Array.isArray(layer.handle?.stack)) {
          walk(layer.handle.stack);
        }
      }
    };
    walk((router as unknown as Json).stack);
    assert.ok(mounted.size >= 10, `found only ${mounted.size} routes`);
    for (const route of mounted) {
      const [method, path] = route.split(' ') as [string, string];
      // The router names the fetch id `:id` or `:pcId`; the document uses the same names.
      assert.ok(
        doc.paths[path]?.[method],
        `the router mounts ${method.toUpperCase()} ${path} but the document lacks it`,
      );
    }

    const app = express().use(router);
    const res = await request(app)
      .get('/openapi.json')
      .expect(200)
      .expect('Content-Type', /application\/json/);
    assert.deepEqual(res.body, openApiDocument());
  });
});
