import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { findTokensOfClient } from './jwt-client';
import { replaceTokens } from './references';
import { selectFiles, type FileSelection } from './walk';

/** Default size cap: bigger files are skipped (a config file holding a token is never that big). */
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
/** How much of a file is checked for a NUL byte to call it binary (as git does). */
const BINARY_SNIFF_BYTES = 8192;

/** Why a file was not scanned. */
export type SkipReason = 'binary' | 'too-large' | 'unreadable';

/** Options of updateTokenInFiles. */
export interface UpdateTokenInFilesOptions extends FileSelection {
  /** Tokens to replace (e.g. the server's current token, read before regenerating). */
  oldTokens: readonly string[];
  /** The token written instead. */
  newToken: string;
  /** When set, other profile tokens of this client found in the files are replaced too. */
  client?: string;
  /** Files over this many bytes are skipped (default 1 MiB). */
  maxFileBytes?: number;
  /** Count what would change, write nothing. */
  dryRun?: boolean;
  /** Called after each file is scanned. */
  onProgress?: (progress: { path: string; filesScanned: number; filesTotal: number }) => void;
}

/** A file that holds (dry run) or held copies of an old token. */
export interface ChangedFile {
  /** Absolute path. */
  path: string;
  copies: number;
}

/** Result of updateTokenInFiles. */
export interface UpdateTokenInFilesResult {
  filesScanned: number;
  filesChanged: ChangedFile[];
  skipped: Array<{ path: string; reason: SkipReason }>;
  /** Copies replaced (or that would be), all files together. */
  copies: number;
  /** Paths named in `files` (not globs) that do not exist. */
  missing: string[];
}

/** The JS string whose latin1 code units are the UTF-8 bytes of `text`: byte-exact matching. */
function asBytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/**
 * Replaces every copy of the old tokens (and, with `client`, of any older token of that client it
 * recognises) by `newToken` in the selected files. Binary files and files over the size cap are
 * skipped. Each changed file is written atomically (temporary file, then rename) with its mode
 * kept; all other bytes, line endings included, stay as they were.
 */
export async function updateTokenInFiles(options: UpdateTokenInFilesOptions): Promise<UpdateTokenInFilesResult> {
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const { files, missing } = await selectFiles(options);
  const newToken = asBytes(options.newToken);
  const olds = options.oldTokens.filter((t) => t !== '' && t !== options.newToken).map(asBytes);
  const result: UpdateTokenInFilesResult = { filesScanned: 0, filesChanged: [], skipped: [], copies: 0, missing };

  for (const path of files) {
    const outcome = await updateOneFile(path, olds, newToken, options.client, maxBytes, options.dryRun === true);
    if (typeof outcome === 'string') {
      result.skipped.push({ path, reason: outcome });
    } else {
      result.filesScanned++;
      if (outcome > 0) {
        result.filesChanged.push({ path, copies: outcome });
        result.copies += outcome;
      }
    }
    options.onProgress?.({ path, filesScanned: result.filesScanned, filesTotal: files.length });
  }
  return result;
}

/** Copies replaced in one file, or why it was skipped. */
async function updateOneFile(
  path: string,
  olds: readonly string[],
  newToken: string,
  client: string | undefined,
  maxBytes: number,
  dryRun: boolean,
): Promise<number | SkipReason> {
  let bytes: Buffer;
  let mode: number;
  try {
    const stat = await fs.stat(path);
    if (stat.size > maxBytes) return 'too-large';
    mode = stat.mode & 0o7777;
    bytes = await fs.readFile(path);
  } catch {
    return 'unreadable';
  }
  if (bytes.length > maxBytes) return 'too-large';
  if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return 'binary';

  const text = bytes.toString('latin1');
  const replacements = new Map<string, string>();
  for (const old of olds) replacements.set(old, newToken);
  if (client !== undefined) {
    for (const older of findTokensOfClient(text, client)) if (older !== newToken) replacements.set(older, newToken);
  }
  if (replacements.size === 0) return 0;
  const replaced = replaceTokens(text, replacements);
  if (replaced.copies > 0 && !dryRun) await writeFileAtomically(path, Buffer.from(replaced.text, 'latin1'), mode);
  return replaced.copies;
}

/** Writes `data` to a temporary file beside `path`, flushes it, then renames it over `path`. */
export async function writeFileAtomically(path: string, data: Buffer, mode: number): Promise<void> {
  // Through a symlink, the file it points to is replaced, not the link.
  const target = await fs.realpath(path).catch(() => path);
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.profilegate-tmp`);
  const handle = await fs.open(temp, 'wx', mode);
  try {
    try {
      await handle.writeFile(data);
      // open's mode is filtered by the umask; the file keeps exactly the mode it had.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
