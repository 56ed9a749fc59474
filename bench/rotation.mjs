// Figure 5: token rotation across a project. updateTokenInFiles (what `profilegate token replace`
// runs; the VS Code extension finds copies with the same client functions but edits through VS
// Code's workspace edits) over a generated tree of 10,000 files / about 100 MB holding 100 copies of a
// profile token. Both sides are timed the same way (issue 18): each run is a whole process, from
// spawn to exit, and the runs are interleaved. Anchors: `rg -F -l` only listing the files that
// hold the token, and the same job done by `rg -F -l -0 | xargs -0 sed -i` followed by an fsync
// of the changed files (`sync FILE…`: the updater's guarantee that a change is on disk). With the
// native prefilter when it is built; runs without it are reported too, for information. Each run
// swaps the token back and forth, so every run replaces the same 100 copies. Medians of --runs.
//   node bench/rotation.mjs [--json] [--runs N] [--files N] [--rg PATH] [--keep]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argValue, emitJson, median, progress } from './lib.mjs';

const require = createRequire(import.meta.url);
const RUNS = Number(argValue('--runs', 11));
const FILES = Number(argValue('--files', 10_000));
const COPIES = 100;
const RG = argValue('--rg', '/usr/bin/rg');
const CLIENT = 'demo';

/** Two profile tokens of the client (the current one, found in the files, and its replacement). */
async function tokens() {
  const { MemoryStore, TokenService, KeyRing, generateSigningKey } = require('../packages/core/dist/src/index.js');
  const store = new MemoryStore();
  const service = new TokenService({ store, keys: new KeyRing([generateSigningKey(Date.now())]) });
  const a = (await service.generate(CLIENT, { actor: 'bench' })).accessToken;
  const b = (await service.generate(CLIENT, { actor: 'bench' })).accessToken;
  const other = (await service.generate('other-app', { actor: 'bench' })).accessToken;
  service.dispose();
  return { a, b, other };
}

/**
 * The tree: 100 folders of 100 files, mostly source and config text of 1–40 KB, a tenth binaries,
 * two files over the updater's 1 MiB cap; `copies` files get one or two copies of `token`, and
 * 200 files hold a token of another client (a JWT the updater must look at and leave alone).
 */
