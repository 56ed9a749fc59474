/** API.md 3: the admin routes (token, settings, audit) and who may use them. */
import { strict as assert } from 'node:assert';
import {
  ACTOR_IDS,
  ADMIN_KEYS,
  AUDIT_PATH,
  CLIENT,
  OTHER_CLIENT,
  SETTINGS_PATH,
  TOKEN_PATH,
  adminAuth,
  callRoute,
  generateToken,
  PROFILE_ROUTES,
  startApp,
  type AdminWho,
  type TestApp,
} from './helpers';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Checks the admin error body of API.md 1 exactly; returns its one error. */
function adminError(
  res: { status: number; body: unknown; headers: Record<string, string>; text: string },
  status: number,
  errorCode?: string,
): { errorCode: string; message: string } {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  const body = res.body as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), ['httpStatus', 'requestId', 'requestTime', 'errors']);
  assert.equal(body['httpStatus'], status);
  assert.match(body['requestId'] as string, UUID);
  assert.match(body['requestTime'] as string, ISO);
  assert.ok(Math.abs(Date.parse(body['requestTime'] as string) - Date.now()) < 60_000);
  const errors = body['errors'] as Array<{ errorCode: string; message: string }>;
  assert.equal(errors.length, 1);
  assert.deepEqual(Object.keys(errors[0]!), ['errorCode', 'message']);
  if (errorCode) assert.equal(errors[0]!.errorCode, errorCode);
  assert.ok(errors[0]!.message.length > 0);
  return errors[0]!;
}

const TOKEN_DENIAL = (doing: string) =>
  `${doing} needs the approver, publisher or admin role, workspace admin or sysadmin`;
const SETTINGS_DENIAL =
  'Changing the settings (Require Authentication, profile retention) needs the admin role, workspace admin or sysadmin';

/** Who may do what (API.md 3); true = allowed. */
const TABLE: Record<AdminWho, { token: boolean; settingsWrite: boolean }> = {
  observer: { token: false, settingsWrite: false },
  editor: { token: false, settingsWrite: false },
  approver: { token: true, settingsWrite: false },
  publisher: { token: true, settingsWrite: false },
  admin: { token: true, settingsWrite: true },
  workspaceAdmin: { token: true, settingsWrite: true },
  workspaceEditor: { token: false, settingsWrite: false }, // editor in ws1, publisher in ws2: not enough
  sysadmin: { token: true, settingsWrite: true },
};

describe('admin permissions (API.md 3)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp({ requireAuth: true });
    await generateToken(t);
  });
  afterEach(async () => t.close());

  for (const [who, rights] of Object.entries(TABLE) as Array<[AdminWho, (typeof TABLE)[AdminWho]]>) {
    it(`${who}: token ${rights.token ? 'allowed' : '403'}, settings write ${rights.settingsWrite ? 'allowed' : '403'}, reads allowed`, async () => {
      const auth = adminAuth(who);
      const get = await t.http.get(TOKEN_PATH(CLIENT)).set('Authorization', auth);
      const post = await t.http.post(TOKEN_PATH(CLIENT)).set('Authorization', auth);
      if (rights.token) {
        assert.equal(get.status, 200);
        assert.equal(post.status, 201);
        assert.equal(post.body.createdBy, ACTOR_IDS[who]);
      } else {
        assert.equal(adminError(get, 403, 'Forbidden').message, TOKEN_DENIAL('Reading the profile token'));
        assert.equal(adminError(post, 403, 'Forbidden').message, TOKEN_DENIAL('Generating the profile token'));
      }
      const del = await t.http.delete(TOKEN_PATH(CLIENT)).set('Authorization', auth);
      if (rights.token) {
        assert.equal(del.status, 204);
        assert.equal(del.text, '');
      } else {
        assert.equal(adminError(del, 403, 'Forbidden').message, TOKEN_DENIAL('Revoking the profile token'));
      }

      const settings = await t.http.get(SETTINGS_PATH(CLIENT)).set('Authorization', auth);
      assert.equal(settings.status, 200);
      const put = await t.http
        .put(SETTINGS_PATH(CLIENT))
        .set('Authorization', auth)
        .send({ requireAuthentication: false });
      if (rights.settingsWrite) {
        assert.equal(put.status, 200);
        assert.equal(put.body.requireAuthentication, false);
      } else {
        assert.equal(adminError(put, 403, 'Forbidden').message, SETTINGS_DENIAL);
        const after = await t.http.get(SETTINGS_PATH(CLIENT)).set('Authorization', auth);
        assert.equal(after.body.requireAuthentication, true);
      }
      const audit = await t.http.get(AUDIT_PATH(CLIENT)).set('Authorization', auth);
      assert.equal(audit.status, 200);
      assert.ok(Array.isArray(audit.body.events));
    });
  }

  it('a denied request changes nothing (the token still works)', async () => {
    const token = await generateToken(t);
    await t.http.post(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('editor'));
    await t.http.delete(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('observer'));
    const res = await callRoute(t, PROFILE_ROUTES[2]!, CLIENT, { Authorization: `Bearer ${token}` });
    assert.equal(res.status, 404); // unknown batch: passed the gate
  });
});

