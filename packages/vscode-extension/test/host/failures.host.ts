/**
 * A wrong admin key, an unreachable server and an editor-role key: each ends in a clear message,
 * changes no file, stores nothing, and leaves the server's token as it was.
 */
import assert from 'node:assert/strict';
import { admin, assertUnchanged, config, freshState, runCommand, setSetting, slots, snapshot } from './helpers';

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

describe('failures of Generate New Profile Authentication Token', () => {
  it('a wrong admin key: "refused" with Set Admin Key…, nothing changed or stored', async () => {
    const { t, token } = await freshState();
    const before = await snapshot();
    const wrongKey = 'wrong-admin-key-0123456789abcdef';
    const { result, ui } = await runCommand('profilegate.generateToken', [wrongKey], [true]);
    assert.equal(result.outcome, 'failed');
    assert.equal(
      result.message,
      `The admin key was refused by ${config.serverUrl}. Run Profilegate: Set Admin Key… and try again.`,
    );
    assert.deepEqual(
      ui.last()?.actions.map((a) => a.title),
      ['Set Admin Key…'],
    );
    assert.equal(ui.confirmRequests.length, 0, 'it fails before asking to confirm');
    assert.equal((await admin().getToken())?.accessToken, token);
    assert.equal(await t.secrets.get(slots().adminKey), undefined);
    assert.equal(await t.secrets.get(slots().token), undefined);
    await assertUnchanged(before);
    assert.deepEqual(ui.leaked([wrongKey, token]), []);
  });

  it('an unreachable server: names the URL and profilegate.serverUrl, nothing changed or stored', async () => {
    const { t, token } = await freshState();
    const before = await snapshot();
    await setSetting('serverUrl', config.unreachableServerUrl);
    try {
      const { result, ui } = await runCommand('profilegate.generateToken', [config.adminKey], [true]);
      assert.equal(result.outcome, 'failed');
      assert.match(
        result.message ?? '',
        new RegExp(`^Cannot reach the Profilegate server at ${escape(config.unreachableServerUrl)}: `),
      );
      assert.match(result.message ?? '', /Check the profilegate\.serverUrl setting and that the server is running\.$/);
      assert.deepEqual(
        ui.last()?.actions.map((a) => a.title),
        ['Open Settings'],
      );
      assert.equal(await t.secrets.get(slots(config.unreachableServerUrl).adminKey), undefined);
      assert.equal(await t.secrets.get(slots(config.unreachableServerUrl).token), undefined);
      assert.deepEqual(ui.leaked([config.adminKey]), []);
    } finally {
      await setSetting('serverUrl', config.serverUrl);
    }
    assert.equal((await admin().getToken())?.accessToken, token);
    await assertUnchanged(before);
  });

  it('an editor-role key: says the role may not and who may, nothing changed or stored', async () => {
    const { t, token } = await freshState();
    const before = await snapshot();
    const { result, ui } = await runCommand('profilegate.generateToken', [config.editorKey], [true]);
    assert.equal(result.outcome, 'failed');
    assert.match(
      result.message ?? '',
      new RegExp(
        `^The role of this admin key may not read the profile token of client demo on ${escape(config.serverUrl)}: ` +
          'only the approver, publisher or admin role, a workspace admin or a sysadmin may\\.',
      ),
    );
    assert.equal((await admin().getToken())?.accessToken, token);
    assert.equal(await t.secrets.get(slots().adminKey), undefined);
    assert.equal(await t.secrets.get(slots().token), undefined);
    await assertUnchanged(before);
    assert.deepEqual(ui.leaked([config.editorKey, token]), []);
  });

  it('an editor-role key stored with Set Admin Key… may not toggle or revoke either', async () => {
    const { t, token } = await freshState();
    const set = await runCommand('profilegate.setAdminKey', [config.editorKey]);
    assert.equal(set.result.outcome, 'done', 'an editor key is a valid key: it can read the settings');
    const toggle = await runCommand('profilegate.toggleAuthentication', [], [true]);
    assert.match(
      toggle.result.message ?? '',
      /may not change Require Authentication .*only the admin role, a workspace admin or a sysadmin may/,
    );
    assert.equal((await admin().getSettings()).requireAuthentication, true);
    const revoke = await runCommand('profilegate.revokeToken', [], [true]);
    assert.match(revoke.result.message ?? '', /may not revoke the profile token/);
    assert.equal((await admin().getToken())?.accessToken, token);
    await t.secrets.delete(slots().adminKey);
  });
});