function generateTree(root, token, other) {
  let seed = 7;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const kinds = [
    ['ts', 0.35],
    ['json', 0.15],
    ['yaml', 0.1],
    ['md', 0.1],
    ['sh', 0.05],
    ['env', 0.05],
    ['png', 0.1],
    ['txt', 0.1],
  ];
  const kindOf = () => {
    let r = rand();
    for (const [kind, share] of kinds) if ((r -= share) < 0) return kind;
    return 'txt';
  };
  // Lines of the kinds real projects hold, so letters and symbols come at realistic frequencies.
  const corpus = [
    "import { readFileSync } from 'node:fs';",
    'export async function loadConfig(path: string): Promise<Config> {',
    "  const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<Config>;",
    '  if (!raw.apiUrl) throw new Error(`Missing apiUrl in ${path}`);',
    '  return { retries: 3, timeoutMs: 5_000, ...raw } satisfies Config;',
    '}',
    '  "name": "@acme/storefront", "version": "2.14.1", "private": true,',
    '  "dependencies": { "express": "^5.1.0", "zod": "^3.23.8" },',
    'services:',
    '  web:',
    '    image: ghcr.io/acme/storefront:2.14.1',
    '    environment:',
    '      - NODE_ENV=production',
    'DATABASE_URL=postgres://app@db.internal:5432/storefront',
    'LOG_LEVEL=info',
    'set -euo pipefail',
    'for file in dist/*.js; do gzip -k9 "$file"; done',
    '## Deploying',
    'Run `npm run build`, then copy `dist/` to the server and restart the unit with systemctl.',
    '    yield* items.filter((item) => item.quantity > 0).map(toLineItem);',
    '  private readonly cache = new Map<string, { value: unknown; expiresAt: number }>();',
    '// Why: the payment provider rejects keys over 64 characters, so they are hashed first.',
  ];
  const textLine = () => corpus[Math.floor(rand() * corpus.length)];
  const tokenLine = (kind, t) =>
    ({
      ts: `export const profileToken = '${t}';`,
      json: `  "profileToken": "${t}",`,
      yaml: `profile_token: ${t}`,
      md: `curl -H "Authorization: Bearer ${t}" http://localhost:8080/rest/v1/profiles/p1?client=demo`,
      sh: `export PROFILE_TOKEN="${t}"`,
      env: `PROFILE_TOKEN=${t}`,
      txt: `token=${t}`,
    })[kind];
  // Which files hold copies: every 100th text file from the 37th, until `COPIES` copies are placed.
  let placed = 0;
  let textFiles = 0;
  let bytes = 0;
  const holders = [];
  for (let i = 0; i < FILES; i++) {
    const dir = join(root, `pkg-${String(Math.floor(i / 100)).padStart(2, '0')}`, i % 2 ? 'src' : 'config');
    if (i % 50 === 0 || i % 50 === 1) mkdirSync(dir, { recursive: true });
    const kind = kindOf();
    const name = kind === 'env' ? `.env.${i}` : `file-${i}.${kind}`;
    // Sizes: mostly 1–20 KB, some up to 40 KB; mean about 9 KB.
    const size = Math.floor(1000 + rand() ** 2 * 25_000);
    let content;
    if (kind === 'png') {
      content = Buffer.alloc(size);
      for (let b = 0; b + 4 <= size; b += 4) content.writeUInt32LE(Math.floor(rand() * 2 ** 32), b);
      content[8] = 0; // a NUL early on, as every image has
      content.write(token, size >> 1, 'latin1'); // bytes inside a binary are not a copy to replace
    } else {
      const lines = [];
      let length = 0;
      while (length < size) {
        const line = textLine();
        lines.push(line);
        length += line.length + 1;
      }
      textFiles++;
      if (placed < COPIES && textFiles % 97 === 37 % 97) {
        const n = placed % 3 === 0 && placed + 2 <= COPIES ? 2 : 1;
        for (let c = 0; c < n; c++)
          lines.splice(Math.floor(((c + 1) * lines.length) / (n + 1)), 0, tokenLine(kind, token));
        placed += n;
        holders.push(name);
      } else if (textFiles % 37 === 5) {
        lines.splice(lines.length >> 1, 0, tokenLine(kind, other));
      }
      content = lines.join('\n') + '\n';
    }
    writeFileSync(join(dir, name), content);
    bytes += content.length;
  }
  // Two files over the 1 MiB cap, as a lock file and a media file are.
  writeFileSync(
    join(root, 'package-lock.json'),
    `{"lockfileVersion": 3, "packages": {${'"x": {},'.repeat(200_000)}}}\n`,
  );
  writeFileSync(join(root, 'demo.mp4'), Buffer.alloc(4 * 2 ** 20, 1));
  bytes += 1_800_002 + 4 * 2 ** 20;
  if (placed !== COPIES) throw new Error(`Only ${placed} copies placed; generate more files`);
  return { files: FILES + 2, bytes, holders: holders.length };
}

