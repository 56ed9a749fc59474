/**
 * Diagnostics on files that hold an expired, replaced or revoked token of this client, and the
 * quick fix that puts the current token in. Open documents are checked as they change. Once the
 * stored token is known to be dead (the server's token was regenerated or revoked elsewhere), the
 * whole workspace is searched too, so copies in files nobody has open are flagged as well.
 * Messages show masked tokens only.
 */
import { DEFAULT_MAX_FILE_BYTES } from '@profilegate/client';
import * as vscode from 'vscode';
import type { SecretStore } from '../commands/ports';
import { LineIndex } from '../logic/positions';
import { staleReference, storedTokenState, type ServerToken, type StaleReference } from '../logic/server-token';
import { secretKeys, type SettingsResult } from '../logic/settings';
import { findStaleTokens, type StaleToken } from '../logic/stale-tokens';
import { openDocument, readText, workspaceFiles } from './read-text';

/** `source` of every diagnostic of the extension. */
export const DIAGNOSTIC_SOURCE = 'Profilegate';

/** Schemes of documents that are files of the user (not output panes, git views, settings UI). */
const SCHEMES = new Set(['file', 'vscode-remote', 'vscode-vfs', 'untitled']);

/** What the diagnostics need. */
export interface DiagnosticsDeps {
  secrets: SecretStore;
  settings: () => SettingsResult;
  now: () => number;
  /** The server's token as last read (unknown when it was not). */
  server: () => ServerToken;
  maxFileBytes?: number;
}

/** What copies are judged against: the client and the reference of the current token. */
interface Judge extends StaleReference {
  client: string;
}

