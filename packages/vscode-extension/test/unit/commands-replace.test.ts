import assert from 'node:assert/strict';
import { AdminApiError, ServerUnreachableError } from '@profilegate/client';
import { COMMANDS } from '../../src/commands';
import { fakeToken } from '../fixtures/jwt';
import { ADMIN_KEY, Harness, KEYS, NOW, SERVER, outcome, tokenInfo } from './command-harness';

describe('Replace Old Tokens in Workspace (with fakes)', () => {
  // `current` has the times of tokenInfo(): issued at NOW, expiring 90 days later.
  const stale = fakeToken({ iat: NOW / 1000 - 1000 });
  const current = fakeToken({ iat: NOW / 1000 });
  const settingsOf = (token: { createdAt: string; expiresAt: string } | null) => ({
    requireAuthentication: true,
    token: token === null ? null : { ...token, createdBy: 'ops' },
  });
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
    h.replace.resolves(outcome({ copies: 4, changed: [{ uri: 'file:///w/.env', label: '.env', copies: 4 }] }));
  });

  it('after a rotation elsewhere, stores the server’s token and puts it in every copy, without the preview', async () => {
    h.secrets.set(KEYS.adminKey, ADMIN_KEY);
    h.secrets.set(KEYS.token, stale);
    h.raw = { ...h.raw, previewChanges: true };
    h.api.getToken.resolves(tokenInfo(current));
    const ui = h.script([]);
    const result = await h.run(COMMANDS.replaceOldTokens);
    assert.equal(result.outcome, 'done', result.message);
    assert.equal(result.message, 'Stored the server’s current token (expires in 90 days). Updated 4 copies in 1 file.');
    assert.equal(ui.last()?.level, 'info');
    assert.equal(h.secrets.get(KEYS.token), current);
    const request = h.replace.firstCall.args[0];
    assert.deepEqual(request.knownOldTokens, [stale]);
    assert.equal(request.newToken, current);
    assert.equal(request.preview, false, 'finishing never waits in the preview');
    assert.deepEqual(ui.secretRequests, [], 'asks for nothing');
    assert.deepEqual(ui.confirmRequests, []);
    h.assertNothingLeaked([stale, current, ADMIN_KEY]);
  });

  it('after a rotation here whose copies were left, puts the stored (current) token in', async () => {
    h.secrets.set(KEYS.adminKey, ADMIN_KEY);
    h.secrets.set(KEYS.token, current);
    h.api.getToken.resolves(tokenInfo(current));
    h.script([]);
    const result = await h.run(COMMANDS.replaceOldTokens);
    assert.equal(
      result.message,
      'Put the stored token in the workspace (expires in 90 days). Updated 4 copies in 1 file.',
    );
    assert.deepEqual(h.replace.firstCall.args[0].knownOldTokens, []);
  });

  it('without an admin key, puts the stored token in', async () => {
    h.secrets.set(KEYS.token, current);
    h.script([]);
    const result = await h.run(COMMANDS.replaceOldTokens);
    assert.equal(result.outcome, 'done');
    assert.equal(h.createApi.called, false);
    assert.equal(h.replace.firstCall.args[0].newToken, current);
  });

  it('with a key that may only read the settings: the stored token when it is the server’s, else asks to paste', async () => {
    h.secrets.set(KEYS.adminKey, ADMIN_KEY);
    h.secrets.set(KEYS.token, current);
    h.api.getToken.rejects(new AdminApiError(403, 'Forbidden', 'no'));
    h.api.getSettings.resolves(settingsOf(tokenInfo(current)));
    h.script([]);
    assert.equal((await h.run(COMMANDS.replaceOldTokens)).outcome, 'done');
    assert.equal(h.replace.firstCall.args[0].newToken, current);

    h.secrets.set(KEYS.token, stale);
    h.replace.resetHistory();
    const ui = h.script([]);
    const result = await h.run(COMMANDS.replaceOldTokens);
    assert.equal(result.outcome, 'failed');
    assert.match(
      result.message ?? '',
      /regenerated on the server, and this admin key may not read the new one: paste it/,
    );
    assert.match(result.message ?? '', /No file was changed\.$/);
    assert.equal(h.replace.called, false);
    await ui.last()?.actions[0]?.run();
    assert.deepEqual(h.executed, [COMMANDS.updateStoredToken]);
  });

  it('refuses when the server has no token, when nothing is known, or when the server cannot be reached', async () => {
    h.secrets.set(KEYS.adminKey, ADMIN_KEY);
    h.secrets.set(KEYS.token, stale);
    h.api.getToken.resolves(null);
    let ui = h.script([]);
    let result = await h.run(COMMANDS.replaceOldTokens);
    assert.match(
      result.message ?? '',
      /^client demo on http:\/\/127\.0\.0\.1:8080 has no profile token \(it was revoked\)/,
    );
    assert.deepEqual(
      ui.last()?.actions.map((a) => a.title),
      ['Generate New Token'],
    );

    h.api.getToken.rejects(new ServerUnreachableError(SERVER, 'connection refused'));
    ui = h.script([]);
    result = await h.run(COMMANDS.replaceOldTokens);
    assert.match(result.message ?? '', /^Cannot reach the Profilegate server/);

    h.secrets.clear();
    ui = h.script([]);
    result = await h.run(COMMANDS.replaceOldTokens);
    assert.match(result.message ?? '', /^No profile token is stored for client demo/);
    assert.equal(h.replace.called, false);
    assert.equal(h.secrets.size, 0);
  });

  it('warns again, with the same button, when copies are still left', async () => {
    h.secrets.set(KEYS.token, current);
    h.replace.resolves(outcome({ copies: 1, notApplied: 2, changed: [{ uri: 'u', label: 'a', copies: 1 }] }));
    const ui = h.script([]);
    await h.run(COMMANDS.replaceOldTokens);
    assert.equal(ui.last()?.level, 'warning');
    assert.deepEqual(
      ui.last()?.actions.map((a) => a.title),
      ['Replace Old Tokens', 'Open Files'],
    );
  });
});
