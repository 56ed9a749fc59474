import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * The layering of DESIGN.md: `cli → client` and `vscode-extension → client`, and the client loads
 * no server part. Installing the CLI must not build a database driver nor pull in a JWT library.
 */
const root = join(__dirname, '..', '..', '..', '..');
const SERVER_ONLY = ['@profilegate/core', 'better-sqlite3', 'pg', 'jsonwebtoken', 'express'];

interface Manifest {
  name?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function manifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** What an install of the package brings along (devDependencies are not installed for a user). */
function runtimeDependencies(pkg: Manifest): string[] {
  return Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies });
}

function isServerOnly(specifier: string): boolean {
  return SERVER_ONLY.some((name) => specifier === name || specifier.startsWith(`${name}/`));
}

function filesUnder(dir: string, extension: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && extension.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Module specifiers of `import … from`, `export … from`, `import('…')`, `require('…')` and `import '…'`. */
function specifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
  ];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1] as string);
  return found;
}

/** `file: specifier` for every import of a server-only package in the files. */
function serverImports(files: string[]): string[] {
  const offenders: string[] = [];
  for (const file of files) {
    for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
      if (isServerOnly(specifier)) offenders.push(`${relative(root, file)}: ${specifier}`);
    }
  }
  return offenders;
}

/** The folder of an installed package, looked up as Node does (node_modules upwards from `from`). */
function installedDir(name: string, from: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

/** Every package an install of the package at `dir` brings along, transitively. */
function installClosure(dir: string): string[] {
  const seen = new Set<string>();
  const pending: Array<[string, string]> = runtimeDependencies(manifest(dir)).map((name) => [name, dir]);
  while (pending.length > 0) {
    const [name, from] = pending.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const found = installedDir(name, from);
    if (found === null) continue; // an optional dependency not installed here
    for (const next of runtimeDependencies(manifest(found))) pending.push([next, found]);
  }
  return [...seen].sort();
}

describe('dependency direction (cli → client, vscode-extension → client)', () => {
  const client = join(root, 'packages', 'client');
  const cli = join(root, 'packages', 'cli');
  const extension = join(root, 'packages', 'vscode-extension');

  it('the client package declares no server-only dependency', () => {
    const pkg = manifest(client);
    assert.equal(pkg.name, '@profilegate/client');
    assert.deepEqual(runtimeDependencies(pkg).filter(isServerOnly), []);
  });

  it("the client's compiled code imports no server-only package", () => {
    const compiled = filesUnder(join(client, 'dist', 'src'), /\.js$/);
    assert.ok(compiled.length > 0, 'packages/client is built (npx tsc -b)');
    assert.deepEqual(serverImports(compiled), []);
  });

  it('the CLI and the extension depend on the client, not on core', () => {
    for (const dir of [cli, extension]) {
      const dependencies = runtimeDependencies(manifest(dir));
      assert.ok(dependencies.includes('@profilegate/client'), `${relative(root, dir)} depends on @profilegate/client`);
      assert.deepEqual(dependencies.filter(isServerOnly), [], relative(root, dir));
    }
  });

  it('the sources of the CLI and the extension import nothing from core or a server-only package', () => {
    const sources = [...filesUnder(join(cli, 'src'), /\.ts$/), ...filesUnder(join(extension, 'src'), /\.ts$/)];
    assert.ok(sources.length > 0);
    assert.deepEqual(serverImports(sources), []);
  });

  it('installing the CLI brings no database driver, JWT library or Express', () => {
    assert.deepEqual(installClosure(cli).filter(isServerOnly), []);
  });
});
