import assert from 'node:assert/strict';
import { AdminApiError, ServerUnreachableError, type ProfileTokenInfo } from '@profilegate/client';
import { commandHandlers, COMMANDS } from '../../src/commands';
import type { CommandResult } from '../../src/commands/ports';
import { fakeToken } from '../fixtures/jwt';
import { ScriptedUi } from '../fixtures/scripted-ui';
import { ADMIN_KEY, Harness, KEYS, NOW, SERVER, outcome, tokenInfo } from './command-harness';

describe('Generate New Profile Authentication Token (with fakes)', () => {
  const oldToken = fakeToken({ iat: NOW / 1000 - 1000 });
  const newToken = fakeToken({ iat: NOW / 1000 });
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });

  it('asks for the key, reads the current token, confirms, regenerates, stores, replaces and reports', async () => {
    h.api.getToken.resolves(tokenInfo(oldToken));
    h.api.generateToken.resolves(tokenInfo(newToken));
    h.replace.resolves(
      outcome({
        copies: 11,
        changed: [
          { uri: 'file:///w/.env', label: '.env', copies: 3 },
          { uri: 'file:///w/config/app.json', label: 'config/app.json', copies: 8 },
        ],
      }),
    );
    const ui = h.script([ADMIN_KEY], [true]);
    const result = await h.run(COMMANDS.generateToken);

    assert.equal(result.outcome, 'done');
    assert.equal(result.message, 'New token expires in 90 days. Updated 11 copies in 2 files.');
    assert.deepEqual(result.files, ['.env', 'config/app.json']);
    assert.equal(ui.secretRequests[0]?.prompt.includes(SERVER), true, 'the key prompt names the server');
    assert.equal(ui.confirmRequests[0]?.confirmTitle, 'Generate New Token');
    assert.match(ui.confirmRequests[0]?.detail ?? '', /will stop working at once/);
    assert.ok(h.api.getToken.calledBefore(h.api.generateToken), 'the current token is read first');
    assert.deepEqual(h.api.generateToken.firstCall.args[0], { expiresIn: 90 * 86_400, previousTokenGraceSeconds: 0 });
    assert.equal(h.createApi.firstCall.args[1], ADMIN_KEY);
    assert.equal(h.secrets.get(KEYS.token), newToken);
    assert.equal(h.secrets.get(KEYS.adminKey), ADMIN_KEY);
    const request = h.replace.firstCall.args[0];
    assert.deepEqual(request.knownOldTokens, [oldToken]);
    assert.equal(request.newToken, newToken);
    assert.equal(request.client, 'demo');
    assert.equal(request.preview, false, 'applied directly, with the default settings');
    assert.deepEqual(
      ui.last()?.actions.map((a) => a.title),
      ['Open Files'],
    );
    await ui.last()?.actions[0]?.run();
    assert.deepEqual(h.executed, ['open:file:///w/.env,file:///w/config/app.json']);
    h.assertNothingLeaked([oldToken, newToken, ADMIN_KEY]);
  });

  it('with default settings, applies every replacement directly: nothing waits unticked in a preview', async () => {
    h.secrets.set(KEYS.adminKey, ADMIN_KEY);
    h.api.getToken.resolves(tokenInfo(oldToken));
    h.api.generateToken.resolves(tokenInfo(newToken));
    h.replace.resolves(outcome({ copies: 3, changed: [{ uri: 'file:///w/.env', label: '.env', copies: 3 }] }));
    h.script([], [true]);
    await h.run(COMMANDS.generateToken);
    assert.equal(h.replace.firstCall.args[0].preview, false);
  });

  it('when copies of an old token are left (the preview was turned on and left unticked), warns with a button that finishes the replacement', async () => {
    h.secrets.set(KEYS.adminKey, ADMIN_KEY);
    h.raw = { ...h.raw, previewChanges: true };
    h.api.getToken.resolves(tokenInfo(oldToken));
    h.api.generateToken.resolves(tokenInfo(newToken));
    h.replace.resolves(outcome({ copies: 0, notApplied: 11 }));
    const ui = h.script([], [true]);
    const result = await h.run(COMMANDS.generateToken);
    assert.equal(result.outcome, 'done');
    assert.equal(ui.last()?.level, 'warning');
    assert.match(result.message ?? '', /11 copies of an old token were left as they were/);
    assert.match(result.message ?? '', /requests that send them get 401 once the old token stops working/);
    const finish = ui.last()?.actions.find((a) => a.title === 'Replace Old Tokens');
    assert.ok(
      finish,
      `buttons: ${ui
        .last()
        ?.actions.map((a) => a.title)
        .join(', ')}`,
    );
    await finish.run();
    assert.deepEqual(h.executed, ['profilegate.replaceOldTokens']);
    h.assertNothingLeaked([oldToken, newToken, ADMIN_KEY]);
  });

  it('uses the stored key without asking, passes expiry and grace from settings, and replaces the previously stored token too', async () => {
    const previouslyStored = fakeToken({ iat: NOW / 1000 - 5000 });
    h.secrets.set(KEYS.adminKey, ADMIN_KEY);
    h.secrets.set(KEYS.token, previouslyStored);
    h.raw = { ...h.raw, tokenExpiresInDays: 30, previousTokenGraceSeconds: 120, previewChanges: false };
    h.api.getToken.resolves(tokenInfo(oldToken));
    h.api.generateToken.resolves({ ...tokenInfo(newToken), expiresIn: 30 * 86_400 });
    h.replace.resolves(outcome());
    const ui = h.script([], [true]);
    const result = await h.run(COMMANDS.generateToken);
    assert.equal(ui.secretRequests.length, 0);
    assert.deepEqual(h.api.generateToken.firstCall.args[0], {
      expiresIn: 30 * 86_400,
      previousTokenGraceSeconds: 120,
    });
    assert.match(ui.confirmRequests[0]?.detail ?? '', /stop working in 2 minutes/);
    assert.deepEqual(h.replace.firstCall.args[0].knownOldTokens, [oldToken, previouslyStored]);
    assert.equal(h.replace.firstCall.args[0].preview, false);
    assert.equal(
      result.message,
      'New token expires in 30 days. Updated 0 copies in 0 files. The previous token keeps working for 2 minutes.',
    );
  });

  it('with no token on the server yet, says so and replaces nothing known', async () => {
    h.secrets.set(KEYS.adminKey, ADMIN_KEY);
    h.api.getToken.resolves(null);
    h.api.generateToken.resolves(tokenInfo(newToken));
    h.replace.resolves(outcome());
    const ui = h.script([], [true]);
    await h.run(COMMANDS.generateToken);
    assert.match(ui.confirmRequests[0]?.detail ?? '', /has no profile token yet/);
    assert.deepEqual(h.replace.firstCall.args[0].knownOldTokens, []);
  });

  it('cancelling the key box or the modal changes nothing and calls nothing that changes', async () => {
    h.script([undefined]);
    assert.equal((await h.run(COMMANDS.generateToken)).outcome, 'cancelled');
    assert.equal(h.api.getToken.called, false);

    h.api.getToken.resolves(tokenInfo(oldToken));
    const ui = h.script([ADMIN_KEY], [false]);
    assert.equal((await h.run(COMMANDS.generateToken)).outcome, 'cancelled');
    assert.equal(h.api.generateToken.called, false);
    assert.equal(h.replace.called, false);
    assert.equal(h.secrets.size, 0, 'not even the typed key is stored');
    assert.equal(ui.messages.length, 0);
  });

  const failures: Array<[string, () => Error, RegExp, string]> = [
    [
      'a wrong admin key',
      () => new AdminApiError(401, 'Unauthorized', 'Sign in'),
      /^The admin key was refused by http:\/\/127\.0\.0\.1:8080\. Run Profilegate: Set Admin Key… and try again\.$/,
      'Set Admin Key…',
    ],
    [
      'an editor-role key',
      () =>
        new AdminApiError(403, 'Forbidden', 'Reading the profile token needs the approver, publisher or admin role'),
      /may not read the profile token of client demo .*approver, publisher or admin role, a workspace admin or a sysadmin/,
      'Set Admin Key…',
    ],
    [
      'an unreachable server',
      () =>
        new ServerUnreachableError(SERVER, `Nothing is listening at ${SERVER}; start the server or fix the server URL`),
      /^Cannot reach the Profilegate server at http:\/\/127\.0\.0\.1:8080: .*Check the profilegate\.serverUrl setting/,
      'Open Settings',
    ],
  ];
  for (const [name, error, message, button] of failures) {
    it(`${name} ends in a clear message; nothing is generated, stored or changed`, async () => {
      h.api.getToken.rejects(error());
      const ui = h.script([ADMIN_KEY], [true]);
      const result = await h.run(COMMANDS.generateToken);
      assert.equal(result.outcome, 'failed');
      assert.match(result.message ?? '', message);
      assert.equal(ui.last()?.level, 'error');
      assert.deepEqual(
        ui.last()?.actions.map((a) => a.title),
        [button],
      );
      assert.equal(ui.confirmRequests.length, 0, 'fails before the modal');
      assert.equal(h.api.generateToken.called, false);
      assert.equal(h.replace.called, false);
      assert.equal(h.secrets.size, 0);
      h.assertNothingLeaked([ADMIN_KEY]);
    });
  }

  it('a refusal of the regeneration itself stores nothing and changes no file', async () => {
    h.api.getToken.resolves(tokenInfo(oldToken));
    h.api.generateToken.rejects(new AdminApiError(403, 'Forbidden', 'no'));
    h.script([ADMIN_KEY], [true]);
    const result = await h.run(COMMANDS.generateToken);
    assert.match(result.message ?? '', /may not generate the profile token/);
    assert.equal(h.replace.called, false);
    assert.equal(h.secrets.size, 0);
  });

  it('when editing files fails after the server call, keeps the new token stored and says how to finish', async () => {
    h.api.getToken.resolves(tokenInfo(oldToken));
    h.api.generateToken.resolves(tokenInfo(newToken));
    h.replace.rejects(new Error('EACCES: permission denied'));
    const ui = h.script([ADMIN_KEY], [true]);
    const result = await h.run(COMMANDS.generateToken);
    assert.equal(result.outcome, 'failed');
    assert.match(
      result.message ?? '',
      /^Generated a new token \(eyJ\S*…\S{4}\) and stored it in VS Code, but updating the files failed: EACCES: permission denied\. Finish with Replace Old Tokens \(Profilegate: Replace Old Tokens in Workspace\)/,
    );
    assert.equal(h.secrets.get(KEYS.token), newToken);
    assert.deepEqual(
      ui.last()?.actions.map((a) => a.title),
      ['Replace Old Tokens'],
    );
    await ui.last()?.actions[0]?.run();
    assert.deepEqual(h.executed, [COMMANDS.replaceOldTokens]);
    h.assertNothingLeaked([newToken, oldToken, ADMIN_KEY]);
  });

  it('when the secret storage fails after the server call, still updates the files and says how to finish', async () => {
    h.api.getToken.resolves(tokenInfo(oldToken));
    h.api.generateToken.resolves(tokenInfo(newToken));
    h.replace.resolves(outcome({ copies: 1, changed: [{ uri: 'u', label: '.env', copies: 1 }] }));
    h.storeFails = true;
    const ui = h.script([ADMIN_KEY], [true]);
    const result = await h.run(COMMANDS.generateToken);
    assert.equal(result.outcome, 'done');
    assert.equal(h.replace.firstCall.args[0].newToken, newToken);
    const warning = ui.messages.find((m) => m.level === 'warning');
    assert.match(
      warning?.message ?? '',
      /could not be kept in VS Code's secret storage \(no secret service\); the workspace files are still updated/,
    );
    h.assertNothingLeaked([newToken, ADMIN_KEY]);
  });

  it('refuses to run with invalid settings, offering to open them', async () => {
    h.raw = { serverUrl: 'ftp://nope' };
    const ui = h.script([]);
    const result = await h.run(COMMANDS.generateToken);
    assert.equal(result.outcome, 'failed');
    assert.match(
      ui.last()?.message ?? '',
      /^Fix the Profilegate settings first: profilegate\.serverUrl must be an http/,
    );
    await ui.last()?.actions[0]?.run();
    assert.deepEqual(h.executed, ['settings:profilegate.serverUrl']);
    assert.equal(h.createApi.called, false);
  });

  it('runs one rotation at a time', async () => {
    h.secrets.set(KEYS.adminKey, ADMIN_KEY);
    let release: (value: ProfileTokenInfo | null) => void = () => {};
    h.api.getToken.returns(new Promise((resolve) => (release = resolve)));
    h.api.generateToken.resolves(tokenInfo(newToken));
    h.replace.resolves(outcome());
    h.ui = new ScriptedUi([], [true]);
    const handlers = commandHandlers(h.services());
    const generate = handlers.find(([id]) => id === COMMANDS.generateToken)?.[1] as () => Promise<CommandResult>;
    const update = handlers.find(([id]) => id === COMMANDS.updateStoredToken)?.[1] as () => Promise<CommandResult>;
    const first = generate();
    const second = await update();
    assert.equal(second.outcome, 'cancelled');
    assert.match(second.message ?? '', /still running "Generate New Profile Authentication Token"/);
    release(null);
    assert.equal((await first).outcome, 'done');
  });
});
