import { randomBytes } from 'node:crypto';
import { closeSync, openSync, promises as fs, readSync, statSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { basename, dirname, join } from 'node:path';
import { findTokensOfClient } from './jwt-client';
import { holds } from './byte-search';
import { encodeToken, replaceTokens } from './references';
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

/** Every JWT starts with the base64url of `{"`; a file without it holds no token of any client. */
const JWT_START = Buffer.from('eyJ', 'latin1');
/** Longest stretch, in ms, of reading files before letting the event loop run (progress, UI). */
const SLICE_MS = 20;
/** Changed files being written at once (each write ends with an fsync, which is slow alone). */
const WRITE_CONCURRENCY = 8;

/**
 * Byte strings of which a file must hold at least one to need a change: each way an old token can
 * be written (see findTokenReferences) and, when other tokens of `client` are looked for, the
 * start of a JWT. Most files hold none, and searching bytes is far cheaper than decoding them.
 */
function needlesOf(olds: readonly string[], client: string | undefined): Buffer[] {
  const forms = new Set<string>();
  for (const old of olds) {
    for (const encoding of ['raw', 'json-escaped', 'json-escaped-slash'] as const)
      forms.add(encodeToken(old, encoding));
  }
  const needles = [...forms].map((form) => Buffer.from(form, 'latin1'));
  if (client !== undefined) needles.push(JWT_START);
  // A needle holding another is found only where that one is: searching the shorter is enough.
  return needles.filter(
    (needle, i) => !needles.some((other, j) => j !== i && other.length < needle.length && needle.includes(other)),
  );
}

/**
 * Replaces every copy of the old tokens (and, with `client`, of any older token of that client it
 * recognises) by `newToken` in the selected files. Binary files and files over the size cap are
 * skipped. Each changed file is written atomically (temporary file, then rename) with its mode
 * kept; all other bytes, line endings included, stay as they were.
 *
 * Files are read with synchronous calls in slices of about 20 ms, between which the event loop
 * runs: for thousands of small files that is several times quicker than a promise per call.
 * Changed files are written a few at a time while reading goes on.
 */
export async function updateTokenInFiles(options: UpdateTokenInFilesOptions): Promise<UpdateTokenInFilesResult> {
  const { files, missing } = await selectFiles(options);
  const olds = options.oldTokens.filter((t) => t !== '' && t !== options.newToken).map(asBytes);
  const job: FileJob = {
    olds,
    newToken: asBytes(options.newToken),
    client: options.client,
    scratch: Buffer.allocUnsafe((options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES) + 1),
    needles: needlesOf(olds, options.client),
  };
  const result: UpdateTokenInFilesResult = { filesScanned: 0, filesChanged: [], skipped: [], copies: 0, missing };
  const writes = new WriteQueue(WRITE_CONCURRENCY);
  let sliceStart = performance.now();
  try {
    for (const path of files) {
      const outcome = scanFile(path, job);
      if (typeof outcome === 'string') {
        result.skipped.push({ path, reason: outcome });
      } else {
        result.filesScanned++;
        if (outcome !== null) {
          if (options.dryRun !== true) await writes.add(() => writeFileAtomically(path, outcome.data, outcome.mode));
          result.filesChanged.push({ path, copies: outcome.copies });
          result.copies += outcome.copies;
        }
      }
      options.onProgress?.({ path, filesScanned: result.filesScanned, filesTotal: files.length });
      if (performance.now() - sliceStart >= SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
  } finally {
    await writes.settle();
  }
  writes.throwIfFailed();
  return result;
}

/** What every file of one run is checked against (tokens as latin1 strings of their UTF-8 bytes). */
interface FileJob {
  olds: readonly string[];
  newToken: string;
  client: string | undefined;
  /** maxFileBytes + 1 bytes that every file is read into in turn. */
  scratch: Buffer;
  needles: readonly Buffer[];
}

/** A file to write: its new bytes, its mode and the copies replaced. */
interface Change {
  data: Buffer;
  mode: number;
  copies: number;
}

/**
 * The file's bytes, or why it is not scanned. Read into `scratch` (maxBytes + 1 long, reused for
 * every file) until the end or one byte over the cap: no stat and no allocation per file.
 */
function readSmallFile(path: string, scratch: Buffer): Buffer | SkipReason {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 'unreadable';
  }
  try {
    let length = 0;
    while (length < scratch.length) {
      const read = readSync(fd, scratch, length, scratch.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return length === scratch.length ? 'too-large' : scratch.subarray(0, length);
  } catch {
    return 'unreadable';
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Nothing was written through it; a failed close loses nothing.
    }
  }
}

/** What to write to one file (null: nothing to change), or why it was skipped. */
function scanFile(path: string, job: FileJob): Change | null | SkipReason {
  const bytes = readSmallFile(path, job.scratch);
  if (typeof bytes === 'string') return bytes;
  if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return 'binary';
  if (!job.needles.some((needle) => holds(bytes, needle))) return null;

  const text = bytes.toString('latin1');
  const replacements = new Map<string, string>();
  for (const old of job.olds) replacements.set(old, job.newToken);
  if (job.client !== undefined) {
    for (const older of findTokensOfClient(text, job.client)) {
      if (older !== job.newToken) replacements.set(older, job.newToken);
    }
  }
  if (replacements.size === 0) return null;
  const replaced = replaceTokens(text, replacements);
  if (replaced.copies === 0) return null;
  let mode: number;
  try {
    mode = statSync(path).mode & 0o7777;
  } catch {
    return 'unreadable';
  }
  return { data: Buffer.from(replaced.text, 'latin1'), mode, copies: replaced.copies };
}

/** Runs writes a few at a time; after the first failure it takes no more and keeps that error. */
class WriteQueue {
  private readonly running = new Set<Promise<void>>();
  private failed: { error: unknown } | null = null;

  constructor(private readonly limit: number) {}

  /** Starts `write` once a slot is free; throws the first failure of an earlier write. */
  async add(write: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    this.throwIfFailed();
    const running: Promise<void> = write().then(
      () => {
        this.running.delete(running);
      },
      (error: unknown) => {
        this.failed ??= { error };
        this.running.delete(running);
      },
    );
    this.running.add(running);
  }

  /** Waits for every write started. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
  }

  throwIfFailed(): void {
    if (this.failed) throw this.failed.error;
  }
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