/** Keeps the diagnostics of open documents (and, once the stored token is dead, of every workspace file) up to date. */
export class StaleTokenDiagnostics implements vscode.CodeActionProvider, vscode.Disposable {
  static readonly providedCodeActionKinds = [vscode.CodeActionKind.QuickFix];
  private readonly collection = vscode.languages.createDiagnosticCollection('profilegate');
  /** The flagged copies per file, to build quick fixes from. */
  private readonly found = new Map<string, StaleToken[]>();
  /** Files flagged from their bytes on disk (not open): re-checked when they change or are closed. */
  private readonly onDisk = new Set<string>();
  private judge: Judge | undefined;
  /** Identifies the dead token the workspace was last searched for; undefined: the stored token is not known dead. */
  private searchedFor: string | undefined;
  private exclude: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly deps: DiagnosticsDeps) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*', true, false, false);
    this.disposables.push(
      this.collection,
      watcher,
      watcher.onDidChange((uri) => this.fileChanged(uri)),
      watcher.onDidDelete((uri) => this.forgetUri(uri)),
      vscode.workspace.onDidOpenTextDocument((doc) => this.update(doc)),
      vscode.workspace.onDidChangeTextDocument((event) => this.update(event.document)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.closed(doc)),
      vscode.languages.registerCodeActionsProvider({ pattern: '**' }, this, {
        providedCodeActionKinds: StaleTokenDiagnostics.providedCodeActionKinds,
      }),
    );
  }

  /** Reads the settings, the stored token and the server's answer again, then re-checks the files. */
  async refresh(): Promise<void> {
    const result = this.deps.settings();
    // An Adobe Target target: its opaque tokens are never guessed in files, so nothing is flagged.
    if (!result.ok || result.settings.target === 'adobe') {
      this.judge = undefined;
      this.searchedFor = undefined;
      this.collection.clear();
      this.found.clear();
      this.onDisk.clear();
      return;
    }
    const stored = await this.deps.secrets.get(secretKeys(result.settings).token);
    const server = this.deps.server();
    this.judge = { client: result.settings.client, ...staleReference(stored, server) };
    this.exclude = result.settings.exclude;
    for (const doc of vscode.workspace.textDocuments) this.update(doc);

    const state = storedTokenState(stored, server);
    const dead = state === 'replaced' || state === 'revoked';
    const key = dead ? JSON.stringify([secretKeys(result.settings).token, stored, this.judge]) : undefined;
    if (key === this.searchedFor) return;
    this.searchedFor = key;
    for (const uri of [...this.onDisk]) this.forgetUri(vscode.Uri.parse(uri));
    if (key !== undefined) await this.searchWorkspace(key);
  }

  /** Flags the dead copies in every workspace file that is not open (open ones are checked as documents). */
  private async searchWorkspace(key: string): Promise<void> {
    for (const uri of await workspaceFiles(this.exclude)) {
      if (this.searchedFor !== key) return; // a newer refresh took over
      if (openDocument(uri) === undefined) await this.checkOnDisk(uri);
    }
  }

  /** Re-checks one document. */
  update(doc: vscode.TextDocument): void {
    const judge = this.judge;
    if (!SCHEMES.has(doc.uri.scheme) || judge === undefined) {
      this.forgetUri(doc.uri);
      return;
    }
    const text = doc.getText();
    const stale = text.length > this.maxFileBytes() ? [] : this.staleIn(text, judge);
    this.onDisk.delete(doc.uri.toString());
    this.show(doc.uri, stale, (offset) => doc.positionAt(offset));
  }

  private maxFileBytes(): number {
    return this.deps.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  }

  private staleIn(text: string, judge: Judge): StaleToken[] {
    return findStaleTokens(text, { ...judge, now: this.deps.now() });
  }

  /** Checks a file that is not open from its bytes. */
  private async checkOnDisk(uri: vscode.Uri): Promise<void> {
    const judge = this.judge;
    if (judge === undefined || !SCHEMES.has(uri.scheme)) return;
    const read = await readText(uri, this.maxFileBytes());
    if (openDocument(uri) !== undefined || this.judge !== judge) return; // opened, or judged anew, meanwhile
    const stale = 'text' in read ? this.staleIn(read.text, judge) : [];
    const lines = 'text' in read ? new LineIndex(read.text) : undefined;
    this.show(uri, stale, (offset) => {
      const at = (lines as LineIndex).positionAt(offset);
      return new vscode.Position(at.line, at.character);
    });
    if (stale.length > 0) this.onDisk.add(uri.toString());
  }

  private show(uri: vscode.Uri, stale: StaleToken[], positionAt: (offset: number) => vscode.Position): void {
    if (stale.length === 0) {
      this.forgetUri(uri);
      return;
    }
    this.found.set(uri.toString(), stale);
    this.collection.set(
      uri,
      stale.map((item) => {
        const range = new vscode.Range(positionAt(item.start), positionAt(item.end));
        const severity =
          item.kind === 'newer' ? vscode.DiagnosticSeverity.Information : vscode.DiagnosticSeverity.Warning;
        const diagnostic = new vscode.Diagnostic(range, item.message, severity);
        diagnostic.source = DIAGNOSTIC_SOURCE;
        diagnostic.code = `${item.kind}-token`;
        return diagnostic;
      }),
    );
  }

  private fileChanged(uri: vscode.Uri): void {
    if (this.onDisk.has(uri.toString()) && openDocument(uri) === undefined) void this.checkOnDisk(uri);
  }

  private closed(doc: vscode.TextDocument): void {
    this.forgetUri(doc.uri);
    // While the stored token is dead, a closed file keeps its warnings, judged from the disk.
    if (this.searchedFor !== undefined) void this.checkOnDisk(doc.uri);
  }

  private forgetUri(uri: vscode.Uri): void {
    this.found.delete(uri.toString());
    this.onDisk.delete(uri.toString());
    this.collection.delete(uri);
  }

  provideCodeActions(
    doc: vscode.TextDocument,
    _range: vscode.Range | vscode.Selection,
    context: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    if (!this.found.has(doc.uri.toString())) this.update(doc);
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
    this.onDisk.clear();
  }
}
