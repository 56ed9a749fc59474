/**
 * Replaces old tokens in the workspace the VS Code way: files found with `findFiles` (excluding
 * the configured glob), binary files and files over the size cap skipped, then ONE WorkspaceEdit
 * for all files, so open editors update and one undo reverts the rotation. With the preview on,
 * the edits need confirmation (Refactor Preview); otherwise they are applied and saved.
 * The counts are taken from the documents afterwards, so they tell what really changed.
 * `findClientTokens` lists the client's tokens in the same files, for Adopt Token Found in Workspace….
 */
import { DEFAULT_MAX_FILE_BYTES, findTokensOfClient } from '@profilegate/client';
import * as vscode from 'vscode';
import type { FileUpdateOutcome, FileUpdateRequest, FoundToken, TokenFileUpdater } from '../commands/ports';
import { countCopies, planFileEdits, previewLabel, type FilePlan } from '../logic/rotation-plan';
import { readText, workspaceFiles } from './read-text';

interface Candidate {
  uri: vscode.Uri;
  label: string;
}

/** The TokenFileUpdater over the open workspace folders. */
export class WorkspaceTokenFiles implements TokenFileUpdater {
  constructor(private readonly maxFileBytes = DEFAULT_MAX_FILE_BYTES) {}

  async findClientTokens(client: string, exclude: string | undefined): Promise<FoundToken[]> {
    const found = new Map<string, Set<string>>();
    const multiRoot = (vscode.workspace.workspaceFolders ?? []).length > 1;
    for (const uri of await workspaceFiles(exclude)) {
      const read = await readText(uri, this.maxFileBytes);
      if ('skipped' in read) continue;
      for (const token of findTokensOfClient(read.text, client)) {
        const files = found.get(token) ?? new Set<string>();
        files.add(vscode.workspace.asRelativePath(uri, multiRoot));
        found.set(token, files);
      }
    }
    return [...found].map(([token, files]) => ({ token, files: [...files].sort() }));
  }

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

    const candidates: Candidate[] = [];
    for (const uri of await workspaceFiles(request.exclude)) {
      const label = vscode.workspace.asRelativePath(uri, (vscode.workspace.workspaceFolders ?? []).length > 1);
      const read = await readText(uri, this.maxFileBytes);
      if ('skipped' in read) {
        outcome.skipped.push({ label, reason: read.skipped });
        continue;
      }
      outcome.filesScanned++;
      if (planFileEdits(read.text, request).edits.length > 0) candidates.push({ uri, label });
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
}
