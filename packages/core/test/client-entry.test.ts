import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as client from '../src/client';

describe('@profilegate/core/client entry', () => {
  it('exports what the extension and the CLI need: admin client, rotation, token constants, client-code rule', () => {
    assert.equal(typeof client.AdminClient, 'function');
    assert.equal(typeof client.replaceTokens, 'function');
    assert.equal(typeof client.encodeToken, 'function');
    assert.equal(client.TOKEN_ISSUER, 'profilegate');
    assert.equal(client.TOKEN_AUDIENCE, 'profile_api');
    assert.equal(client.TOKEN_ALGORITHM, 'HS256');
    assert.equal(client.isValidClientCode('demo-1'), true);
    assert.equal(client.isValidClientCode('Demo'), false);
  });

  it('loads no database driver and no JWT library (a bundler takes it without native modules)', () => {
    const entry = join(__dirname, '..', 'src', 'client.js');
    const loaded = JSON.parse(
      execFileSync(
        process.execPath,
        ['-e', `require(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.keys(require.cache)))`],
        {
          encoding: 'utf8',
        },
      ),
    ) as string[];
    const packages = loaded.filter((path) => path.includes('node_modules'));
    assert.deepEqual(packages, []);
  });
});
