import assert from 'node:assert/strict';
import { AdminApiError, type AuthenticationSettings } from '@profilegate/client';
import { COMMANDS } from '../../src/commands';
import { fakeToken } from '../fixtures/jwt';
import { ADMIN_KEY, Harness, KEYS, NOW, outcome } from './command-harness';

describe('the other commands (with fakes)', () => {
  const oldToken = fakeToken({ iat: NOW / 1000 - 1000 });
  const newToken = fakeToken({ iat: NOW / 1000 });
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });

  describe('Update Stored Token…', () => {
    it('checks, stores and replaces the previously stored token in the workspace', async () => {
      h.secrets.set(KEYS.token, oldToken);
      h.replace.resolves(outcome({ copies: 4, changed: [{ uri: 'file:///w/.env', label: '.env', copies: 4 }] }));
      const ui = h.script([`  ${newToken}  `]);
      const result = await h.run(COMMANDS.updateStoredToken);
      assert.equal(result.outcome, 'done');
      assert.equal(result.message, 'Stored the new token (expires in 90 days). Updated 4 copies in 1 file.');
      assert.equal(h.secrets.get(KEYS.token), newToken);
      assert.deepEqual(h.replace.firstCall.args[0].knownOldTokens, [oldToken]);
      assert.equal(h.replace.firstCall.args[0].newToken, newToken);
      assert.equal(h.createApi.called, false, 'no server call is needed');
      h.assertNothingLeaked([oldToken, newToken]);
      assert.deepEqual(ui.validationMessages, []);
    });

    const refused: Array<[string, () => string, RegExp]> = [
      ['a token of another client', () => fakeToken({ sub: 'other' }), /belongs to client "other", not "demo"/],
      ['an expired token', () => fakeToken({ exp: NOW / 1000 - 60 }), /expired on 2026-11-22/],
      ['garbage', () => 'not-a-token-at-all', /not a JWT/],
    ];
    for (const [name, pasted, reason] of refused) {
      it(`refuses ${name}: nothing stored, no file changed, the box said why`, async () => {
        h.secrets.set(KEYS.token, oldToken);
        const value = pasted();
        const ui = h.script([value]);
        const result = await h.run(COMMANDS.updateStoredToken);
        assert.equal(result.outcome, 'failed');
        assert.match(result.message ?? '', /^The pasted token was not stored: /);
        assert.match(result.message ?? '', reason);
        assert.match(result.message ?? '', /No file was changed\.$/);
        assert.match(ui.validationMessages[0] ?? '', reason);
        assert.equal(h.secrets.get(KEYS.token), oldToken);
        assert.equal(h.replace.called, false);
        h.assertNothingLeaked([value, oldToken]);
      });
    }

    it('an empty box re-applies the stored token (to finish a rotation whose file step failed)', async () => {
      h.secrets.set(KEYS.token, newToken);
      h.replace.resolves(outcome({ copies: 2, changed: [{ uri: 'u', label: 'a', copies: 2 }] }));
      const ui = h.script(['']);
      const result = await h.run(COMMANDS.updateStoredToken);
      assert.match(ui.secretRequests[0]?.prompt ?? '', /leave it empty to apply the stored token eyJ\S*…\S{4}/);
      assert.equal(result.message, 'Applied the stored token (expires in 90 days). Updated 2 copies in 1 file.');
      assert.deepEqual(h.replace.firstCall.args[0].knownOldTokens, []);
      assert.equal(h.replace.firstCall.args[0].newToken, newToken);
    });

    it('an empty box with nothing stored is refused', async () => {
      h.script(['']);
      const result = await h.run(COMMANDS.updateStoredToken);
      assert.match(result.message ?? '', /Paste the profile token/);
      assert.equal(h.replace.called, false);
    });
  });

  describe('Toggle, Revoke, Show Token Status', () => {
    const settings = (on: boolean): AuthenticationSettings => ({
      requireAuthentication: on,
      token: { createdAt: '2026-11-22T09:00:00.000Z', expiresAt: '2027-02-20T09:00:00.000Z', createdBy: 'ops' },
    });

    it('toggle says what the new state means before switching it off, then reports it', async () => {
      h.api.getSettings.resolves(settings(true));
      h.api.setRequireAuthentication.resolves(settings(false));
      const ui = h.script([ADMIN_KEY], [true]);
      const result = await h.run(COMMANDS.toggleAuthentication);
      assert.equal(ui.confirmRequests[0]?.confirmTitle, 'Turn Off');
      assert.match(ui.confirmRequests[0]?.detail ?? '', /open to anyone who can reach the server/);
      assert.deepEqual(h.api.setRequireAuthentication.firstCall.args, [false]);
      assert.match(result.message ?? '', /^Require Authentication is now OFF for client demo/);
      assert.equal(h.secrets.get(KEYS.adminKey), ADMIN_KEY);
    });

    it('toggle on explains the 401s; cancelling changes nothing', async () => {
      h.api.getSettings.resolves(settings(false));
      const ui = h.script([ADMIN_KEY], [false]);
      const result = await h.run(COMMANDS.toggleAuthentication);
      assert.equal(result.outcome, 'cancelled');
      assert.equal(ui.confirmRequests[0]?.confirmTitle, 'Turn On');
      assert.match(ui.confirmRequests[0]?.detail ?? '', /Requests without the current token get 401/);
      assert.equal(h.api.setRequireAuthentication.called, false);
    });

    it('toggle with a role that may not names who may', async () => {
      h.api.getSettings.resolves(settings(true));
      h.api.setRequireAuthentication.rejects(new AdminApiError(403, 'Forbidden', 'no'));
      h.script([ADMIN_KEY], [true]);
      const result = await h.run(COMMANDS.toggleAuthentication);
      assert.match(result.message ?? '', /may not change Require Authentication .*only the admin role/);
      assert.equal(h.secrets.size, 0);
    });

    it('revoke confirms in a modal, revokes, and forgets the stored token', async () => {
      h.secrets.set(KEYS.adminKey, ADMIN_KEY);
      h.secrets.set(KEYS.token, oldToken);
      const ui = h.script([], [true]);
      const result = await h.run(COMMANDS.revokeToken);
      assert.equal(ui.confirmRequests[0]?.confirmTitle, 'Revoke Token');
      assert.equal(h.api.revokeToken.callCount, 1);
      assert.equal(h.secrets.has(KEYS.token), false);
      assert.match(result.message ?? '', /^Revoked the profile token of client demo on http:\/\/127\.0\.0\.1:8080\./);
    });

    it('revoke cancelled in the modal revokes nothing', async () => {
      h.secrets.set(KEYS.token, oldToken);
      h.script([ADMIN_KEY], [false]);
      assert.equal((await h.run(COMMANDS.revokeToken)).outcome, 'cancelled');
      assert.equal(h.api.revokeToken.called, false);
      assert.equal(h.secrets.get(KEYS.token), oldToken);
    });

    it('show status gives expiry, creator and auth state', async () => {
      h.api.getSettings.resolves(settings(true));
      h.script([ADMIN_KEY]);
      const result = await h.run(COMMANDS.showTokenStatus);
      assert.match(
        result.message ?? '',
        /expires in 90 days \(2027-02-20\); generated by ops on 2026-11-22\. Require Authentication is on/,
      );
    });
  });

  describe('Set Admin Key…, Forget Admin Key', () => {
    it('stores a key the server accepts', async () => {
      h.api.getSettings.resolves({ requireAuthentication: true, token: null });
      h.script([` ${ADMIN_KEY} `]);
      const result = await h.run(COMMANDS.setAdminKey);
      assert.equal(h.secrets.get(KEYS.adminKey), ADMIN_KEY);
      assert.match(result.message ?? '', /^Admin key saved in VS Code's secret storage for client demo on/);
      h.assertNothingLeaked([ADMIN_KEY]);
    });

    it('does not store a key the server refuses, and keeps the old one', async () => {
      h.secrets.set(KEYS.adminKey, 'the-previous-key-0123456789');
      h.api.getSettings.rejects(new AdminApiError(401, 'Unauthorized', 'Sign in'));
      h.script(['wrong-key-0123456789']);
      const result = await h.run(COMMANDS.setAdminKey);
      assert.match(result.message ?? '', /^The admin key was refused by/);
      assert.equal(h.secrets.get(KEYS.adminKey), 'the-previous-key-0123456789');
    });

    it('forgets the key, and says so when there was none', async () => {
      h.secrets.set(KEYS.adminKey, ADMIN_KEY);
      h.script([]);
      assert.match((await h.run(COMMANDS.forgetAdminKey)).message ?? '', /^Forgot the admin key for client demo/);
      assert.equal(h.secrets.has(KEYS.adminKey), false);
      assert.match((await h.run(COMMANDS.forgetAdminKey)).message ?? '', /^No admin key was stored/);
    });
  });
});
