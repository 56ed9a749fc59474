/**
 * The sentences the extension shows after a command: counts with the right plural, time left in
 * days, and the rotation summary ("New token expires in 90 days. Updated 3 copies in 2 files.").
 * `scrubTokens` is the last line of defence that keeps a whole JWT out of any text shown or logged.
 */
import { describeSeconds, describeTimeLeft, maskToken } from '@profilegate/client';

/** Title of the command that finishes a replacement (package.json declares the same). */
export const REPLACE_OLD_TOKENS_TITLE = 'Replace Old Tokens in Workspace';

/** `1 copy`, `2 copies`, `0 files`. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** `2027-02-20` of an epoch-ms instant (UTC, as the server reports times). */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

const JWT_ANYWHERE = /eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+/g;

/** `text` with every whole JWT in it masked (`eyJhbG…Xy9Q`). */
export function scrubTokens(text: string): string {
  return text.replace(JWT_ANYWHERE, (jwt) => maskToken(jwt));
}

/** What the workspace update did, as the summary needs it. */
export interface FilesSummary {
  copies: number;
  files: number;
  /** Copies found but not replaced because they were left unticked or discarded in the preview. */
  notApplied: number;
  /** Files changed but not saved, because they had unsaved changes of their own or saving failed. */
  unsaved: number;
  /** No folder was open, so nothing was searched. */
  noWorkspace: boolean;
}

/** "Updated 3 copies in 2 files." plus what was left undone and how to finish it. */
export function describeFilesUpdate(summary: FilesSummary): string {
  if (summary.noWorkspace) return 'No folder is open, so no file was searched.';
  const parts = [`Updated ${count(summary.copies, 'copy', 'copies')} in ${count(summary.files, 'file')}.`];
  if (summary.notApplied > 0) {
    const one = summary.notApplied === 1;
    parts.push(
      `${count(summary.notApplied, 'copy', 'copies')} of an old token ${one ? 'was' : 'were'} left as ${one ? 'it was' : 'they were'} (unticked in the preview, or ${one ? 'its file' : 'their files'} changed meanwhile): requests that send ${one ? 'it' : 'them'} get 401 once the old token stops working. ` +
        `Choose Replace Old Tokens, or run Profilegate: ${REPLACE_OLD_TOKENS_TITLE}, to replace ${one ? 'it' : 'them'}.`,
    );
  }
  if (summary.unsaved > 0) {
    parts.push(
      `${count(summary.unsaved, 'changed file')} ${summary.unsaved === 1 ? 'is' : 'are'} not saved yet (${summary.unsaved === 1 ? 'it' : 'they'} had unsaved changes of ${summary.unsaved === 1 ? 'its' : 'their'} own): save ${summary.unsaved === 1 ? 'it' : 'them'}, or the disk keeps the old token.`,
    );
  }
  return parts.join(' ');
}

/** The message after Generate New Profile Authentication Token succeeded. */
export function describeGenerated(options: {
  expiresInMs: number;
  previousTokenGraceSeconds: number;
  files: FilesSummary;
}): string {
  const parts = [`New token expires in ${describeTimeLeft(options.expiresInMs)}.`, describeFilesUpdate(options.files)];
  if (options.previousTokenGraceSeconds > 0) {
    parts.push(`The previous token keeps working for ${describeSeconds(options.previousTokenGraceSeconds)}.`);
  }
  return parts.join(' ');
}

/** Whether the workspace step left copies of an old token behind (on disk or in the editors). */
export function leftCopiesBehind(summary: FilesSummary): boolean {
  return summary.notApplied > 0 || summary.unsaved > 0;
}

/** The message after Replace Old Tokens in Workspace succeeded. */
export function describeReplaced(options: {
  storedFromServer: boolean;
  expiresInMs: number;
  files: FilesSummary;
}): string {
  const what = options.storedFromServer ? 'Stored the server’s current token' : 'Put the stored token in the workspace';
  return `${what} (expires in ${describeTimeLeft(options.expiresInMs)}). ${describeFilesUpdate(options.files)}`;
}

/** The message after Update Stored Token… succeeded. */
export function describeStored(options: { reapplied?: boolean; expiresInMs: number; files: FilesSummary }): string {
  const what = options.reapplied === true ? 'Applied the stored token' : 'Stored the new token';
  return `${what} (expires in ${describeTimeLeft(options.expiresInMs)}). ${describeFilesUpdate(options.files)}`;
}
