/**
 * What tarballs.test.ts does to the repo's workspaces as an outside user would: `npm pack` them,
 * make a fresh app folder, `npm install` tarballs into it (offline from the npm cache where it
 * can), run commands there. Nothing here names a registry: npm uses its own configuration.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repo root (this file runs as test/dist/packaging/tarball-apps.js). */
export const ROOT = resolve(__dirname, '..', '..', '..');

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  main?: string;
  types?: string;
  exports?: Record<string, unknown>;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface Workspace {
  /** Folder relative to the repo root, as the root package.json lists it. */
  dir: string;
  manifest: Manifest;
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/**
 * The workspaces an outside user installs with npm: every entry of the root package.json's
 * `workspaces` except private ones (the cross-package tests) and VS Code extensions (a .vsix).
 */
export function publishableWorkspaces(): Workspace[] {
  const { workspaces } = readJson<{ workspaces: string[] }>(join(ROOT, 'package.json'));
  return workspaces
    .map((dir) => ({ dir, manifest: readJson<Manifest>(join(ROOT, dir, 'package.json')) }))
    .filter(({ manifest }) => manifest.private !== true && manifest.engines?.['vscode'] === undefined);
}

/** Which workspaces an app installs: those it needs, and those only ever wanted as optional dependencies. */
export interface InstallPlan {
  required: Workspace[];
  optional: Workspace[];
}

/**
 * The workspaces an app that wants `roots` installs: the roots and every workspace they depend on
 * (required), and the workspaces reached only through `optionalDependencies` (optional: an app
 * lists them as optional too, so a failed native build does not fail its install).
 */
export function installPlan(roots: readonly string[], workspaces: readonly Workspace[]): InstallPlan {
  const byName = new Map(workspaces.map((w) => [w.manifest.name, w]));
  const required = new Set<Workspace>();
  const optional = new Set<Workspace>();
  const visit = (name: string, isOptional: boolean) => {
    const workspace = byName.get(name);
    if (!workspace || required.has(workspace) || (isOptional && optional.has(workspace))) return;
    if (isOptional) optional.add(workspace);
    else {
      optional.delete(workspace);
      required.add(workspace);
    }
    const { dependencies = {}, optionalDependencies = {} } = workspace.manifest;
    for (const dependency of Object.keys(dependencies)) visit(dependency, isOptional);
    for (const dependency of Object.keys(optionalDependencies)) visit(dependency, true);
  };
  for (const root of roots) visit(root, false);
  return { required: [...required], optional: [...optional] };
}

/** Every publishable workspace that no other one lists as an optional dependency: what a full app installs. */
export function nonOptionalNames(workspaces: readonly Workspace[]): string[] {
  const optional = new Set(workspaces.flatMap((w) => Object.keys(w.manifest.optionalDependencies ?? {})));
  return workspaces.map((w) => w.manifest.name).filter((name) => !optional.has(name));
}

/**
 * The module specifiers a TypeScript user imports: each entry of a package's `exports` that has
 * declarations (`@profilegate/middleware/testing`, …), or the package itself when it has `types`.
 */
export function typedEntries(workspaces: readonly Workspace[]): string[] {
  return workspaces.flatMap(({ manifest }) => {
    if (!manifest.exports) return manifest.types ? [manifest.name] : [];
    return Object.entries(manifest.exports)
      .filter(([, target]) => typeof target === 'object' && target !== null && 'types' in target)
      .map(([subpath]) => manifest.name + subpath.slice(1));
  });
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of every command: npm's own `npm_*` variables (set by `npm test`) left out. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && name !== 'INIT_CWD') env[name] = value;
  }
  return env;
}

/** Runs a command to its end; never rejects for a non-zero exit (the caller asserts on it). */
export function run(command: string, args: readonly string[], cwd: string): Promise<Finished> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The last lines of a command's output, for a failure message. */
export function tail(text: string, lines = 25): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * `npm pack` of the given workspaces into `destination`, in one npm run, without lifecycle scripts
 * (the packages are built by `tsc -b` before the tests). Returns each package's tarball path.
 */
export async function packWorkspaces(workspaces: readonly Workspace[], destination: string) {
  for (const { dir, manifest } of workspaces) {
    if (manifest.main && !existsSync(join(ROOT, dir, manifest.main))) {
      throw new Error(`${dir}/${manifest.main} is missing: build the packages first (npx tsc -b)`);
    }
  }
  mkdirSync(destination, { recursive: true });
  const args = ['pack', '--json', '--ignore-scripts', '--pack-destination', destination];
  for (const { dir } of workspaces) args.push('--workspace', dir);
  const packed = await run('npm', args, ROOT);
  if (packed.code !== 0) throw new Error(`npm ${args.join(' ')} failed:\n${tail(packed.stderr)}`);
  const tarballs = new Map<string, string>();
  for (const entry of JSON.parse(packed.stdout) as { name: string; filename: string }[]) {
    tarballs.set(entry.name, join(destination, entry.filename));
  }
  return tarballs;
}

/**
 * A fresh app folder's package.json, its dependencies as a user would write them (`file:` paths
 * to tarballs, registry versions); install scripts approved as the repo approves them.
 */
export function writeAppManifest(
  app: string,
  name: string,
  dependencies: Record<string, string>,
  optionalDependencies: Record<string, string> = {},
): void {
  const { allowScripts } = readJson<{ allowScripts?: Record<string, boolean> }>(join(ROOT, 'package.json'));
  const manifest = { name, version: '0.0.0', private: true, dependencies, optionalDependencies, allowScripts };
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

export interface Installed {
  /** Wall time of the install that succeeded, in seconds. */
  seconds: number;
  /** How it reached the packages: `--offline`, or `--prefer-offline` when the cache lacked some. */
  mode: '--offline' | '--prefer-offline';
  /** npm's closing line ("added 77 packages in 1m"). */
  summary: string;
}

/**
 * `npm install` in `app` (of its package.json, and of `specs` when given): first `--offline`, from
 * the npm cache alone; when the cache lacks something (ENOTCACHED), again with `--prefer-offline`.
 */
export async function npmInstall(app: string, specs: readonly string[] = []): Promise<Installed> {
  const attempt = async (mode: Installed['mode']) => {
    const started = performance.now();
    const result = await run('npm', ['install', mode, '--no-audit', '--no-fund', ...specs], app);
    return { result, seconds: (performance.now() - started) / 1000 };
  };
  let mode: Installed['mode'] = '--offline';
  let { result, seconds } = await attempt(mode);
  if (result.code !== 0 && /ENOTCACHED/.test(result.stderr)) {
    mode = '--prefer-offline';
    ({ result, seconds } = await attempt(mode));
  }
  if (result.code !== 0) {
    throw new Error(`npm install ${mode} ${specs.join(' ')}failed in ${app}:\n${tail(result.stderr)}`);
  }
  const summary = /^(added|changed|up to date).*$/m.exec(result.stdout)?.[0] ?? '';
  return { seconds, mode, summary };
}

interface LsNode {
  dependencies?: Record<string, LsNode>;
}

/** Every package name in an `npm ls --all --json` tree, with the first path that reaches it. */
export function packagesInTree(tree: LsNode): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (node: LsNode, path: readonly string[]) => {
    for (const [name, child] of Object.entries(node.dependencies ?? {})) {
      const here = [...path, name];
      if (!found.has(name)) found.set(name, here.join(' > '));
      visit(child, here);
    }
  };
  visit(tree, []);
  return found;
}
