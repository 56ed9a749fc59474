import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, promises as fs, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { holds } from '../src/rotation/byte-search';
import { GlobSet } from '../src/rotation/glob';
import { nativeScan, scanTuning } from '../src/rotation/scan-all';
import { updateTokenInFiles } from '../src/rotation/update-files';
import { selectFiles } from '../src/rotation/walk';
import { profileToken as tokenOf } from './tokens';

const OLD = tokenOf('demo', 'old');
const OLDER = tokenOf('demo', 'older');
const NEW = tokenOf('demo', 'new');

describe('rotation: holds (the byte search that skips files without a token)', () => {
  it('answers as Buffer.includes for any bytes and needle', () => {
    const text = fc.string({ unit: fc.constantFrom('e', 'y', 'J', 'a', ' ', '.', '\u00e9') });
    fc.assert(
      fc.property(
        fc.oneof(text, fc.string()),
        fc.oneof(fc.constantFrom('eyJ', 'yJ', 'J', 'eyJe', 'ee', '.eyJ'), text),
        (h, n) => {
          const bytes = Buffer.from(h, 'utf8');
          const needle = Buffer.from(n, 'utf8');
          assert.equal(holds(bytes, needle), bytes.includes(needle));
        },
      ),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ minLength: 1, maxLength: 12 }), (h, n) => {
        assert.equal(holds(Buffer.from(h), Buffer.from(n)), Buffer.from(h).includes(Buffer.from(n)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('rotation: selectFiles excludes', () => {
  /** Every file under `dir`, relative, with `/`. */
  const allFiles = (dir: string, rel = ''): string[] =>
    readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((entry) => {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      return entry.isDirectory() ? allFiles(dir, child) : [child];
    });

  it('leaves out exactly the files with a folder or a path an exclude glob matches, in a walk from the root', async () => {
    // The walk skips excluded folders without listing them and matches each file's relative path
    // as it goes: the result must be the plain rule's for any tree and globs (a guard for any
    // shortcut taken there).
    const names = ['a', 'b.log', 'dist', 'node_modules', 'src', 'x.ts', '.env'];
    const globs = [
      '**/{node_modules,.git,dist,out,build}/**',
      '*.log',
      'src/**',
      '**/a/**',
      'a/*.ts',
      '{dist/**,*.env}',
      '**/x.ts',
      '**',
    ];
    const tree = fc.array(fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 4 }), {
      minLength: 1,
      maxLength: 12,
    });
    await fc.assert(
      fc.asyncProperty(tree, fc.subarray(globs), async (paths, exclude) => {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'pg-walk-'));
        try {
          for (const parts of paths) {
            const file = path.join(dir, ...parts);
            try {
              mkdirSync(path.dirname(file), { recursive: true });
              writeFileSync(file, 'x');
            } catch {
              // A name already used as a file (or a folder) on this path: left as it is.
            }
          }
          const set = new GlobSet(exclude);
          const expected = allFiles(dir).filter((rel) => {
            const parts = rel.split('/');
            for (let depth = 1; depth < parts.length; depth++) {
              if (set.matchesDirectory(parts.slice(0, depth).join('/'))) return false;
            }
            return !set.matchesFile(rel);
          });
          const { files } = await selectFiles({ root: dir, exclude });
          assert.deepEqual(
            files.map((file) => path.relative(dir, file).split(path.sep).join('/')).sort(),
            expected.sort(),
          );
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 150 },
    );
  });
});

/**
 * Every updateTokenInFiles test runs twice: scanning in JavaScript, and with the native prefilter
 * on every selection, in slices of two files (so that slices start during walks and links
 * discard them). Under CI the prefilter must be built; elsewhere its run is skipped without it.
 */
const MODES = [
  { name: 'scanning in JavaScript', tuning: { native: false } },
  { name: 'with the native prefilter', tuning: { native: true, nativeMinFiles: 0, nativeSliceFiles: 2 } },
];

for (const mode of MODES)
  describe(`rotation: updateTokenInFiles, ${mode.name}`, () => {
    const saved = { ...scanTuning };
    before(function () {
      if (mode.tuning.native && !nativeScan()) {
        if (process.env.CI) throw new Error('@profilegate/native-scan was not built (npm ci builds it with node-gyp)');
        console.log('    (skipped: @profilegate/native-scan is not built here; npm ci builds it with node-gyp)');
        this.skip();
      }
      Object.assign(scanTuning, mode.tuning);
    });
    after(() => Object.assign(scanTuning, saved));
    let dir: string;
    beforeEach(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pg-rotation-'));
    });
    afterEach(async () => {
      await fs.rm(dir, { recursive: true, force: true });
    });
    const write = async (name: string, content: string | Buffer, mode?: number) => {
      const file = path.join(dir, name);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, content);
      if (mode !== undefined) await fs.chmod(file, mode);
      return file;
    };
    const read = (name: string) => fs.readFile(path.join(dir, name), 'utf8');

    it('rewrites every format in a walked folder, skipping node_modules, binaries and big files', async () => {
      await write('.env', `export TOKEN=${OLD}\r\nOTHER="${OLD}"\r\n`);
      await write('config/app.json', `{"token":"${OLD}"}\n`);
      await write('config/app.yaml', `token: '${OLD}'\n`);
      await write('run.sh', `curl -H "Authorization: Bearer ${OLD}" x\n`);
      await write('node_modules/pkg/.env', `T=${OLD}\n`);
      await write('image.bin', Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(OLD)]));
      await write('big.txt', `${OLD}\n${'x'.repeat(2000)}`);
      const progress: number[] = [];
      const result = await updateTokenInFiles({
        root: dir,
        oldTokens: [OLD],
        newToken: NEW,
        maxFileBytes: 1024,
        onProgress: (p) => progress.push(p.filesScanned),
      });
      assert.equal(await read('.env'), `export TOKEN=${NEW}\r\nOTHER="${NEW}"\r\n`);
      assert.equal(await read('config/app.json'), `{"token":"${NEW}"}\n`);
      assert.equal(await read('config/app.yaml'), `token: '${NEW}'\n`);
      assert.equal(await read('run.sh'), `curl -H "Authorization: Bearer ${NEW}" x\n`);
      assert.equal(await read('node_modules/pkg/.env'), `T=${OLD}\n`);
      assert.equal(result.copies, 5);
      assert.deepEqual(result.filesChanged.map((f) => [path.relative(dir, f.path), f.copies]).sort(), [
        ['.env', 2],
        ['config/app.json', 1],
        ['config/app.yaml', 1],
        ['run.sh', 1],
      ]);
      assert.deepEqual(result.skipped.map((s) => [path.relative(dir, s.path), s.reason]).sort(), [
        ['big.txt', 'too-large'],
        ['image.bin', 'binary'],
      ]);
      assert.equal(result.filesScanned, 4);
      assert.equal(progress.length, 6);
    });

    it('keeps the file mode and leaves no temporary file', async () => {
      await write('secret.env', `TOKEN=${OLD}\n`, 0o600);
      await write('script.sh', `T=${OLD}\n`, 0o755);
      await updateTokenInFiles({ root: dir, oldTokens: [OLD], newToken: NEW });
      assert.equal((await fs.stat(path.join(dir, 'secret.env'))).mode & 0o777, 0o600);
      assert.equal((await fs.stat(path.join(dir, 'script.sh'))).mode & 0o777, 0o755);
      assert.deepEqual((await fs.readdir(dir)).sort(), ['script.sh', 'secret.env']);
    });

    it('writes every changed file when there are more than are written at once', async () => {
      for (let i = 0; i < 40; i++) await write(`d${i % 4}/f${String(i).padStart(2, '0')}.env`, `T=${OLD}\nU=${OLD}\n`);
      const result = await updateTokenInFiles({ root: dir, oldTokens: [OLD], newToken: NEW });
      assert.equal(result.copies, 80);
      assert.equal(result.filesChanged.length, 40);
      for (let i = 0; i < 40; i++) {
        assert.equal(await read(`d${i % 4}/f${String(i).padStart(2, '0')}.env`), `T=${NEW}\nU=${NEW}\n`);
      }
      assert.deepEqual(
        result.filesChanged.map((f) => path.relative(dir, f.path)),
        [...result.filesChanged.map((f) => path.relative(dir, f.path))].sort(),
        'in walk order',
      );
    });

    it('writes nothing on a dry run but reports the copies', async () => {
      const before = `TOKEN=${OLD}\n`;
      await write('.env', before);
      const result = await updateTokenInFiles({ root: dir, oldTokens: [OLD], newToken: NEW, dryRun: true });
      assert.equal(await read('.env'), before);
      assert.equal(result.copies, 1);
      assert.equal(result.filesChanged.length, 1);
    });

    it('also replaces older tokens of the same client when given the client', async () => {
      const acme = tokenOf('acme', 'a');
      await write('.env', `A=${OLD}\nB=${OLDER}\nC=${acme}\n`);
      const result = await updateTokenInFiles({ root: dir, oldTokens: [OLD], newToken: NEW, client: 'demo' });
      assert.equal(await read('.env'), `A=${NEW}\nB=${NEW}\nC=${acme}\n`);
      assert.equal(result.copies, 2);
    });

    it('finds a copy written JSON-escaped (a token with a slash, as some tools write it)', async () => {
      const odd = 'odd/token+0123456789';
      await write('settings.json', `{"token":"odd\\/token+0123456789"}\n`);
      const result = await updateTokenInFiles({ root: dir, oldTokens: [odd], newToken: 'new/token' });
      assert.equal(result.copies, 1);
      assert.equal(await read('settings.json'), `{"token":"new\\/token"}\n`);
    });

    it('does not touch a longer token that contains the old one', async () => {
      const text = `A=${OLD}extra\nB=${OLD}\n`;
      await write('.env', text);
      await updateTokenInFiles({ root: dir, oldTokens: [OLD], newToken: NEW });
      assert.equal(await read('.env'), `A=${OLD}extra\nB=${NEW}\n`);
    });

    it('takes explicit files and globs, and reports missing paths', async () => {
      await write('a.env', `T=${OLD}\n`);
      await write('sub/b.env', `T=${OLD}\n`);
      await write('sub/c.yaml', `t: ${OLD}\n`);
      const result = await updateTokenInFiles({
        root: dir,
        files: ['a.env', 'sub/*.yaml', 'missing.env'],
        oldTokens: [OLD],
        newToken: NEW,
      });
      assert.deepEqual(result.missing, ['missing.env']);
      assert.equal(await read('sub/b.env'), `T=${OLD}\n`);
      assert.equal(await read('sub/c.yaml'), `t: ${NEW}\n`);
      assert.equal(await read('a.env'), `T=${NEW}\n`);
    });

    it('keeps bytes that are not UTF-8 exactly', async () => {
      const bytes = Buffer.concat([Buffer.from([0xe9, 0x0a]), Buffer.from(`T=${OLD}\n`), Buffer.from([0xff])]);
      await write('latin1.txt', bytes);
      await updateTokenInFiles({ root: dir, oldTokens: [OLD], newToken: NEW });
      const expected = Buffer.concat([Buffer.from([0xe9, 0x0a]), Buffer.from(`T=${NEW}\n`), Buffer.from([0xff])]);
      assert.deepEqual(await fs.readFile(path.join(dir, 'latin1.txt')), expected);
    });

    it('scans a file once however it is reached: walked, through a file link, named, or under a linked root', async () => {
      await write('a.env', `T=${OLD}\n`);
      await fs.symlink(path.join(dir, 'a.env'), path.join(dir, 'link.env'));
      const alias = `${dir}-alias`;
      await fs.symlink(dir, alias);
      try {
        const result = await updateTokenInFiles({
          root: alias,
          files: ['.', path.join(dir, 'a.env')],
          oldTokens: [OLD],
          newToken: NEW,
        });
        assert.equal(result.filesScanned, 1);
        assert.equal(result.copies, 1);
        assert.equal(await read('a.env'), `T=${NEW}\n`);
        assert.ok((await fs.lstat(path.join(dir, 'link.env'))).isSymbolicLink());
      } finally {
        await fs.rm(alias);
      }
    });

    // Real failures, not stubs, so that they hold however a file is written. Root writes where a
    // mode allows nothing, so as root a folder or file is made immutable (`chattr +i`) instead.
    const asRoot = process.getuid?.() === 0;
    /** Makes `file` (a folder or a file) unwritable; false when that cannot be done here. */
    const lock = (file: string): boolean =>
      asRoot ? spawnSync('chattr', ['+i', file], { stdio: 'ignore' }).status === 0 : (chmodSync(file, 0o555), true);
    const unlock = (file: string): void => {
      if (asRoot) spawnSync('chattr', ['-i', file], { stdio: 'ignore' });
      else chmodSync(file, 0o755);
    };

    it('lists results in walk order and rejects with the first failed write, leaving no temporary file', async function () {
      for (const name of ['a.env', 'b/x.env', 'c.env', 'd.env']) await write(name, `T=${OLD}\n`);
      const dry = await updateTokenInFiles({ root: dir, oldTokens: [OLD], newToken: NEW, dryRun: true });
      assert.deepEqual(
        dry.filesChanged.map((f) => path.relative(dir, f.path)),
        ['a.env', path.join('b', 'x.env'), 'c.env', 'd.env'],
      );
      // The temporary file cannot be created beside b/x.env.
      const locked = path.join(dir, 'b');
      if (!lock(locked)) {
        console.log('      (skipped: running as root and `chattr +i` failed here)');
        this.skip();
      }
      try {
        await assert.rejects(
          updateTokenInFiles({ root: dir, oldTokens: [OLD], newToken: NEW }),
          (error: NodeJS.ErrnoException) => error.code === 'EACCES' || error.code === 'EPERM',
        );
      } finally {
        unlock(locked);
      }
      assert.equal(await read('a.env'), `T=${NEW}\n`);
      assert.equal(await read('b/x.env'), `T=${OLD}\n`);
      assert.deepEqual((await fs.readdir(dir)).sort(), ['a.env', 'b', 'c.env', 'd.env']);
      assert.deepEqual(await fs.readdir(locked), ['x.env']);
    });

    it('removes the temporary file when the rename fails after it was written and flushed', async function () {
      // Only root can make a file that cannot be replaced in a folder it can write (chattr +i).
      if (!asRoot) {
        console.log('      (skipped: only root can make a file unreplaceable in a folder it can write)');
        this.skip();
      }
      for (const name of ['a.env', 'b.env', 'c.env']) await write(name, `T=${OLD}\n`);
      const pinned = path.join(dir, 'b.env');
      if (!lock(pinned)) {
        console.log('      (skipped: `chattr +i` failed here)');
        this.skip();
      }
      try {
        await assert.rejects(
          updateTokenInFiles({ root: dir, oldTokens: [OLD], newToken: NEW }),
          (error: NodeJS.ErrnoException) => error.code === 'EPERM',
        );
      } finally {
        unlock(pinned);
      }
      assert.equal(await read('a.env'), `T=${NEW}\n`);
      assert.equal(await read('b.env'), `T=${OLD}\n`);
      assert.deepEqual((await fs.readdir(dir)).sort(), ['a.env', 'b.env', 'c.env']);
    });
  });
