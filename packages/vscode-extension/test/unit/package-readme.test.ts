/**
 * The README as it is inside profilegate.vsix (the Marketplace page and the Extensions view of an
 * install from VSIX): vsce rewrites its relative links against the `repository` URL, but ignores
 * `repository.directory`, so without base URLs every screenshot pointed at
 * …/raw/HEAD/images/*.png, at the root of the repository, where there is no such file.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const packageDir = join(__dirname, '..', '..', '..');
const repoRoot = join(packageDir, '..', '..');
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
  repository?: { url?: string };
  scripts: Record<string, string>;
};

interface ReadmeProcessorLike {
  processFile(file: { path: string; contents: string }): Promise<{ contents: string | Buffer }>;
}

/** vsce's own README processor (the one `vsce package` runs), from the installed @vscode/vsce. */
function readmeProcessor(options: Record<string, string>): ReadmeProcessorLike {
  const vsceDir = dirname(require.resolve('@vscode/vsce/package.json', { paths: [packageDir] }));
  const { ReadmeProcessor } = require(join(vsceDir, 'out', 'package.js')) as {
    ReadmeProcessor: new (manifest: unknown, options: Record<string, string>) => ReadmeProcessorLike;
  };
  return new ReadmeProcessor(manifest, options);
}

/** `--baseImagesUrl <url>`-style flags of the package script. */
function packageFlags(): Record<string, string> {
  const flags: Record<string, string> = {};
  for (const [, name, value] of (manifest.scripts['package'] ?? '').matchAll(/--(base\w+Url)[ =](\S+)/g)) {
    flags[name as string] = value as string;
  }
  return flags;
}

describe('the README packaged into profilegate.vsix', () => {
  it('every image it shows is a file of the repository at the URL vsce writes', async () => {
    const repository = (manifest.repository?.url ?? '').replace(/\.git$/, '');
    assert.match(repository, /^https:\/\/github\.com\/[^/]+\/[^/]+$/);
    const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
    const processed = await readmeProcessor(packageFlags()).processFile({ path: 'README.md', contents: readme });
    const text = processed.contents.toString();
    const images = [...text.matchAll(/!\[[^\]]*\]\(([^)\s]+)/g)].map((match) => match[1] as string);
    assert.ok(images.length >= 3, `the README shows its screenshots (${images.length} found)`);
    for (const url of images) {
      const prefix = `${repository}/raw/HEAD/`;
      assert.ok(url.startsWith(prefix), `${url} is not a file of ${repository}`);
      const file = url.slice(prefix.length);
      assert.ok(existsSync(join(repoRoot, file)), `${url}: the repository has no ${file}`);
    }
  });
});
