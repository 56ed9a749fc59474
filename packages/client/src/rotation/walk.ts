import type { Dirent } from 'node:fs';
import { promises as fs, readdirSync, realpathSync, statSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { DEFAULT_EXCLUDES, GlobSet, globBase, globToRegExp, isGlob } from './glob';

/** What to walk: `files` (paths, folders or globs) relative to `root`, or all of `root`. */
export interface FileSelection {
  /** Base of relative paths and globs, and the folder walked when `files` is not given (default: cwd). */
  root?: string;
  /** Files, folders (walked) or globs (`config/**\/*.yaml`, `{.env,.env.*}`). */
  files?: readonly string[];
  /** Globs of files and folders left out of walks and glob matches (default: DEFAULT_EXCLUDES). */
  exclude?: readonly string[];
}

/** The files selected, absolute and without duplicates, and the explicit paths that do not exist. */
export interface SelectedFiles {
  files: string[];
  /** Paths named in `files` (not globs) that do not exist. */
  missing: string[];
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

function isFile(path: string, entry: Dirent): boolean {
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Files found, with their real paths where they differ from the path: known without a realpath
 * call when only a folder above is a link, null when the file is a link (or was named), resolved
 * with realpath when deduplicating. Most trees hold no links, so most files need no second string.
 */
class Found {
  readonly paths: string[] = [];
  readonly reals = new Map<number, string | null>();

  add(path: string, real: string | null): void {
    if (real !== path) this.reals.set(this.paths.length, real);
    this.paths.push(path);
  }

  /** True when a file's real path is unknown: it may be another file found too. */
  get hasLinks(): boolean {
    for (const real of this.reals.values()) if (real === null) return true;
    return false;
  }

  realOf(index: number): string {
    const path = this.paths[index]!;
    const real = this.reals.get(index);
    return real === undefined ? path : (real ?? realpathOr(path));
  }
}

/** Longest stretch, in ms, of listing folders before letting the event loop run. */
const SLICE_MS = 20;

/** `dir` (normalised) joined with an entry name, without path.join's normalising. */
function child(dir: string, name: string): string {
  return dir.endsWith(sep) ? dir + name : dir + sep + name;
}

/**
 * Walks with synchronous calls (a promise per folder costs more than the listing) and yields to
 * the event loop every SLICE_MS, so a huge tree does not freeze the process.
 */
class Walker {
  private sliceStart = performance.now();
  private entriesSinceClock = 0;

  constructor(
    private readonly root: string,
    private readonly exclude: GlobSet,
    readonly out: Found,
    /** Told of the files found so far, every 64 entries and after each folder. */
    private readonly onFound?: (paths: readonly string[]) => void,
  ) {}

  /**
   * Every file under `dir` not excluded; excluded folders are not entered, symlinked folders
   * neither, so a folder below `dir` has the real path of its parent plus its name.
   */
  async walk(dir: string, rel = this.relOf(dir), realDir = realpathOr(dir)): Promise<void> {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM') return;
      throw error;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const name = entry.name;
      const path = child(dir, name);
      // The path globs match: relative to the root when inside it, else absolute (built from the
      // folder's, not with a path.relative per file; a name starting with `..` reads as outside).
      const childRel =
        rel === null || (rel === '' && name.startsWith('..')) ? toPosix(path) : rel === '' ? name : `${rel}/${name}`;
      if (entry.isDirectory()) {
        if (!this.exclude.matchesDirectory(childRel)) {
          await this.walk(path, rel === null ? null : childRel, child(realDir, name));
        }
      } else if (isFile(path, entry) && !this.exclude.matchesFile(childRel)) {
        this.out.add(path, entry.isSymbolicLink() ? null : realDir === dir ? path : child(realDir, name));
      }
      if (++this.entriesSinceClock >= 64) {
        this.entriesSinceClock = 0;
        this.onFound?.(this.out.paths);
        if (performance.now() - this.sliceStart >= SLICE_MS) {
          await yieldToEventLoop();
          this.sliceStart = performance.now();
        }
      }
    }
    this.onFound?.(this.out.paths);
  }

  /** The path globs match for `dir`: '' for the root, relative inside it, null (absolute) outside. */
  private relOf(dir: string): string | null {
    const rel = relative(this.root, dir);
    if (rel === '') return '';
    return !rel.startsWith('..') && !isAbsolute(rel) ? toPosix(rel) : null;
  }
}

/** The real path (links resolved), or `path` itself when it cannot be resolved. */
function realpathOr(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}

async function statOrNull(path: string): Promise<import('node:fs').Stats | null> {
  try {
    return await fs.stat(path);
  } catch {
    return null;
  }
}

/**
 * Resolves a selection of files, folders and globs into the files to scan. When the selection is
 * one folder, `onFound` is told of the files found as the walk goes, in an array that only grows
 * and that is then `files` itself, unless links made the list change.
 */
export async function selectFiles(
  selection: FileSelection,
  onFound?: (paths: readonly string[]) => void,
): Promise<SelectedFiles> {
  const root = resolve(selection.root ?? process.cwd());
  const exclude = new GlobSet(selection.exclude ?? DEFAULT_EXCLUDES);
  const found = new Found();
  const missing: string[] = [];
  const items = selection.files ?? [root];
  for (const item of items) {
    const path = resolve(root, item);
    const stat = await statOrNull(path);
    if (stat?.isFile()) {
      // Named explicitly: scanned even when an exclude glob would match it.
      found.add(path, null); // it may be or sit under a link: resolved on its own
    } else if (stat?.isDirectory()) {
      await new Walker(root, exclude, found, items.length === 1 ? onFound : undefined).walk(path);
    } else if (isGlob(item)) {
      // Include globs match like a shell's: `*.env` is in `root` only, `**/*.env` at any depth.
      const pattern = globToRegExp(toPosix(path));
      const candidates = new Found();
      await new Walker(root, exclude, candidates).walk(resolve(root, globBase(item)));
      candidates.paths.forEach((file, index) => {
        if (pattern.test(toPosix(file)))
          found.add(file, candidates.reals.has(index) ? candidates.reals.get(index)! : file);
      });
    } else {
      missing.push(item);
    }
  }
  // One walk without links finds each file once (it never enters a linked folder).
  if (items.length === 1 && !found.hasLinks) return { files: found.paths, missing };
  // The same file reached twice (named and walked, or through a symlink) is scanned once.
  const seen = new Set<string>();
  const files: string[] = [];
  found.paths.forEach((path, index) => {
    const real = found.realOf(index);
    if (seen.has(real)) return;
    seen.add(real);
    files.push(path);
  });
  return { files, missing };
}