describe('admin authentication and errors (API.md 1, 3)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp();
  });
  afterEach(async () => t.close());

  const routes: Array<[string, string]> = [
    ['get', TOKEN_PATH(CLIENT)],
    ['post', TOKEN_PATH(CLIENT)],
    ['delete', TOKEN_PATH(CLIENT)],
    ['get', SETTINGS_PATH(CLIENT)],
    ['put', SETTINGS_PATH(CLIENT)],
    ['get', AUDIT_PATH(CLIENT)],
  ];
  const send = (method: string, path: string) =>
    (t.http as unknown as Record<string, (p: string) => ReturnType<TestApp['http']['get']>>)[method]!(path);

  it('no or unknown admin key: 401 with the admin error body on every admin route', async () => {
    for (const [method, path] of routes) {
      for (const header of [
        undefined,
        'Bearer not-a-key-0123456789',
        `Basic ${Buffer.from(`x:${ADMIN_KEYS.admin}`).toString('base64')}`,
        ADMIN_KEYS.admin,
        `Bearer ${ADMIN_KEYS.admin}x`,
        `Bearer ${ADMIN_KEYS.admin.slice(0, -1)}`,
      ]) {
        const req = send(method, path);
        if (header) req.set('Authorization', header);
        const res = await req;
        adminError(res, 401, 'Unauthorized');
        assert.equal(res.headers['www-authenticate'], 'Bearer realm="profilegate-admin"');
      }
    }
  });

  it('a profile token is not an admin key', async () => {
    const token = await generateToken(t);
    adminError(await t.http.get(SETTINGS_PATH(CLIENT)).set('Authorization', `Bearer ${token}`), 401);
  });

  it('unknown client: 404 with the admin error body, before authentication', async () => {
    for (const [method, path] of routes) {
      const res = await send(method, path.replace(`/${CLIENT}/`, '/nobody/'));
      assert.equal(adminError(res, 404, 'ClientNotFound').message, 'Unknown client nobody');
    }
  });

  it('the X-Request-Id header equals the body requestId', async () => {
    const res = await t.http.get(SETTINGS_PATH(CLIENT));
    assert.equal(res.headers['x-request-id'], res.body.requestId);
  });

  it('authorizationScope missing or other than profile_api: 400 on GET, POST and DELETE', async () => {
    for (const method of ['get', 'post', 'delete']) {
      for (const query of [
        '',
        '?authorizationScope=',
        '?authorizationScope=other',
        '?authorizationscope=profile_api',
      ]) {
        const res = await send(method, `/${CLIENT}/target/authentication/token${query}`).set(
          'Authorization',
          adminAuth('admin'),
        );
        assert.match(adminError(res, 400, 'InvalidRequest').message, /authorizationScope=profile_api/);
      }
    }
  });

  it('scope=profile_api, the older spelling, is accepted as authorizationScope on GET, POST and DELETE', async () => {
    const path = `/${CLIENT}/target/authentication/token?scope=profile_api`;
    const generated = await t.http.post(path).set('Authorization', adminAuth('admin'));
    assert.equal(generated.status, 201, generated.text);
    const read = await t.http.get(path).set('Authorization', adminAuth('admin'));
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body.accessToken, generated.body.accessToken);
    assert.equal((await t.http.delete(path).set('Authorization', adminAuth('admin'))).status, 204);
    for (const query of ['?scope=other', '?scope=', '?authorizationScope=profile_api&scope=debug_tools']) {
      const res = await t.http
        .get(`/${CLIENT}/target/authentication/token${query}`)
        .set('Authorization', adminAuth('admin'));
      assert.match(adminError(res, 400, 'InvalidRequest').message, /authorizationScope=profile_api/, query);
    }
  });

  it("bodies may be sent as any JSON media type: Adobe's application/vnd.adobe.target.v1+json, +json, parameters", async () => {
    for (const type of [
      'application/vnd.adobe.target.v1+json',
      'application/vnd.adobe.target.v1+json; charset=utf-8',
      'application/json; charset=utf-8',
      'Application/JSON',
      'application/merge-patch+json',
    ]) {
      const res = await post('{"expiresIn":600}', type);
      assert.equal(res.status, 201, `${type}: ${res.text}`);
      assert.ok(res.body.expiresIn === 600 || res.body.expiresIn === 599, `${type}: the body was read`);
    }
    for (const type of ['text/json', 'application/jsonp', 'application/vnd.adobe.target.v1+xml']) {
      adminError(await post('{"expiresIn":600}', type), 415, 'UnsupportedMediaType');
    }
    const put = await t.http
      .put(SETTINGS_PATH(CLIENT))
      .set('Authorization', adminAuth('admin'))
      .set('Content-Type', 'application/vnd.adobe.target.v1+json')
      .send('{"requireAuthentication":false}');
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.requireAuthentication, false);
  });

  const post = (body?: unknown, type?: string) => {
    const req = t.http.post(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('admin'));
    if (type) req.set('Content-Type', type);
    return body === undefined ? req : req.send(body as object);
  };

  it('POST expiresIn bounds: 299 → 400, 300 ok, 31536000 ok, 31536001 → 400', async () => {
    for (const [expiresIn, status] of [
      [299, 400],
      [300, 201],
      [31_536_000, 201],
      [31_536_001, 400],
      [0, 400],
      [-300, 400],
      [300.5, 400],
      ['300', 400],
      [null, 400],
    ] as const) {
      const res = await post({ expiresIn });
      if (status === 201) {
        assert.equal(res.status, 201);
        assert.ok(res.body.expiresIn === expiresIn || res.body.expiresIn === expiresIn - 1, String(res.body.expiresIn));
      } else {
        assert.match(adminError(res, 400).message, /expiresIn/, String(expiresIn));
      }
    }
  });

  it('POST grace bounds: 0 and 86400 ok, 86401 and -1 → 400', async () => {
    for (const [grace, status] of [
      [0, 201],
      [86_400, 201],
      [86_401, 400],
      [-1, 400],
      [1.5, 400],
    ] as const) {
      const res = await post({ previousTokenGraceSeconds: grace });
      if (status === 201) assert.equal(res.status, 201);
      else assert.match(adminError(res, 400).message, /previousTokenGraceSeconds/);
    }
  });

  it('POST refuses unknown fields, non-objects, non-JSON and invalid JSON', async () => {
    assert.match(adminError(await post({ expiresIn: 300, scope: 'x' }), 400).message, /Unknown field "scope"/);
    assert.match(adminError(await post({ __proto__: { a: 1 }, expires: 1 }), 400).message, /Unknown field/);
    adminError(await post([300], 'application/json'), 400);
    adminError(await post('300', 'application/json'), 400, 'InvalidJson');
    adminError(await post('null', 'application/json'), 400);
    adminError(await post('{"expiresIn":', 'application/json'), 400, 'InvalidJson');
    adminError(await post('expiresIn=300', 'application/x-www-form-urlencoded'), 415, 'UnsupportedMediaType');
    adminError(await post('{"expiresIn":300}', 'text/plain'), 415, 'UnsupportedMediaType');
    const invalid = await post('{"expiresIn": 3OO}', 'application/json');
    adminError(invalid, 400, 'InvalidJson');
    assert.ok(!invalid.text.includes('at '), 'no stack trace');
    // An empty body (or none) takes the defaults.
    assert.equal((await post(undefined, 'application/json')).status, 201);
    assert.equal((await post()).status, 201);
    assert.equal((await post({})).status, 201);
  });

  it('token body: bearer, profile_api, whole seconds left, ISO times, createdBy; GET shows the same token', async () => {
    const created = await post({});
    assert.equal(created.status, 201);
    assert.match(created.headers['content-type'], /^application\/json/);
    assert.equal(created.headers['cache-control'], 'no-store');
    const body = created.body;
    assert.deepEqual(Object.keys(body), [
      'accessToken',
      'tokenType',
      'scope',
      'expiresIn',
      'expiresAt',
      'createdAt',
      'createdBy',
    ]);
    assert.equal(body.tokenType, 'bearer');
    assert.equal(body.scope, 'profile_api');
    assert.ok(Number.isInteger(body.expiresIn));
    assert.ok(body.expiresIn === 7_776_000 || body.expiresIn === 7_775_999, String(body.expiresIn));
    assert.match(body.expiresAt, ISO);
    assert.match(body.createdAt, ISO);
    assert.equal(Date.parse(body.expiresAt) % 1000, 0);
    assert.ok(Math.abs(Date.parse(body.expiresAt) - Date.parse(body.createdAt) - 7_776_000_000) < 1000);
    assert.equal(body.createdBy, ACTOR_IDS.admin);
    const [header, payload] = (body.accessToken as string)
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    assert.equal(header.alg, 'HS256');
    assert.equal(header.kid, t.keys.active().kid);
    assert.equal(payload.iss, 'profilegate');
    assert.equal(payload.aud, 'profile_api');
    assert.equal(payload.sub, CLIENT);
    assert.equal(typeof payload.jti, 'string');
    assert.equal(payload.exp * 1000, Date.parse(body.expiresAt));

    const shown = await t.http.get(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('approver'));
    assert.equal(shown.status, 200);
    assert.equal(shown.body.accessToken, body.accessToken);
    assert.equal(shown.headers['cache-control'], 'no-store');
    assert.equal(shown.body.createdBy, ACTOR_IDS.admin);
    t.clock.advance(10_000);
    const later = await t.http.get(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('approver'));
    assert.equal(later.body.accessToken, body.accessToken);
    assert.ok(
      later.body.expiresIn <= body.expiresIn - 9 && later.body.expiresIn >= body.expiresIn - 11,
      String(later.body.expiresIn),
    );
  });

  it('GET 404 when there is no token: never generated, revoked, or expired', async () => {
    assert.equal(
      adminError(await t.http.get(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('admin')), 404).errorCode,
      'TokenNotFound',
    );
    await post({ expiresIn: 300 });
    assert.equal((await t.http.get(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('admin'))).status, 200);
    t.clock.advance(301_000);
    adminError(await t.http.get(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('admin')), 404);
    await post({});
    assert.equal((await t.http.delete(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('admin'))).status, 204);
    adminError(await t.http.get(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('admin')), 404);
    // DELETE without a token is still 204.
    assert.equal((await t.http.delete(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('admin'))).status, 204);
  });

  it('tokens are per client', async () => {
    const a = await generateToken(t, CLIENT);
    const b = await generateToken(t, OTHER_CLIENT);
    assert.notEqual(a, b);
    const shown = await t.http.get(TOKEN_PATH(OTHER_CLIENT)).set('Authorization', adminAuth('admin'));
    assert.equal(shown.body.accessToken, b);
    await t.http.delete(TOKEN_PATH(OTHER_CLIENT)).set('Authorization', adminAuth('admin'));
    assert.equal((await t.http.get(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('admin'))).body.accessToken, a);
  });
});

