import type { Dirent } from 'node:fs';
import { promises as fs } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
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

/** The path used to match globs: relative to `root` when inside it, else absolute. */
function matchPath(root: string, path: string): string {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? toPosix(rel) : toPosix(path);
}

async function isFile(path: string, entry: Dirent): Promise<boolean> {
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return (await fs.stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Every file under `dir` not excluded; excluded folders are not entered, symlinked folders neither. */
async function walk(root: string, dir: string, exclude: GlobSet, out: string[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM') return;
    throw error;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const rel = matchPath(root, path);
    if (entry.isDirectory()) {
      if (!exclude.matchesDirectory(rel)) await walk(root, path, exclude, out);
    } else if ((await isFile(path, entry)) && !exclude.matchesFile(rel)) {
      out.push(path);
    }
  }
}

async function statOrNull(path: string): Promise<import('node:fs').Stats | null> {
  try {
    return await fs.stat(path);
  } catch {
    return null;
  }
}

/** Resolves a selection of files, folders and globs into the files to scan. */
export async function selectFiles(selection: FileSelection): Promise<SelectedFiles> {
  const root = resolve(selection.root ?? process.cwd());
  const exclude = new GlobSet(selection.exclude ?? DEFAULT_EXCLUDES);
  const found: string[] = [];
  const missing: string[] = [];
  const items = selection.files ?? [root];
  for (const item of items) {
    const path = resolve(root, item);
    const stat = await statOrNull(path);
    if (stat?.isFile()) {
      // Named explicitly: scanned even when an exclude glob would match it.
      found.push(path);
    } else if (stat?.isDirectory()) {
      await walk(root, path, exclude, found);
    } else if (isGlob(item)) {
      // Include globs match like a shell's: `*.env` is in `root` only, `**/*.env` at any depth.
      const pattern = globToRegExp(toPosix(path));
      const candidates: string[] = [];
      await walk(root, resolve(root, globBase(item)), exclude, candidates);
      found.push(...candidates.filter((file) => pattern.test(toPosix(file))));
    } else {
      missing.push(item);
    }
  }
  // The same file reached twice (named and walked, or through a symlink) is scanned once.
  const seen = new Set<string>();
  const files: string[] = [];
  for (const file of found) {
    const real = await fs.realpath(file).catch(() => file);
    if (seen.has(real)) continue;
    seen.add(real);
    files.push(file);
  }
  return { files, missing };
}
