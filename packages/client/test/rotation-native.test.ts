import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sinon from 'sinon';
import { nativeScan, scanTuning } from '../src/rotation/scan-all';
import { updateTokenInFiles } from '../src/rotation/update-files';

/** The native prefilter, or a skip (with the reason printed) where it is not built and CI is not set. */
function requireNative(context: Mocha.Context) {
  const native = nativeScan();
  if (native) return native;
  if (process.env.CI) throw new Error('@profilegate/native-scan was not built (npm ci builds it with node-gyp)');
  console.log('    (skipped: @profilegate/native-scan is not built here; npm ci builds it with node-gyp)');
  return context.skip();
}

describe('rotation: the native prefilter (@profilegate/native-scan)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pg-native-'));
  });
  afterEach(async () => {
    sinon.restore();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('classes files as scan.ts does: none, candidate, binary, too large, unreadable', async function () {
    const native = requireNative(this);
    const files: Record<string, string | Buffer> = {
      'none.txt': 'nothing to see\n',
      'hit.txt': 'a token: xxQQyy here\n',
      'hit-at-end.txt': 'ends with xxQQyy',
      'nul-late.txt': Buffer.concat([Buffer.alloc(20, 0x61), Buffer.from([0]), Buffer.from('xxQQyy')]),
      'nul-after-sniff.txt': Buffer.concat([Buffer.alloc(40, 0x61), Buffer.from([0]), Buffer.from('xxQQyy')]),
      'exactly-max.txt': 'xxQQyy'.padEnd(64, '.'),
      'one-over-max.txt': 'xxQQyy'.padEnd(65, '.'),
      'empty.txt': '',
    };
    for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(dir, name), content);
    const paths = [...Object.keys(files), 'missing.txt', 'sub'].map((name) => path.join(dir, name));
    await fs.mkdir(path.join(dir, 'sub'));
    const needle = Buffer.from('xxQQyy');
    for (const threads of [1, 3]) {
      const classes = await native.prefilter(paths, [needle], [2], 64, 32, threads);
      assert.deepEqual([...classes], [0, 1, 1, 2, 1, 1, 3, 0, 4, 4], `with ${threads} threads`);
    }
    // Every anchor finds the same files; no needle at all finds none.
    for (const anchor of [0, 3, 5]) {
      assert.deepEqual([...(await native.prefilter(paths.slice(0, 3), [needle], [anchor], 64, 32, 2))], [0, 1, 1]);
    }
    assert.deepEqual([...(await native.prefilter(paths.slice(0, 3), [], [], 64, 32, 2))], [0, 0, 0]);
    assert.deepEqual([...(await native.prefilter([], [needle], [0], 64, 32, 2))], []);
  });

  it('refuses arguments it cannot use with a TypeError', function () {
    const native = requireNative(this);
    assert.throws(() => native.prefilter(['a'], ['not a buffer' as never], [0], 10, 10, 1), TypeError);
    assert.throws(() => native.prefilter(['a'], [Buffer.from('ab')], [2], 10, 10, 1), TypeError);
    assert.throws(() => native.prefilter(['a'], [Buffer.from('ab')], [], 10, 10, 1), TypeError);
  });

  it('when the prefilter fails, updateTokenInFiles scans in JavaScript and the result is the same', async function () {
    const native = requireNative(this);
    const saved = { ...scanTuning };
    Object.assign(scanTuning, { native: true, nativeMinFiles: 0, nativeSliceFiles: 2 });
    try {
      for (let i = 0; i < 5; i++) await fs.writeFile(path.join(dir, `f${i}.env`), i % 2 ? 'T=old-token\n' : 'x\n');
      const options = { root: dir, oldTokens: ['old-token'], newToken: 'new-token', dryRun: true };
      const expected = await updateTokenInFiles(options);
      const failing = sinon.stub(native, 'prefilter').rejects(new Error('out of threads'));
      const result = await updateTokenInFiles(options);
      assert.ok(failing.called);
      assert.deepEqual(result, expected);
      assert.equal(result.copies, 2);
    } finally {
      Object.assign(scanTuning, saved);
    }
  });
});
