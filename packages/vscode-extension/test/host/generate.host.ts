/** Generate New Profile Authentication Token, inside VS Code, against the demo server. */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CommandResult } from '../../src/commands/ports';
import { expectedChanges, expectedTotals } from '../fixtures/seed';
import { workspaceDir } from './config';
import {
  admin,
  assertLeftAlone,
  assertRotatedOnDisk,
  assertUnchanged,
  config,
  eventually,
  freshState,
  profileRouteStatus,
  readWorkspaceFile,
  runCommand,
  seed,
  setSetting,
  slots,
  snapshot,
} from './helpers';

describe('Profilegate: Generate New Profile Authentication Token', () => {
  it('rotates the token on the server and rewrites .env, JSON, YAML and scripts, not node_modules, dist, binary or huge files', async () => {
    const { t, token: oldToken } = await freshState();
    assert.equal(await profileRouteStatus(oldToken), 404, 'the old token works before');

    const { result, ui } = await runCommand('profilegate.generateToken', [config.adminKey], [true]);

    assert.deepEqual(ui.unexpected, []);
    assert.equal(result.outcome, 'done', result.message);
    const { copies, files } = expectedTotals();
    assert.equal(result.message, `New token expires in 90 days. Updated ${copies} copies in ${files} files.`);
    assert.equal(ui.last()?.level, 'info');
    assert.deepEqual(
      ui.last()?.actions.map((a) => a.title),
      ['Open Files'],
    );
    assert.deepEqual([...(result.files ?? [])].sort(), Object.keys(expectedChanges()).sort());
    assert.equal(ui.confirmRequests[0]?.confirmTitle, 'Generate New Token');
    assert.match(ui.secretRequests[0]?.prompt ?? '', new RegExp(`on ${config.serverUrl.replace(/[.:/]/g, '\\$&')}`));

    const newToken = (await admin().getToken())?.accessToken;
    assert.ok(newToken !== undefined && newToken !== oldToken, 'the server has a new token');
    assert.equal(await t.secrets.get(slots().token), newToken, 'the new token is stored');
    assert.equal(await t.secrets.get(slots().adminKey), config.adminKey, 'the typed key is kept');

    await assertRotatedOnDisk(newToken);
    await assertLeftAlone(oldToken);
    assert.equal(await profileRouteStatus(oldToken), 401, 'the old token fails on a profile route');
    assert.equal(await profileRouteStatus(newToken), 404, 'the new token passes the gate');
    assert.deepEqual(ui.leaked([oldToken, newToken, config.adminKey]), []);

    await t.refresh();
    assert.equal(t.statusBar()?.text, '$(key) Token: 90 days');
    assert.equal(t.statusBar()?.level, 'ok');
  });

  it('with DEFAULT settings, every copy is replaced and saved, even by a hurried user who presses Apply on any preview without ticking', async function () {
    this.timeout(180_000);
    const { t, token: oldToken } = await freshState();
    try {
      const inspected = vscode.workspace.getConfiguration('profilegate').inspect('previewChanges');
      assert.deepEqual(
        [inspected?.globalValue, inspected?.workspaceValue, inspected?.workspaceFolderValue],
        [undefined, undefined, undefined],
        'previewChanges is at its default',
      );
      let settled = false;
      const running = runCommand('profilegate.generateToken', [config.adminKey], [true]).finally(
        () => (settled = true),
      );
      // If a Refactor Preview opens, press Apply at once, ticking nothing, as the user did.
      await eventually(
        async () => {
          if (!settled) await vscode.commands.executeCommand('refactorPreview.apply');
          return settled;
        },
        'the command to finish',
        150_000,
      );
      const { result, ui } = await running;
      assert.deepEqual(ui.unexpected, []);
      assert.equal(result.outcome, 'done', result.message);
      const { copies, files } = expectedTotals();
      assert.equal(result.message, `New token expires in 90 days. Updated ${copies} copies in ${files} files.`);
      assert.equal(ui.last()?.level, 'info');
      const newToken = (await admin().getToken())?.accessToken as string;
      assert.notEqual(newToken, oldToken);
      assert.equal(await t.secrets.get(slots().token), newToken);
      await assertRotatedOnDisk(newToken);
      await assertLeftAlone(oldToken);
      assert.deepEqual(ui.leaked([oldToken, newToken, config.adminKey]), []);
    } finally {
      await vscode.commands.executeCommand('refactorPreview.discard');
    }
  });

  it('keeps CRLF line endings and replaces an older token of the client it recognises', async () => {
    await freshState();
    // An older token of client demo, left behind in a file by an earlier rotation.
    const older = (await admin().generateToken()).accessToken;
    const current = (await admin().generateToken()).accessToken;
    await seed(current);
    const legacy = join(workspaceDir(), 'legacy', 'old.env');
    await fs.mkdir(join(workspaceDir(), 'legacy'), { recursive: true });
    await fs.writeFile(legacy, `# left over\nOLD_TOKEN=${older}\n`);
    try {
      const { result } = await runCommand('profilegate.generateToken', [config.adminKey], [true]);
      assert.equal(result.outcome, 'done', result.message);
      const newToken = (await admin().getToken())?.accessToken as string;
      assert.match(
        result.message ?? '',
        new RegExp(`Updated ${expectedTotals().copies + 1} copies in ${expectedTotals().files + 1} files\\.`),
      );
      await eventually(
        async () => (await fs.readFile(legacy, 'utf8')) === `# left over\nOLD_TOKEN=${newToken}\n`,
        'legacy/old.env to hold the new token',
      );
      const crlf = (await readWorkspaceFile('deploy/production.env')).toString('utf8');
      assert.equal(
        crlf,
        `# Production settings, CRLF line endings\r\nPROFILEGATE_TOKEN=${newToken}\r\nLOG_LEVEL=info\r\n`,
      );
    } finally {
      await fs.rm(join(workspaceDir(), 'legacy'), { recursive: true, force: true });
    }
  });

  it('the Open Files button opens the files it changed', async () => {
    await freshState();
    const { ui } = await runCommand('profilegate.generateToken', [config.adminKey], [true]);
    const open = ui.last()?.actions.find((a) => a.title === 'Open Files');
    assert.ok(open);
    await open.run();
    const shown = () =>
      vscode.window.tabGroups.all
        .flatMap((group) => group.tabs)
        .map((tab) => (tab.input instanceof vscode.TabInputText ? vscode.workspace.asRelativePath(tab.input.uri) : ''));
    await eventually(() => Object.keys(expectedChanges()).every((file) => shown().includes(file)), 'the files to open');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('with previewChanges turned on, edits wait in the Refactor Preview; discarded, a warning offers Replace Old Tokens, which finishes the job', async () => {
    const { t, token: oldToken } = await freshState();
    const before = await snapshot();
    await setSetting('previewChanges', true);
    let settled = false;
    const running = runCommand('profilegate.generateToken', [config.adminKey], [true]).finally(() => (settled = true));
    try {
      // The command waits for the user in the preview; discard it as the user would.
      await eventually(async () => {
        if (!settled) await vscode.commands.executeCommand('refactorPreview.discard');
        return settled;
      }, 'the Refactor Preview to open and be discarded');
    } finally {
      await setSetting('previewChanges', undefined);
    }
    const { result, ui } = await running;
    assert.equal(result.outcome, 'done', result.message);
    assert.equal(result.copies, 0);
    assert.match(
      result.message ?? '',
      new RegExp(
        `^New token expires in 90 days\\. Updated 0 copies in 0 files\\. ${expectedTotals().copies} copies of an old token were left as they were`,
      ),
    );
    assert.equal(ui.last()?.level, 'warning', 'copies left behind are a warning, not information');
    const newToken = (await admin().getToken())?.accessToken as string;
    assert.equal(await t.secrets.get(slots().token), newToken, 'the new token is stored all the same');
    await assertUnchanged(before);

    const finish = ui.last()?.actions.find((a) => a.title === 'Replace Old Tokens');
    assert.ok(
      finish,
      `buttons: ${ui
        .last()
        ?.actions.map((a) => a.title)
        .join(', ')}`,
    );
    const finished = (await finish.run()) as CommandResult;
    assert.equal(finished.outcome, 'done', finished.message);
    assert.equal(
      finished.message,
      `Put the stored token in the workspace (expires in 90 days). Updated ${expectedTotals().copies} copies in ${expectedTotals().files} files.`,
    );
    await assertRotatedOnDisk(newToken);
    await assertLeftAlone(oldToken);
  });

  it('cancelling the modal changes nothing on the server, in secrets or in files', async () => {
    const { t, token } = await freshState();
    const { result, ui } = await runCommand('profilegate.generateToken', [config.adminKey], [false]);
    assert.equal(result.outcome, 'cancelled');
    assert.equal(ui.messages.length, 0);
    assert.equal((await admin().getToken())?.accessToken, token);
    assert.equal(await t.secrets.get(slots().token), undefined);
    assert.equal(await t.secrets.get(slots().adminKey), undefined);
    assert.ok((await readWorkspaceFile('.env')).includes(Buffer.from(token)));
  });
});
