/** The status bar item, and the diagnostics with their quick fix on an open file. */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { fakeToken } from '../fixtures/jwt';
import { ScriptedUi } from '../fixtures/scripted-ui';
import { workspaceDir } from './config';
import { admin, eventually, freshState, setSetting, slots } from './helpers';

describe('status bar and diagnostics', () => {
  it('the status bar shows the days left, turns to warning inside expiryWarningDays, and reminds once a day', async () => {
    const { t } = await freshState();
    await t.refresh();
    // The workspace sets profilegate.serverUrl: the item shows even before a token is stored.
    assert.equal(t.statusBar()?.visible, true);
    assert.equal(t.statusBar()?.text, '$(key) No token');

    const token = (await admin().generateToken({ expiresIn: 30 * 86_400 })).accessToken;
    await t.secrets.store(slots().token, token);
    await t.refresh();
    assert.equal(t.statusBar()?.text, '$(key) Token: 30 days');
    assert.equal(t.statusBar()?.level, 'ok');
    assert.ok(!t.statusBar()?.tooltip.includes(token));

    const ui = new ScriptedUi();
    t.setUi(ui);
    try {
      await setSetting('expiryWarningDays', 45);
      await t.refresh();
      assert.equal(t.statusBar()?.text, '$(warning) Token: 30 days');
      assert.equal(t.statusBar()?.level, 'warning');
      await t.refresh();
      const reminders = ui.messages.filter((m) => /expires in 30 days/.test(m.message));
      assert.equal(reminders.length, 1, 'one reminder a day, not one per refresh');
      assert.equal(reminders[0]?.level, 'warning');
      assert.deepEqual(
        reminders[0]?.actions.map((a) => a.title),
        ['Generate New Token'],
      );
      assert.deepEqual(ui.leaked([token]), []);
    } finally {
      t.setUi(undefined);
      await setSetting('expiryWarningDays', undefined);
    }
  });

  it('flags replaced and expired tokens of the client in an open file, and the quick fix puts the current token in', async () => {
    const { t } = await freshState();
    const replaced = (await admin().generateToken()).accessToken;
    const current = (await admin().generateToken()).accessToken;
    const expired = fakeToken({ sub: 'demo', iat: 1_600_000_000, exp: 1_600_086_400 });
    await t.secrets.store(slots().token, current);
    await t.refresh();

    const path = join(workspaceDir(), 'notes', 'stale.env');
    await fs.mkdir(join(workspaceDir(), 'notes'), { recursive: true });
    const text = `CURRENT=${current}\nOLD=${replaced}\nEXPIRED="${expired}"\n`;
    await fs.writeFile(path, text);
    const uri = vscode.Uri.file(path);
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc);
      const diagnostics = await eventually(() => {
        const found = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Profilegate');
        return found.length === 2 ? found : undefined;
      }, 'two Profilegate diagnostics');
      const byCode = new Map(diagnostics.map((d) => [String(d.code), d]));
      const old = byCode.get('replaced-token');
      const gone = byCode.get('expired-token');
      assert.ok(old && gone, `codes: ${[...byCode.keys()].join(', ')}`);
      assert.equal(doc.getText(old.range), replaced);
      assert.equal(doc.getText(gone.range), expired);
      assert.equal(old.severity, vscode.DiagnosticSeverity.Warning);
      for (const d of diagnostics) {
        assert.ok(![current, replaced, expired].some((token) => d.message.includes(token)), 'masked messages');
      }

      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        uri,
        old.range,
        vscode.CodeActionKind.QuickFix.value,
      );
      const fix = actions.find((a) => a.title === 'Put the current profile token in');
      assert.ok(fix?.edit, `quick fixes offered: ${actions.map((a) => a.title).join(', ')}`);
      assert.ok(await vscode.workspace.applyEdit(fix.edit));
      assert.equal(doc.getText(), `CURRENT=${current}\nOLD=${current}\nEXPIRED="${expired}"\n`);
      await eventually(
        () => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Profilegate').length === 1,
        'one diagnostic left',
      );
      await doc.save();
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await fs.rm(join(workspaceDir(), 'notes'), { recursive: true, force: true });
    }
  });
});
