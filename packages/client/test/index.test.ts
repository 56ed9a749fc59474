import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join, sep } from 'node:path';
import * as client from '../src/index';

const packageDir = join(__dirname, '..', '..');

describe('@profilegate/client entry', () => {
  it('exports what the extension and the CLI need: admin client, rotation, token constants, client-code rule, batch form', () => {
    assert.equal(typeof client.AdminClient, 'function');
    assert.equal(typeof client.updateTokenInFiles, 'function');
    assert.equal(typeof client.replaceTokens, 'function');
    assert.equal(typeof client.encodeToken, 'function');
    assert.equal(client.TOKEN_ISSUER, 'profilegate');
    assert.equal(client.TOKEN_AUDIENCE, 'profile_api');
    assert.equal(client.TOKEN_ALGORITHM, 'HS256');
    assert.equal(client.isValidClientCode('demo-1'), true);
    assert.equal(client.isValidClientCode('Demo'), false);
    assert.equal(client.batchFormPrefix(Buffer.from('batch=a'))?.form, true);
  });

  it('is what the package name resolves to', () => {
    const resolved = require.resolve('@profilegate/client');
    assert.equal(resolved, join(packageDir, 'dist', 'src', 'index.js'));
  });

  it('loads nothing but its own modules (no database driver, no JWT library: a bundler takes it whole)', () => {
    const entry = join(packageDir, 'dist', 'src', 'index.js');
    const loaded = JSON.parse(
      execFileSync(
        process.execPath,
        ['-e', `require(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.keys(require.cache)))`],
        { encoding: 'utf8' },
      ),
    ) as string[];
    const own = dirname(entry) + sep;
    assert.deepEqual(
      loaded.filter((path) => !path.startsWith(own)),
      [],
    );
  });
});
