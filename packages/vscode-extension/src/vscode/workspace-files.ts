/**
 * Replaces old tokens in the workspace the VS Code way: files found with `findFiles` (excluding
 * the configured glob), binary files and files over the size cap skipped, then ONE WorkspaceEdit
 * for all files, so open editors update and one undo reverts the rotation. With the preview on,
 * the edits need confirmation (Refactor Preview); otherwise they are applied and saved.
 * The counts are taken from the documents afterwards, so they tell what really changed.
 */
import { DEFAULT_MAX_FILE_BYTES } from '@profilegate/core/client';
import * as vscode from 'vscode';
import type { FileUpdateOutcome, FileUpdateRequest, TokenFileUpdater } from '../commands/ports';
import { countCopies, looksBinary, planFileEdits, previewLabel, type FilePlan } from '../logic/rotation-plan';

interface Candidate {
  uri: vscode.Uri;
  label: string;
}

/** The TokenFileUpdater over the open workspace folders. */
export class WorkspaceTokenFiles implements TokenFileUpdater {
  constructor(private readonly maxFileBytes = DEFAULT_MAX_FILE_BYTES) {}

  async replace(request: FileUpdateRequest): Promise<FileUpdateOutcome> {
    const outcome: FileUpdateOutcome = {
      noWorkspace: false,
      filesScanned: 0,
      changed: [],
      copies: 0,
      notApplied: 0,
      unsaved: [],
      skipped: [],
    };
    if ((vscode.workspace.workspaceFolders ?? []).length === 0) return { ...outcome, noWorkspace: true };

    // null, not undefined: the configured glob alone decides (files.exclude would hide copies).
    const uris = await vscode.workspace.findFiles('**/*', request.exclude ?? null);
    uris.sort((a, b) => (a.toString() < b.toString() ? -1 : a.toString() > b.toString() ? 1 : 0));
    const candidates: Candidate[] = [];
    for (const uri of uris) {
      const label = vscode.workspace.asRelativePath(uri, (vscode.workspace.workspaceFolders ?? []).length > 1);
      const text = await this.readText(uri, label, outcome);
      if (text === undefined) continue;
      outcome.filesScanned++;
      if (planFileEdits(text, request).edits.length > 0) candidates.push({ uri, label });
    }
    if (candidates.length === 0) return outcome;

    // Plans are made again on the documents themselves: their text (unsaved changes, decoded
    // with the file's encoding) is what the edit's positions refer to.
    const edit = new vscode.WorkspaceEdit();
    const planned: Array<Candidate & { document: vscode.TextDocument; plan: FilePlan; wasDirty: boolean }> = [];
    for (const candidate of candidates) {
      const document = await vscode.workspace.openTextDocument(candidate.uri);
      const plan = planFileEdits(document.getText(), request);
      if (plan.edits.length === 0) continue;
      planned.push({ ...candidate, document, plan, wasDirty: document.isDirty });
    }
    const metadata: vscode.WorkspaceEditEntryMetadata = {
      needsConfirmation: request.preview,
      label: previewLabel(
        planned.flatMap((p) => p.plan.edits.map((e) => e.oldToken)),
        request.newToken,
      ),
      description: 'Profilegate token rotation',
    };
    for (const { uri, document, plan } of planned) {
      for (const e of plan.edits) {
        const range = new vscode.Range(document.positionAt(e.start), document.positionAt(e.end));
        edit.replace(uri, range, e.newText, metadata);
      }
    }
    const applied = await vscode.workspace.applyEdit(edit, { isRefactoring: true });

    for (const file of planned) {
      const remaining = countCopies(file.document.getText(), file.plan.oldTokens);
      const replaced = Math.max(0, file.plan.edits.length - remaining);
      outcome.notApplied += file.plan.edits.length - replaced;
      if (replaced === 0) continue;
      outcome.copies += replaced;
      outcome.changed.push({ uri: file.uri.toString(), label: file.label, copies: replaced });
      // A file that already had unsaved changes is left for its owner to save.
      const saved = !file.wasDirty && (await file.document.save());
      if (!saved) outcome.unsaved.push(file.label);
    }
    if (!applied && outcome.copies === 0 && !request.preview) {
      throw new Error('VS Code did not apply the edits (a file may be read-only or changed meanwhile)');
    }
    return outcome;
  }

  /** The text to search: the open document's (with unsaved changes), else the file's; undefined when skipped. */
  private async readText(uri: vscode.Uri, label: string, outcome: FileUpdateOutcome): Promise<string | undefined> {
    const open = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === uri.toString());
    if (open !== undefined) {
      if (open.getText().length > this.maxFileBytes) {
        outcome.skipped.push({ label, reason: 'too-large' });
        return undefined;
      }
      return open.getText();
    }
    let bytes: Uint8Array;
    try {
      const stat = await vscode.workspace.fs.stat(uri);
      if (stat.size > this.maxFileBytes) {
        outcome.skipped.push({ label, reason: 'too-large' });
        return undefined;
      }
      bytes = await vscode.workspace.fs.readFile(uri);
    } catch {
      outcome.skipped.push({ label, reason: 'unreadable' });
      return undefined;
    }
    if (bytes.length > this.maxFileBytes) {
      outcome.skipped.push({ label, reason: 'too-large' });
      return undefined;
    }
    if (looksBinary(bytes)) {
      outcome.skipped.push({ label, reason: 'binary' });
      return undefined;
    }
    return new TextDecoder('utf-8').decode(bytes);
  }
}
