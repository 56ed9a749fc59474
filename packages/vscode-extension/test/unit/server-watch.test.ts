import assert from 'node:assert/strict';
import { AdminApiError, ServerUnreachableError } from '@profilegate/client';
import { COMMANDS } from '../../src/commands';
import { ServerTokenWatch } from '../../src/commands/server-watch';
import { readSettings } from '../../src/logic/settings';
import { fakeToken } from '../fixtures/jwt';
import { ADMIN_KEY, Harness, KEYS, NOW, SERVER, tokenInfo } from './command-harness';

describe('server watch (noticing a rotation done elsewhere)', () => {
  const stored = fakeToken({ iat: NOW / 1000 - 1000 });
  const rotated = fakeToken({ iat: NOW / 1000 });
  let h: Harness;
  let busy: boolean;
  let watch: ServerTokenWatch;
  beforeEach(() => {
    h = new Harness();
    busy = false;
    const s = h.services();
    watch = new ServerTokenWatch({
      settings: () => readSettings(h.raw),
      secrets: s.secrets,
      createApi: s.createApi,
      busy: () => busy,
      ui: s.ui,
      workbench: s.workbench,
      log: s.log,
    });
    h.secrets.set(KEYS.token, stored);
  });

  it('asks nothing without an admin key or with invalid settings', async () => {
    await watch.check();
    h.raw = { serverUrl: 'ftp://nope' };
    h.secrets.set(KEYS.adminKey, ADMIN_KEY);
    await watch.check();
    assert.equal(h.createApi.called, false);
    assert.equal(watch.current().kind, 'unknown');
  });

  it('reads the server’s token; a rotation done elsewhere warns once, with the button that replaces the copies', async () => {
    h.secrets.set(KEYS.adminKey, ADMIN_KEY);
    h.api.getToken.resolves(tokenInfo(stored));
    assert.equal(await watch.check(), true);
    assert.equal(watch.current().kind, 'token');
    assert.equal(h.ui.messages.length, 0, 'nothing to say while the stored token is current');
    assert.equal(await watch.check(), false, 'the same answer changes nothing');

    h.api.getToken.resolves(tokenInfo(rotated));
    assert.equal(await watch.check(), true);
    const current = watch.current();
    assert.equal(current.kind === 'token' && current.token, rotated);
    assert.equal(h.ui.messages.length, 1);
    const [warning] = h.ui.messages;
    assert.equal(warning?.level, 'warning');
    assert.match(warning?.message ?? '', /was regenerated on the server on 2026-11-22 by ops/);
    assert.deepEqual(
      warning?.actions.map((a) => a.title),
      ['Replace Old Tokens'],
    );
    await warning?.actions[0]?.run();
    assert.deepEqual(h.executed, [COMMANDS.replaceOldTokens]);

    await watch.check();
    await watch.check();
    assert.equal(h.ui.messages.length, 1, 'once per rotation, not once a minute');
    h.assertNothingLeaked([stored, rotated, ADMIN_KEY]);
  });

  it('with a key that may not read the token (403), learns the token’s times from the settings', async () => {
    h.secrets.set(KEYS.adminKey, ADMIN_KEY);
    h.api.getToken.rejects(new AdminApiError(403, 'Forbidden', 'no'));
    const info = tokenInfo(rotated);
    h.api.getSettings.resolves({
      requireAuthentication: true,
      token: { createdAt: info.createdAt, expiresAt: info.expiresAt, createdBy: 'ops' },
    });
    await watch.check();
    const current = watch.current();
    assert.equal(current.kind === 'token' && current.token, null);
    assert.equal(current.kind === 'token' && current.issuedAt, NOW);
    assert.deepEqual(
      h.ui.last()?.actions.map((a) => a.title),
      ['Update Stored Token…'],
    );
  });

  it('an unreachable server claims nothing about the token, and is logged once, not every minute', async () => {
    h.secrets.set(KEYS.adminKey, ADMIN_KEY);
    h.api.getToken.resolves(tokenInfo(rotated));
    await watch.check();
    h.api.getToken.rejects(new ServerUnreachableError(SERVER, 'connection refused'));
    await watch.check();
    await watch.check();
    assert.equal(watch.current().kind, 'unknown');
    assert.equal(h.logs.filter((line) => /connection refused/.test(line)).length, 1);
  });

  it('ignores the server while a command of this window changes the token, and an answer that crossed such a change', async () => {
    h.secrets.set(KEYS.adminKey, ADMIN_KEY);
    busy = true;
    assert.equal(await watch.check(), false);
    assert.equal(h.api.getToken.called, false);

    busy = false;
    // Generate in this window stores its new token while the server's answer is on its way.
    h.api.getToken.callsFake(async () => {
      h.secrets.set(KEYS.token, rotated);
      return tokenInfo(rotated);
    });
    h.secrets.set(KEYS.token, stored);
    assert.equal(await watch.check(), false);
    assert.equal(h.ui.messages.length, 0, 'its own rotation is not one done elsewhere');
    assert.equal(watch.current().kind, 'unknown');
  });

  it('forgets the answer when the settings point elsewhere', async () => {
    h.secrets.set(KEYS.adminKey, ADMIN_KEY);
    h.api.getToken.resolves(tokenInfo(stored));
    await watch.check();
    h.raw = { ...h.raw, client: 'other' };
    assert.equal(watch.current().kind, 'unknown');
  });
});
