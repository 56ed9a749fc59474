/**
 * Diagnostics on open files that hold an expired or replaced token of this client, and the quick
 * fix that puts the stored (current) token in. Messages show masked tokens only.
 */
import { DEFAULT_MAX_FILE_BYTES } from '@profilegate/core/client';
import * as vscode from 'vscode';
import type { SecretStore } from '../commands/ports';
import { secretKeys, type SettingsResult } from '../logic/settings';
import { findStaleTokens, type StaleToken } from '../logic/stale-tokens';

/** `source` of every diagnostic of the extension. */
export const DIAGNOSTIC_SOURCE = 'Profilegate';

/** Schemes of documents that are files of the user (not output panes, git views, settings UI). */
const SCHEMES = new Set(['file', 'vscode-remote', 'vscode-vfs', 'untitled']);

/** What the diagnostics need. */
export interface DiagnosticsDeps {
  secrets: SecretStore;
  settings: () => SettingsResult;
  now: () => number;
}

/** Keeps the diagnostics of open documents up to date and offers the quick fix. */
export class StaleTokenDiagnostics implements vscode.CodeActionProvider, vscode.Disposable {
  static readonly providedCodeActionKinds = [vscode.CodeActionKind.QuickFix];
  private readonly collection = vscode.languages.createDiagnosticCollection('profilegate');
  /** The flagged copies per document, to build quick fixes from. */
  private readonly found = new Map<string, StaleToken[]>();
  private currentToken: string | undefined;
  private client: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly deps: DiagnosticsDeps) {
    this.disposables.push(
      this.collection,
      vscode.workspace.onDidOpenTextDocument((doc) => this.update(doc)),
      vscode.workspace.onDidChangeTextDocument((event) => this.update(event.document)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.forget(doc)),
      vscode.languages.registerCodeActionsProvider({ pattern: '**' }, this, {
        providedCodeActionKinds: StaleTokenDiagnostics.providedCodeActionKinds,
      }),
    );
  }

  /** Reads the stored token and settings again, then re-checks every open document. */
  async refresh(): Promise<void> {
    const result = this.deps.settings();
    if (result.ok) {
      this.client = result.settings.client;
      this.currentToken = await this.deps.secrets.get(secretKeys(result.settings).token);
    } else {
      this.client = undefined;
      this.currentToken = undefined;
    }
    for (const doc of vscode.workspace.textDocuments) this.update(doc);
  }

  /** Re-checks one document. */
  update(doc: vscode.TextDocument): void {
    if (!SCHEMES.has(doc.uri.scheme) || this.client === undefined) {
      this.forget(doc);
      return;
    }
    const text = doc.getText();
    const stale =
      text.length > DEFAULT_MAX_FILE_BYTES
        ? []
        : findStaleTokens(text, { client: this.client, currentToken: this.currentToken, now: this.deps.now() });
    const key = doc.uri.toString();
    if (stale.length === 0) {
      this.forget(doc);
      return;
    }
    this.found.set(key, stale);
    this.collection.set(
      doc.uri,
      stale.map((item) => {
        const range = new vscode.Range(doc.positionAt(item.start), doc.positionAt(item.end));
        const severity =
          item.kind === 'newer' ? vscode.DiagnosticSeverity.Information : vscode.DiagnosticSeverity.Warning;
        const diagnostic = new vscode.Diagnostic(range, item.message, severity);
        diagnostic.source = DIAGNOSTIC_SOURCE;
        diagnostic.code = `${item.kind}-token`;
        return diagnostic;
      }),
    );
  }

  private forget(doc: vscode.TextDocument): void {
    this.found.delete(doc.uri.toString());
    this.collection.delete(doc.uri);
  }

  provideCodeActions(
    doc: vscode.TextDocument,
    _range: vscode.Range | vscode.Selection,
    context: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const stale = this.found.get(doc.uri.toString()) ?? [];
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      if (diagnostic.source !== DIAGNOSTIC_SOURCE) continue;
      const start = doc.offsetAt(diagnostic.range.start);
      const item = stale.find((s) => s.start === start && s.replacement !== null);
      if (item === undefined || item.replacement === null) continue;
      const action = new vscode.CodeAction('Put the current profile token in', vscode.CodeActionKind.QuickFix);
      action.edit = new vscode.WorkspaceEdit();
      action.edit.replace(doc.uri, diagnostic.range, item.replacement);
      action.diagnostics = [diagnostic];
      action.isPreferred = true;
      actions.push(action);
    }
    const fixable = stale.filter((s) => s.replacement !== null);
    if (fixable.length > 1 && actions.length > 0) {
      const all = new vscode.CodeAction(
        'Put the current profile token in everywhere in this file',
        vscode.CodeActionKind.QuickFix,
      );
      all.edit = new vscode.WorkspaceEdit();
      for (const item of fixable) {
        all.edit.replace(
          doc.uri,
          new vscode.Range(doc.positionAt(item.start), doc.positionAt(item.end)),
          item.replacement as string,
        );
      }
      actions.push(all);
    }
    return actions;
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
    this.found.clear();
  }
}
