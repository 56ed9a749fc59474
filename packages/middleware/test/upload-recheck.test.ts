/**
 * API.md 3.1: the token is checked again once a batch body has been received. An upload that
 * started with a good token and whose token is revoked or replaced while the body is still
 * arriving gets 401, and nothing of it is stored.
 */
import { strict as assert } from 'node:assert';
import { MemoryStore, type Store } from '@profilegate/core';
import {
  AUDIT_PATH,
  CLIENT,
  TOKEN_PATH,
  adminAuth,
  fetchProfile,
  generateToken,
  setRequireAuth,
  startApp,
  valuesOf,
  waitForBatch,
  type TestApp,
} from './helpers';
import { observeStore, startUpload, type ObservedStore, type Upload } from './streaming';

const V2 = `/m2/${CLIENT}/v2/profile/batchUpdate`;
const V1 = `/m2/${CLIENT}/profile/batchUpdate`;
const REVOKED = 'Bearer realm="profile-api", error="invalid_token", error_description="The token has been revoked"';
const BOUNDARY = 'recheck-boundary';

/** A batch body of each form, cut in two: what is sent before the token changes, and the rest. */
const BODIES: Array<{ label: string; type: string; first: string; rest: string }> = [
  {
    label: 'form',
    type: 'application/x-www-form-urlencoded',
    first: 'batch=thirdPartyId,tier\nrecheck-u1,go',
    rest: 'ld\nrecheck-u2,silver\n',
  },
  { label: 'csv', type: 'text/csv', first: 'thirdPartyId,tier\nrecheck-u1,go', rest: 'ld\nrecheck-u2,silver\n' },
  {
    label: 'json',
    type: 'application/json',
    first: '{"profiles":[{"thirdPartyId":"recheck-u1","attributes":{"tier":"go',
    rest: 'ld"}},{"thirdPartyId":"recheck-u2","attributes":{"tier":"silver"}}]}',
  },
  {
    label: 'multipart',
    type: `multipart/form-data; boundary=${BOUNDARY}`,
    first: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="batch"; filename="b.csv"\r\nContent-Type: text/csv\r\n\r\nthirdPartyId,tier\nrecheck-u1,go`,
    rest: `ld\nrecheck-u2,silver\n\r\n--${BOUNDARY}--\r\n`,
  },
];

describe('the token is checked again when a batch body has been received (API.md 3.1)', () => {
  let t: TestApp;
  let observed: ObservedStore;
  let second: TestApp | undefined;

  async function start(options: { quiet?: boolean; cacheMs?: number; store?: Store } = {}): Promise<void> {
    observed = observeStore(options.store ?? new MemoryStore(), { quiet: options.quiet });
    t = await startApp({ store: observed.store, requireAuth: true, cacheMs: options.cacheMs });
  }
  afterEach(async () => {
    await t?.close();
    await second?.close();
    second = undefined;
  });

  /** Starts an upload with `token`, and resolves once the gate has let it through. */
  async function uploadPastTheGate(
    body: (typeof BODIES)[number],
    token: string | null,
    path = V2,
    gateRead = 'getTokenState',
  ): Promise<Upload> {
    const upload = startUpload(t.origin, {
      path,
      headers: {
        'Content-Type': body.type,
        Accept: 'application/json',
        ...(token !== null ? { Authorization: `Bearer ${token}` } : {}),
      },
      first: body.first,
    });
    // The gate reads the token state (or the setting) when the request starts; once that read has
    // settled and its continuations have run, the request is past the gate and reading its body.
    await observed.settled(gateRead);
    return upload;
  }

  async function revoke(app: TestApp): Promise<void> {
    const res = await app.http.delete(TOKEN_PATH(CLIENT)).set('Authorization', adminAuth('admin'));
    assert.equal(res.status, 204, res.text);
  }

  /** No batch recorded, and neither profile of the body found (fetched with a new token). */
  async function assertNothingStored(): Promise<void> {
    assert.equal(observed.count('createBatch'), 0, 'no batch may be recorded');
    const token = await generateToken(t);
    for (const id of ['recheck-u1', 'recheck-u2']) {
      const res = await fetchProfile(t, { thirdPartyId: id }, { token });
      assert.equal(res.status, 404, `${id}: ${res.text}`);
    }
  }

  function assertRevoked(answer: { status: number; headers: Record<string, unknown>; text: string }): void {
    assert.equal(answer.status, 401, answer.text);
    assert.equal(answer.headers['www-authenticate'], REVOKED);
    assert.deepEqual(JSON.parse(answer.text), { success: false, message: 'The token has been revoked' });
  }

  for (const body of BODIES) {
    it(`${body.label}: a token revoked while the body streams gets 401, and nothing is stored`, async () => {
      await start();
      const token = await generateToken(t);
      const upload = await uploadPastTheGate(body, token);
      await revoke(t);
      upload.end(body.rest);
      assertRevoked(await upload.answer);
      await assertNothingStored();
    });
  }

  it('v1: a token revoked while the body streams gets 401 (XML by default), and nothing is stored', async () => {
    await start();
    const token = await generateToken(t);
    const upload = startUpload(t.origin, {
      path: V1,
      headers: { 'Content-Type': BODIES[0]!.type, Authorization: `Bearer ${token}` },
      first: BODIES[0]!.first,
    });
    await observed.settled('getTokenState');
    await revoke(t);
    upload.end(BODIES[0]!.rest);
    const answer = await upload.answer;
    assert.equal(answer.status, 401, answer.text);
    assert.equal(answer.headers['www-authenticate'], REVOKED);
    assert.equal(
      answer.text,
      '<response><success>false</success><message>The token has been revoked</message></response>',
    );
    assert.equal(observed.count('createBatch'), 0);
  });

  it('a token replaced by a regeneration (no grace) while the body streams gets 401, and nothing is stored', async () => {
    await start();
    const token = await generateToken(t);
    const upload = await uploadPastTheGate(BODIES[0]!, token);
    await generateToken(t);
    upload.end(BODIES[0]!.rest);
    assertRevoked(await upload.answer);
    await assertNothingStored();
  });

  it('a token replaced with a grace period still in force is accepted, and the batch is stored', async () => {
    await start();
    const token = await generateToken(t);
    const upload = await uploadPastTheGate(BODIES[0]!, token);
    const next = await generateToken(t, CLIENT, { previousTokenGraceSeconds: 3600 });
    upload.end(BODIES[0]!.rest);
    const answer = await upload.answer;
    assert.equal(answer.status, 200, answer.text);
    const status = await waitForBatch(JSON.parse(answer.text).batchStatus as string, { token: next });
    assert.equal(status['status'], 'complete');
    const res = await fetchProfile(t, { thirdPartyId: 'recheck-u1' }, { token: next });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(valuesOf(res.body), { tier: 'gold' });
  });

  it('counts the refusal in the audit log as a denial, like the gate does', async () => {
    await start();
    const token = await generateToken(t);
    const upload = await uploadPastTheGate(BODIES[0]!, token);
    await revoke(t);
    upload.end(BODIES[0]!.rest);
    assert.equal((await upload.answer).status, 401);
    const res = await t.http.get(AUDIT_PATH(CLIENT)).set('Authorization', adminAuth('admin'));
    assert.equal(res.status, 200, res.text);
    const denials = (res.body.events as Array<{ action: string; details: { reasons: Record<string, number> } }>).filter(
      (e) => e.action === 'auth.denied',
    );
    assert.equal(denials.length, 1, JSON.stringify(res.body.events));
    assert.deepEqual(denials[0]!.details.reasons, { revoked: 1 });
  });

  it('reads the store, not a cached token state: a revocation on another instance whose notice never arrived', async () => {
    // This instance caches token state for a minute and never hears of changes; the revocation is
    // made through a second instance sharing the store, as with two servers on one PostgreSQL.
    const shared = new MemoryStore();
    await start({ store: shared, quiet: true, cacheMs: 60_000 });
    second = await startApp({ store: shared, signingKeys: t.keys, requireAuth: true });
    const token = await generateToken(second);
    const upload = await uploadPastTheGate(BODIES[0]!, token);
    await revoke(second);
    upload.end(BODIES[0]!.rest);
    assertRevoked(await upload.answer);
    assert.equal(observed.count('createBatch'), 0);
    assert.equal(await shared.getProfile(CLIENT, { kind: 'thirdPartyId', id: 'recheck-u1' }), null);
  });

  it('Require Authentication switched on while a tokenless upload streams: 401 (no token), nothing stored', async () => {
    await start();
    await setRequireAuth(t, false);
    const upload = await uploadPastTheGate(BODIES[0]!, null, V2, 'getSettings');
    await setRequireAuth(t, true);
    upload.end(BODIES[0]!.rest);
    const answer = await upload.answer;
    assert.equal(answer.status, 401, answer.text);
    assert.equal(answer.headers['www-authenticate'], 'Bearer realm="profile-api"');
    assert.equal(JSON.parse(answer.text).success, false);
    await assertNothingStored();
  });

  it('Require Authentication switched off while an upload streams: accepted, even though the token was revoked too', async () => {
    await start();
    const token = await generateToken(t);
    const upload = await uploadPastTheGate(BODIES[0]!, token);
    await setRequireAuth(t, false);
    await revoke(t);
    upload.end(BODIES[0]!.rest);
    const answer = await upload.answer;
    assert.equal(answer.status, 200, answer.text);
    await waitForBatch(JSON.parse(answer.text).batchStatus as string);
    const res = await fetchProfile(t, { thirdPartyId: 'recheck-u2' });
    assert.deepEqual(valuesOf(res.body), { tier: 'silver' });
  });

  it('an upload whose token stays valid is accepted (fresh reads of the store before and after recording it)', async () => {
    await start({ cacheMs: 60_000 });
    const token = await generateToken(t);
    const upload = await uploadPastTheGate(BODIES[0]!, token);
    upload.end(BODIES[0]!.rest);
    const answer = await upload.answer;
    assert.equal(answer.status, 200, answer.text);
    // The gate's read, cached for a minute, and the re-check's own reads of the store: before the
    // batch is recorded and after (recording may wait behind another batch's merge).
    assert.equal(observed.count('getTokenState'), 3);
  });
});