describe('settings (API.md 3.2)', () => {
  let t: TestApp;
  afterEach(async () => t.close());

  it('a new client starts with requireAuthentication true and no token', async () => {
    t = await startApp({ requireAuth: null });
    const res = await t.http.get(SETTINGS_PATH(CLIENT)).set('Authorization', adminAuth('observer'));
    assert.equal(res.status, 200);
    assert.equal(
      res.text,
      '{"requireAuthentication":true,"profileRetentionDays":null,"token":null,"replacedTokens":[]}',
    );
    // …so the profile routes are closed until an admin acts.
    const fetchRes = await t.http.get(`/rest/v1/profiles/x?client=${CLIENT}`);
    assert.equal(fetchRes.status, 401);
  });

  it('GET and PUT answer {requireAuthentication, token} with the token times and creator', async () => {
    t = await startApp({ requireAuth: null });
    const token = await t.http
      .post(TOKEN_PATH(CLIENT))
      .set('Authorization', adminAuth('publisher'))
      .send({ expiresIn: 3600 });
    const put = await t.http
      .put(SETTINGS_PATH(CLIENT))
      .set('Authorization', adminAuth('admin'))
      .send({ requireAuthentication: false });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, {
      requireAuthentication: false,
      profileRetentionDays: null,
      token: { createdAt: token.body.createdAt, expiresAt: token.body.expiresAt, createdBy: ACTOR_IDS.publisher },
      replacedTokens: [],
    });
    assert.deepEqual(Object.keys(put.body), [
      'requireAuthentication',
      'profileRetentionDays',
      'token',
      'replacedTokens',
    ]);
    const get = await t.http.get(SETTINGS_PATH(CLIENT)).set('Authorization', adminAuth('editor'));
    assert.deepEqual(get.body, put.body);
    assert.ok(!get.text.includes(token.body.accessToken));
    // The change takes effect at once: the profile routes are open.
    assert.equal((await t.http.get(`/rest/v1/profiles/x?client=${CLIENT}`)).status, 404);
    const on = await t.http
      .put(SETTINGS_PATH(CLIENT))
      .set('Authorization', adminAuth('sysadmin'))
      .send({ requireAuthentication: true });
    assert.equal(on.body.requireAuthentication, true);
    assert.equal((await t.http.get(`/rest/v1/profiles/x?client=${CLIENT}`)).status, 401);
    // An expired token shows as null.
    t.clock.advance(3601_000);
    assert.equal((await t.http.get(SETTINGS_PATH(CLIENT)).set('Authorization', adminAuth('admin'))).body.token, null);
  });

  it('PUT with anything but requireAuthentication and/or profileRetentionDays is 400 (415 when not JSON)', async () => {
    t = await startApp({ requireAuth: null });
    const put = () => t.http.put(SETTINGS_PATH(CLIENT)).set('Authorization', adminAuth('admin'));
    for (const body of [
      {},
      { requireAuthentication: 'false' },
      { requireAuthentication: 0 },
      { requireAuthentication: true, extra: 1 },
      { RequireAuthentication: true },
      { profileRetentionDays: 30, extra: 1 },
      [true],
    ]) {
      assert.match(
        adminError(await put().send(body as object), 400).message,
        /requireAuthentication/,
        JSON.stringify(body),
      );
    }
    adminError(await put(), 400);
    adminError(await put().set('Content-Type', 'application/json').send('true'), 400);
    adminError(
      await put().set('Content-Type', 'application/json').send('{"requireAuthentication":tru}'),
      400,
      'InvalidJson',
    );
    adminError(await put().set('Content-Type', 'text/plain').send('requireAuthentication=false'), 415);
    assert.equal(
      (await t.http.get(SETTINGS_PATH(CLIENT)).set('Authorization', adminAuth('admin'))).body.requireAuthentication,
      true,
    );
  });

  it('profileRetentionDays: null or 1..3650, alone or with requireAuthentication; anything else 400 (issue 19)', async () => {
    t = await startApp({ requireAuth: null });
    const put = (body: object) => t.http.put(SETTINGS_PATH(CLIENT)).set('Authorization', adminAuth('admin')).send(body);
    for (const days of [0, 3651, 1.5, -1, '30', true, {}, [30], 1e21]) {
      const error = adminError(await put({ profileRetentionDays: days }), 400, 'InvalidRequest');
      assert.equal(
        error.message,
        'profileRetentionDays must be null (keep profiles forever) or a whole number of days from 1 to 3650',
        JSON.stringify(days),
      );
    }
    adminError(await put({ requireAuthentication: false, profileRetentionDays: 0 }), 400);
    const get = async () => (await t.http.get(SETTINGS_PATH(CLIENT)).set('Authorization', adminAuth('observer'))).body;
    assert.equal((await get()).profileRetentionDays, null, 'nothing changed by a refused PUT');
    assert.equal((await get()).requireAuthentication, true);

    const set30 = await put({ profileRetentionDays: 30 });
    assert.equal(set30.status, 200);
    assert.equal(set30.body.profileRetentionDays, 30);
    assert.equal(set30.body.requireAuthentication, true, 'the other field is kept');
    const both = await put({ requireAuthentication: false, profileRetentionDays: 3650 });
    assert.deepEqual([both.body.requireAuthentication, both.body.profileRetentionDays], [false, 3650]);
    const one = await put({ requireAuthentication: true });
    assert.deepEqual([one.body.requireAuthentication, one.body.profileRetentionDays], [true, 3650]);
    const forever = await put({ profileRetentionDays: null });
    assert.equal(forever.body.profileRetentionDays, null);
    assert.equal((await put({ profileRetentionDays: 1 })).body.profileRetentionDays, 1);
    assert.deepEqual(await get(), { ...(await get()), requireAuthentication: true, profileRetentionDays: 1 });

    const audit = await t.http.get(AUDIT_PATH(CLIENT)).set('Authorization', adminAuth('admin'));
    const changes = (audit.body.events as Array<{ action: string; actor: string; details: unknown }>)
      .filter((e) => e.action === 'settings.changed')
      .map((e) => [e.actor, e.details]);
    assert.deepEqual(changes, [
      [ACTOR_IDS.admin, { profileRetentionDays: { from: null, to: 1 } }],
      [ACTOR_IDS.admin, { profileRetentionDays: { from: 3650, to: null } }],
      [ACTOR_IDS.admin, { requireAuthentication: { from: false, to: true } }],
      [
        ACTOR_IDS.admin,
        { requireAuthentication: { from: true, to: false }, profileRetentionDays: { from: 30, to: 3650 } },
      ],
      [ACTOR_IDS.admin, { profileRetentionDays: { from: null, to: 30 } }],
    ]);
  });

  it('changing the retention needs the same roles as Require Authentication (issue 19)', async () => {
    t = await startApp({ requireAuth: null });
    for (const who of Object.keys(TABLE) as AdminWho[]) {
      const res = await t.http
        .put(SETTINGS_PATH(CLIENT))
        .set('Authorization', adminAuth(who))
        .send({ profileRetentionDays: 7 });
      if (TABLE[who].settingsWrite) assert.equal(res.status, 200, who);
      else assert.equal(adminError(res, 403, 'Forbidden').message, SETTINGS_DENIAL);
    }
  });
});

