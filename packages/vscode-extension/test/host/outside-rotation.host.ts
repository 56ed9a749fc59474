/**
 * A rotation done elsewhere (the CLI, the admin page, a colleague): the extension asks the server
 * for its current token (what the 60-second timer and window focus run), turns the status bar to a
 * warning, and flags every dead copy in the workspace, open or not, with the quick fix.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { expectedTotals } from '../fixtures/seed';
import { ScriptedUi } from '../fixtures/scripted-ui';
import { workspaceDir } from './config';
import {
  admin,
  assertRotatedOnDisk,
  config,
  eventually,
  freshState,
  readWorkspaceFile,
  slots,
  testing,
} from './helpers';

/** The Profilegate diagnostics of a workspace file, opened or not. */
function diagnosticsOf(relative: string): vscode.Diagnostic[] {
  const uri = vscode.Uri.file(join(workspaceDir(), ...relative.split('/')));
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Profilegate');
}

describe('a rotation done elsewhere', () => {
  afterEach(async () => {
    (await testing()).setUi(undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('is noticed: the status bar warns, every dead copy in the workspace gets the diagnostic, and its quick fix puts the current token in', async function () {
    this.timeout(180_000);
    const { t, token: oldToken } = await freshState();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await t.secrets.store(slots().adminKey, config.adminKey);
    await t.secrets.store(slots().token, oldToken);
    await t.refresh();
    assert.equal(t.statusBar()?.level, 'ok', t.statusBar()?.text);
    assert.deepEqual(diagnosticsOf('.env'), []);

    // The scripted UI first: the one-minute timer may notice the rotation before t.refresh() does.
    const ui = new ScriptedUi();
    t.setUi(ui);
    // Regenerated elsewhere, as the admin page or the CLI would.
    const rotated = (await admin().generateToken()).accessToken;
    await t.refresh();

    assert.equal(t.statusBar()?.level, 'warning');
    assert.match(t.statusBar()?.text ?? '', /Token replaced/);
    assert.match(t.statusBar()?.tooltip ?? '', /replaced on the server/);
    assert.ok(!(t.statusBar()?.tooltip ?? '').includes(oldToken) && !(t.statusBar()?.tooltip ?? '').includes(rotated));

    // .env is not open: the copies are found in the workspace, each with the replaced-token warning.
    const found = await eventually(() => {
      const d = diagnosticsOf('.env');
      return d.length === 3 ? d : undefined;
    }, 'three diagnostics on .env');
    for (const d of found) {
      assert.equal(d.code, 'replaced-token');
      assert.equal(d.severity, vscode.DiagnosticSeverity.Warning);
      assert.ok(!d.message.includes(oldToken) && !d.message.includes(rotated), 'masked message');
    }
    await eventually(() => diagnosticsOf('config/app.json').length === 2, 'two diagnostics on config/app.json');

    const warning = ui.messages.find((m) => m.level === 'warning' && /regenerated on the server/.test(m.message));
    assert.ok(warning, `messages: ${ui.messages.map((m) => m.message).join(' | ')}`);
    assert.deepEqual(ui.leaked([oldToken, rotated, config.adminKey]), []);

    // The quick fix of one copy.
    const uri = vscode.Uri.file(join(workspaceDir(), '.env'));
    const first = found[0] as vscode.Diagnostic;
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      uri,
      first.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const fix = actions.find((a) => a.title === 'Put the current profile token in');
    assert.ok(fix?.edit, `quick fixes offered: ${actions.map((a) => a.title).join(', ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.equal(doc.getText(first.range.with({ end: first.range.start.translate(0, rotated.length) })), rotated);
    await eventually(() => diagnosticsOf('.env').length === 2, 'two diagnostics left on .env');
    await doc.save();
  });

  it('the warning’s "Replace Old Tokens" button stores the server’s token and replaces every dead copy', async function () {
    this.timeout(180_000);
    const { t, token: oldToken } = await freshState();
    await t.secrets.store(slots().adminKey, config.adminKey);
    await t.secrets.store(slots().token, oldToken);
    await t.refresh();
    const ui = new ScriptedUi();
    t.setUi(ui);
    const rotated = (await admin().generateToken()).accessToken;
    await t.refresh();
    const warning = ui.messages.find((m) => m.level === 'warning' && /regenerated on the server/.test(m.message));
    const button = warning?.actions.find((a) => a.title === 'Replace Old Tokens');
    assert.ok(
      button,
      `messages: ${ui.messages.map((m) => `${m.message} [${m.actions.map((a) => a.title)}]`).join(' | ')}`,
    );
    await button.run();

    await assertRotatedOnDisk(rotated);
    await eventually(async () => (await t.secrets.get(slots().token)) === rotated, 'the server’s token to be stored');
    const done = await eventually(
      () => ui.messages.find((m) => /^Stored the server’s current token/.test(m.message)),
      'the summary',
    );
    assert.match(
      done.message,
      new RegExp(`Updated ${expectedTotals().copies} copies in ${expectedTotals().files} files\\.$`),
    );
    await t.refresh();
    assert.equal(t.statusBar()?.level, 'ok', t.statusBar()?.text);
    await eventually(() => diagnosticsOf('.env').length === 0, 'no diagnostic left on .env');
    assert.ok((await readWorkspaceFile('.env')).includes(Buffer.from(rotated)));
    assert.deepEqual(ui.leaked([oldToken, rotated, config.adminKey]), []);
  });
});