/** One updater run in a fresh Node process; `ms` is the whole process, spawn to exit (as for rg). */
function runUpdater(root, oldToken, newToken, env = {}) {
  const script = `
    const { updateTokenInFiles } = require(${JSON.stringify(require.resolve('../packages/client/dist/src/index.js'))});
    const scanner = require(${JSON.stringify(require.resolve('../packages/client/dist/src/rotation/scan-all.js'))});
    const native = scanner.scanTuning.native && scanner.nativeScan() !== null;
    const [root, oldToken, newToken, client] = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    updateTokenInFiles({ root, oldTokens: [oldToken], newToken, client }).then((r) => {
      console.log(JSON.stringify({ native, copies: r.copies, changed: r.filesChanged.length, scanned: r.filesScanned, skipped: r.skipped.length }));
    });`;
  const t0 = performance.now();
  const run = spawnSync(process.execPath, ['-e', script], {
    input: JSON.stringify([root, oldToken, newToken, CLIENT]),
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  const ms = performance.now() - t0;
  if (run.status !== 0) throw new Error(`updater run failed: ${run.stderr}`);
  return { ...JSON.parse(run.stdout), ms };
}

/** One `rg -F -l` run (hidden files included: `.env` files hold tokens); ms of the whole process. */
function runRipgrep(root, token) {
  const t0 = performance.now();
  const out = execFileSync(RG, ['-F', '-l', '--hidden', '--no-ignore', '--', token, root], { encoding: 'utf8' });
  return { ms: performance.now() - t0, files: out.trim().split('\n').filter(Boolean).length };
}

/**
 * The same job with standard tools, as one shell pipeline timed as a whole: ripgrep lists the
 * files, sed replaces the token in them (a JWT is base64url and dots: only the dots need escaping
 * in the pattern), and `sync FILE…` fsyncs the changed files. Resolves with the ms and the number
 * of files changed.
 */
function runSed(root, oldToken, newToken) {
  const pattern = oldToken.replaceAll('.', '\\.');
  const script =
    `${RG} -F -l -0 --hidden --no-ignore -- "$1" "$3" | ` +
    `xargs -0 -r sh -c 'p=$0 n=$1; shift; sed -i "s/$p/$n/g" "$@" && sync -- "$@" && echo "$#"' "$2" "$4"`;
  const t0 = performance.now();
  const run = spawnSync('sh', ['-c', script, 'sh', oldToken, pattern, root, newToken], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (run.status !== 0) throw new Error(`rg | xargs sed -i failed: ${run.stderr}`);
  const files = run.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .reduce((sum, n) => sum + Number(n), 0);
  return { ms, files };
}

const { a, b, other } = await tokens();
const root = mkdtempSync(join(tmpdir(), 'profilegate-rotation-'));
try {
  progress(`generating ${FILES} files`);
  const tree = generateTree(root, a, other);
  progress(`${tree.files} files, ${(tree.bytes / 1e6).toFixed(0)} MB, ${COPIES} copies in ${tree.holders} files`);
  // The generator's 100 MB go to disk first: else the updater's first flushes wait for them.
  execFileSync('sync');
  runRipgrep(root, a); // warm the page cache
  const updater = [];
  const ripgrep = [];
  const sed = [];
  const javascript = [];
  let native = false;
  for (let run = 0; run < RUNS; run++) {
    // Interleaved: rg lists (a), the updater replaces a → b, the sed pipeline b → a, then the
    // updater without the native prefilter (PROFILEGATE_NATIVE_SCAN=0, informational) a → b and b → a.
    const rg = runRipgrep(root, a);
    const up = runUpdater(root, a, b);
    const sh = runSed(root, b, a);
    const js = runUpdater(root, a, b, { PROFILEGATE_NATIVE_SCAN: '0' });
    const js2 = runUpdater(root, b, a, { PROFILEGATE_NATIVE_SCAN: '0' });
    for (const r of [up, js, js2]) {
      if (r.copies !== COPIES || r.changed !== tree.holders || rg.files !== tree.holders || sh.files !== tree.holders) {
        throw new Error(
          `run ${run + 1}: updater replaced ${r.copies} copies in ${r.changed} files, rg listed ${rg.files}, sed changed ${sh.files}`,
        );
      }
    }
    if (js.native || js2.native) throw new Error('PROFILEGATE_NATIVE_SCAN=0 did not turn the native prefilter off');
    native = up.native;
    updater.push(up.ms);
    ripgrep.push(rg.ms);
    sed.push(sh.ms);
    javascript.push(js.ms, js2.ms);
    progress(
      `run ${run + 1}/${RUNS}: updater ${up.ms.toFixed(0)} ms (${up.native ? 'native prefilter' : 'JavaScript'}), ` +
        `rg ${rg.ms.toFixed(0)} ms, rg | xargs sed -i + sync ${sh.ms.toFixed(0)} ms; JavaScript only ${js.ms.toFixed(0)}, ${js2.ms.toFixed(0)} ms`,
    );
  }
  const result = {
    bench: 'rotation',
    files: tree.files,
    megabytes: tree.bytes / 1e6,
    copies: COPIES,
    filesWithCopies: tree.holders,
    runs: RUNS,
    updaterMs: median(updater),
    scanner: native ? 'native prefilter (@profilegate/native-scan)' : 'JavaScript (the native prefilter is not built)',
    javascriptOnlyMs: median(javascript),
    ripgrepMs: median(ripgrep),
    sedMs: median(sed),
    ripgrep: execFileSync(RG, ['--version'], { encoding: 'utf8' }).split('\n')[0],
  };
  result.ratio = result.updaterMs / result.ripgrepMs;
  result.sedRatio = result.updaterMs / result.sedMs;
  result.javascriptOnlyRatio = result.javascriptOnlyMs / result.ripgrepMs;
  console.log(
    `${tree.files} files, ${result.megabytes.toFixed(0)} MB, ${COPIES} copies in ${tree.holders} files: ` +
      `updateTokenInFiles ${result.updaterMs.toFixed(0)} ms (replacing them), ` +
      `anchor rg -F -l ${result.ripgrepMs.toFixed(0)} ms (listing them): ${result.ratio.toFixed(2)}x (target <= 2x); ` +
      `rg | xargs sed -i + sync ${result.sedMs.toFixed(0)} ms (replacing them): ${result.sedRatio.toFixed(2)}x; ` +
      `scanner: ${result.scanner}`,
  );
  console.log(
    `without the native prefilter (PROFILEGATE_NATIVE_SCAN=0): ${result.javascriptOnlyMs.toFixed(0)} ms, ` +
      `${result.javascriptOnlyRatio.toFixed(2)}x rg (informational)`,
  );
  emitJson(result);
} finally {
  if (process.argv.includes('--keep')) progress(`tree kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