describe('audit (API.md 3.3)', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp();
  });
  after(async () => t.close());

  it('lists events newest first, honours limit, and never holds a token', async () => {
    const tokens: string[] = [];
    tokens.push(await generateToken(t));
    t.clock.advance(1000);
    await t.http
      .put(SETTINGS_PATH(CLIENT))
      .set('Authorization', adminAuth('sysadmin'))
      .send({ requireAuthentication: true });
    t.clock.advance(1000);
    tokens.push(await generateToken(t, CLIENT, { previousTokenGraceSeconds: 60 }));
    t.clock.advance(1000);
    await t.http.delete(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('approver'));
    t.clock.advance(1000);
    await callRoute(t, PROFILE_ROUTES[6]!, CLIENT, { Authorization: `Bearer ${tokens[0]}` });

    const res = await t.http.get(AUDIT_PATH(CLIENT)).set('Authorization', adminAuth('observer'));
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body), ['events']);
    const events = res.body.events as Array<{
      at: string;
      actor: string;
      action: string;
      details: Record<string, unknown>;
    }>;
    assert.deepEqual(
      events.map((e) => [e.action, e.actor]),
      [
        ['auth.denied', 'anonymous'],
        ['token.revoked', ACTOR_IDS.approver],
        ['token.generated', ACTOR_IDS.admin],
        ['settings.changed', ACTOR_IDS.sysadmin],
        ['token.generated', ACTOR_IDS.admin],
      ],
    );
    for (const event of events) {
      assert.deepEqual(Object.keys(event), ['at', 'actor', 'action', 'details']);
      assert.match(event.at, ISO);
    }
    for (let i = 1; i < events.length; i++) assert.ok(events[i - 1]!.at >= events[i]!.at);
    assert.deepEqual(events[3]!.details, { requireAuthentication: { from: false, to: true } });
    assert.equal(events[2]!.details['graceSeconds'], 60);
    for (const token of tokens) {
      assert.ok(!res.text.includes(token));
      for (const part of token.split('.')) assert.ok(!res.text.includes(part), 'no part of a token');
    }

    const limited = await t.http.get(`${AUDIT_PATH(CLIENT)}?limit=2`).set('Authorization', adminAuth('editor'));
    assert.deepEqual(
      limited.body.events.map((e: { action: string }) => e.action),
      ['auth.denied', 'token.revoked'],
    );
    for (const bad of ['0', '-1', '1001', 'abc', '1.5', '']) {
      adminError(await t.http.get(`${AUDIT_PATH(CLIENT)}?limit=${bad}`).set('Authorization', adminAuth('admin')), 400);
    }
    assert.equal(
      (await t.http.get(`${AUDIT_PATH(CLIENT)}?limit=1000`).set('Authorization', adminAuth('admin'))).status,
      200,
    );
    // Per client.
    const other = await t.http.get(AUDIT_PATH(OTHER_CLIENT)).set('Authorization', adminAuth('admin'));
    assert.deepEqual(other.body, { events: [] });
  });
});

