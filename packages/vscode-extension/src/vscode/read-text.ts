/**
 * Reads a workspace file's text the way every scan of the extension does: the open document's
 * (with its unsaved changes) when there is one, else the file's bytes as UTF-8; files over the
 * size cap and binary files (a NUL byte) are skipped, never searched.
 */
import * as vscode from 'vscode';
import { looksBinary } from '../logic/rotation-plan';

/** Why a file was not searched. */
export type SkipReason = 'binary' | 'too-large' | 'unreadable';

/** The text to search, or why there is none. */
export type ReadText = { text: string } | { skipped: SkipReason };

/** The open document of `uri`, if any. */
export function openDocument(uri: vscode.Uri): vscode.TextDocument | undefined {
  return vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === uri.toString());
}

/** The text of `uri` to search, with the editor's unsaved changes when it is open. */
export async function readText(uri: vscode.Uri, maxFileBytes: number): Promise<ReadText> {
  const open = openDocument(uri);
  if (open !== undefined) {
    return open.getText().length > maxFileBytes ? { skipped: 'too-large' } : { text: open.getText() };
  }
  let bytes: Uint8Array;
  try {
    const stat = await vscode.workspace.fs.stat(uri);
    if (stat.size > maxFileBytes) return { skipped: 'too-large' };
    bytes = await vscode.workspace.fs.readFile(uri);
  } catch {
    return { skipped: 'unreadable' };
  }
  if (bytes.length > maxFileBytes) return { skipped: 'too-large' };
  if (looksBinary(bytes)) return { skipped: 'binary' };
  return { text: new TextDecoder('utf-8').decode(bytes) };
}

/** The workspace files to search: every file but those matching `exclude` (VS Code's files.exclude ignored). */
export async function workspaceFiles(exclude: string | undefined): Promise<vscode.Uri[]> {
  if ((vscode.workspace.workspaceFolders ?? []).length === 0) return [];
  // null, not undefined: the configured glob alone decides (files.exclude would hide copies).
  const uris = await vscode.workspace.findFiles('**/*', exclude ?? null);
  return uris.sort((a, b) => (a.toString() < b.toString() ? -1 : a.toString() > b.toString() ? 1 : 0));
}
