/**
 * Issue 20 inside VS Code: the set-up status bar item and walkthrough, the `when`-clause context
 * keys, adopting a token found in the workspace, Generate resumed after Set Admin Key…, and
 * Show Token Status as a quick pick whose steps run.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { CONTEXT_KEYS } from '../../src/commands/common';
import type { CommandResult } from '../../src/commands/ports';
import { ScriptedUi } from '../fixtures/scripted-ui';
import {
  admin,
  assertRotatedOnDisk,
  baseSettings,
  config,
  freshState,
  runCommand,
  setSetting,
  slots,
  testing,
} from './helpers';

describe('a guided start', () => {
  afterEach(async () => {
    await baseSettings();
  });

  it('right after install the status bar says "Profilegate: set up", and its command opens the walkthrough', async () => {
    const { t } = await freshState();
    await setSetting('serverUrl', undefined);
    await setSetting('client', undefined);
    await t.refresh();
    const view = t.statusBar();
    assert.equal(view?.text, '$(rocket) Profilegate: set up');
    assert.equal(view?.visible, true);
    assert.equal(view?.action, 'walkthrough');
    const result = await vscode.commands.executeCommand<CommandResult>('profilegate.getStarted');
    assert.equal(result.outcome, 'done');
  });

  it('sets the context keys of the when clauses (and walkthrough steps) from what is stored', async () => {
    const { t, token } = await freshState();
    await t.refresh();
    assert.deepEqual(t.contextKeys(), {
      [CONTEXT_KEYS.adminKeyStored]: false,
      [CONTEXT_KEYS.tokenStored]: false,
      [CONTEXT_KEYS.adobeTarget]: false,
      [CONTEXT_KEYS.adobeClientSecretStored]: false,
    });
    await runCommand('profilegate.setAdminKey', [config.adminKey]);
    await t.refresh();
    assert.equal(t.contextKeys()[CONTEXT_KEYS.adminKeyStored], true, 'Forget Admin Key is listed now');
    await t.secrets.store(slots().token, token);
    await t.refresh();
    assert.equal(t.contextKeys()[CONTEXT_KEYS.tokenStored], true);
    await runCommand('profilegate.forgetAdminKey');
    await t.refresh();
    assert.equal(t.contextKeys()[CONTEXT_KEYS.adminKeyStored], false, 'Forget Admin Key is hidden again');
  });

  it('adopts the token found in the workspace: stored as the current one, the walkthrough step completes', async () => {
    const { t, token } = await freshState();
    const { result, ui } = await runCommand('profilegate.adoptWorkspaceToken', [], [], ['…']);
    assert.equal(result.outcome, 'done');
    assert.equal(ui.pickRequests.length, 1);
    assert.match(result.message ?? '', /^Adopted the token eyJ\S+…\S{4} found in /);
    assert.equal(await t.secrets.get(slots().token), token);
    assert.deepEqual(ui.leaked([token]), []);
    await t.refresh();
    assert.equal(t.contextKeys()[CONTEXT_KEYS.tokenStored], true);
    assert.match(t.statusBar()?.text ?? '', /Token: \d+ days/);
  });
});

describe('a workspace that already holds a token of the client', () => {
  it('gets one offer to adopt it; its button adopts the token', async () => {
    const { t, token } = await freshState();
    const ui = new ScriptedUi([], [], ['…']);
    t.setUi(ui);
    try {
      assert.equal(await t.offerAdoption({ again: true }), true);
      const offer = ui.last();
      assert.match(offer?.message ?? '', /^This workspace holds a token of client demo \(eyJ\S+…\S{4}, in /);
      const adopted = (await offer?.actions.find((a) => a.title === 'Adopt Token…')?.run()) as CommandResult;
      assert.equal(adopted.outcome, 'done');
      assert.equal(await t.secrets.get(slots().token), token);
      await t.secrets.delete(slots().token);
      assert.equal(await t.offerAdoption({ again: false }), false, 'offered once per workspace');
      assert.deepEqual(ui.leaked([token]), []);
    } finally {
      t.setUi(undefined);
    }
  });
});

describe('Set Admin Key… in the middle of Generate', () => {
  it('Generate continues once the key is stored: the user does not start again', async () => {
    const { t, token } = await freshState();
    await t.secrets.store(slots().adminKey, 'a-stale-admin-key-0123456789abcdef');
    const ui = new ScriptedUi([config.adminKey], [true]);
    t.setUi(ui);
    try {
      const refused = await vscode.commands.executeCommand<CommandResult>('profilegate.generateToken');
      assert.equal(refused.outcome, 'failed');
      assert.match(refused.message ?? '', /^The admin key was refused by/);
      const button = ui.last()?.actions.find((a) => a.title === 'Set Admin Key…');
      assert.ok(button, 'the error offers Set Admin Key…');
      const set = (await button.run()) as CommandResult;
      assert.equal(set.outcome, 'done');
      assert.equal(set.next?.command, 'profilegate.generateToken');
      assert.equal(set.next?.result?.outcome, 'done');
      assert.match(set.next?.result?.message ?? '', /^New token expires in 90 days\./);
    } finally {
      t.setUi(undefined);
    }
    assert.equal(await t.secrets.get(slots().adminKey), config.adminKey);
    const current = (await admin().getToken())?.accessToken;
    assert.ok(current !== undefined && current !== token, 'the server has a new token');
    await assertRotatedOnDisk(current);
    assert.deepEqual(ui.unexpected, []);
  });
});

describe('Show Token Status', () => {
  it('is a quick pick of facts and next steps; picking Generate New Token runs it', async () => {
    const { t, token } = await freshState();
    await t.secrets.store(slots().token, token);
    const { result, ui } = await runCommand(
      'profilegate.showTokenStatus',
      [config.adminKey],
      [true],
      ['Generate New Token'],
    );
    const labels = ui.lastPickLabels();
    assert.match(labels[0] ?? '', /^\$\(clock\) Expires in \d+ days$/);
    assert.equal(labels[1], '$(person) Generated by harness-admin');
    assert.ok(labels.includes('-- Next steps'));
    assert.equal(ui.messages.filter((m) => m.message.startsWith('The profile token of')).length, 0, 'no long toast');
    assert.equal(result.next?.command, 'profilegate.generateToken');
    assert.equal(result.next?.result?.outcome, 'done');
    const current = (await admin().getToken())?.accessToken;
    assert.ok(current !== undefined && current !== token);
    await assertRotatedOnDisk(current);
    assert.deepEqual(ui.leaked([token, current, config.adminKey]), []);
    await testing();
  });
});