describe('token state and its audit (issue 14)', () => {
  let t: TestApp;
  afterEach(() => t.close());

  it('takes every state change from an actor whose id looks like a JWT, audits it scrubbed, never 500', async () => {
    const id = 'aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb.cccccccccccccccc';
    t = await startApp({ authenticateAdmin: () => ({ id, role: 'admin' }) });
    const auth = 'Bearer anything';
    const generated = await t.http.post(TOKEN_PATH(CLIENT)).set('Authorization', auth);
    assert.equal(generated.status, 201, generated.text);
    assert.match(generated.body.accessToken as string, /^eyJ/);
    assert.equal(generated.body.createdBy, id);
    const settings = await t.http
      .put(SETTINGS_PATH(CLIENT))
      .set('Authorization', auth)
      .send({ requireAuthentication: true });
    assert.equal(settings.status, 200, settings.text);
    const revoked = await t.http.delete(TOKEN_PATH(CLIENT)).set('Authorization', auth);
    assert.equal(revoked.status, 204, revoked.text);
    const audit = await t.http.get(AUDIT_PATH(CLIENT)).set('Authorization', auth);
    assert.deepEqual(
      (audit.body.events as Array<{ action: string }>).map((e) => e.action),
      ['token.revoked', 'settings.changed', 'token.generated'],
    );
    assert.ok(!audit.text.includes('bbbbbbbbbbbbbbbb'), audit.text);
    assert.deepEqual(t.errors, []);
  });

  it('lists the replaced tokens still working, masked with their end, in GET settings and GET token', async () => {
    t = await startApp();
    const auth = adminAuth('admin');
    const first = await generateToken(t);
    const second = await generateToken(t, CLIENT, { previousTokenGraceSeconds: 3600 });
    await generateToken(t, CLIENT, { previousTokenGraceSeconds: 600 });
    const now = t.clock();
    for (const path of [SETTINGS_PATH(CLIENT), TOKEN_PATH(CLIENT)]) {
      const res = await t.http.get(path).set('Authorization', auth);
      assert.equal(res.status, 200, res.text);
      const replaced = res.body.replacedTokens as Array<{ token: string; worksUntil: string }>;
      assert.equal(replaced.length, 1, res.text);
      assert.equal(replaced[0]!.token, `${second.slice(0, 6)}…${second.slice(-4)}`);
      const until = Date.parse(replaced[0]!.worksUntil);
      assert.ok(until > now + 590_000 && until <= now + 600_000, replaced[0]!.worksUntil);
      assert.ok(!res.text.includes(second.split('.')[2]!), 'a replaced token is shown in full');
      assert.ok(!res.text.includes(first.split('.')[2]!));
    }
    await generateToken(t);
    const after = await t.http.get(SETTINGS_PATH(CLIENT)).set('Authorization', auth);
    assert.deepEqual(after.body.replacedTokens, []);
  });
});
