/**
 * The test harness runs this suite under either Express major (scripts/express-major.cjs with
 * PROFILEGATE_EXPRESS=4 or 5): this proves the choice took effect, so a pass meant for Express 4
 * cannot silently run Express 5 again.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { sep } from 'node:path';
import { KeyRing, MemoryStore, generateSigningKey } from '@profilegate/core';
import { profileApi } from '../src';

const chosen = process.env['PROFILEGATE_EXPRESS'] || '5';
const other = chosen === '4' ? '5' : '4';

/** Which Express majors this process has loaded code of, judged by the files in require's cache. */
function loadedMajors(): Set<string> {
  const majors = new Set<string>();
  for (const file of Object.keys(require.cache)) {
    if (file.includes(`${sep}node_modules${sep}express4${sep}`)) majors.add('4');
    else if (file.includes(`${sep}node_modules${sep}express${sep}`)) majors.add('5');
  }
  return majors;
}

describe(`the Express major under test: ${chosen} (PROFILEGATE_EXPRESS=${process.env['PROFILEGATE_EXPRESS'] ?? ''})`, () => {
  it(`require('express') is Express ${chosen}, here and in a child process`, () => {
    const version = (require('express/package.json') as { version: string }).version;
    assert.match(version, new RegExp(`^${chosen}\\.`));
    const child = spawnSync(process.execPath, ['-e', "process.stdout.write(require('express/package.json').version)"], {
      encoding: 'utf8',
    });
    assert.equal(child.stdout, version, child.stderr);
  });

  it(`the middleware builds its routers with Express ${chosen} and never loads Express ${other}`, async () => {
    const router = profileApi({
      clients: ['acme'],
      store: new MemoryStore(),
      signingKeys: new KeyRing([generateSigningKey(0)]),
      authenticateAdmin: () => null,
    });
    try {
      assert.equal(typeof router, 'function');
      const majors = loadedMajors();
      assert.ok(majors.has(chosen), `no file of Express ${chosen} in require's cache`);
      assert.ok(!majors.has(other), `Express ${other} was loaded too`);
    } finally {
      await router.close();
    }
  });
});
