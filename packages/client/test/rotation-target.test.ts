/** Rotation targets (issue 21): Adobe's opaque tokens are found by value in .env, JSON, YAML and shell files. */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import {
  RotationFilesError,
  UnsupportedByTargetError,
  nextTokenHistory,
  rotateTarget,
  type RotationTarget,
  type TargetToken,
} from '../src/rotation/rotation-target';
import { profileToken } from './tokens';

/** Adobe-like opaque tokens: no JWT shape, nothing to recognise them by but their value. */
const OLD = 'a9Xq3LmT7pWz0KcVbN2sR8dYfH4gJ6eU';
const OLDER = 'Zr5uY1oPq9wE3tR7yU2iO8pA4sD6fG0h';
const NEW = 'Mn8bV4cX0zL6kJ2hG9fD5sA1qW7eR3tY';
/** An opaque string the target never issued; it must stay. */
const STRANGER = 'Qw1eR2tY3uI4oP5aS6dF7gH8jK9lZ0xC';

function fakeAdobe(current: string | null, next: string): RotationTarget & { calls: string[] } {
  const calls: string[] = [];
  let value = current;
  const token = (accessToken: string): TargetToken => ({ accessToken, expiresIn: 3600 });
  return {
    kind: 'adobe',
    label: 'Adobe Target tenant acme (profile_api)',
    capabilities: { revoke: false, grace: false, toggle: false, expiresIn: false },
    recognisesCopiesOf: undefined,
    calls,
    async currentToken() {
      calls.push('current');
      return value === null ? null : token(value);
    },
    async regenerate() {
      calls.push('regenerate');
      value = next;
      return token(next);
    },
  };
}

describe('rotateTarget: an opaque (Adobe) token', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pg-rotate-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  const files = {
    '.env': `ADOBE_PROFILE_TOKEN=${OLD}\nOTHER=${STRANGER}\nLEGACY="${OLDER}"\n`,
    'config.json': JSON.stringify({ target: { token: OLD, old: OLDER, other: STRANGER } }, null, 2) + '\n',
    'deploy.yaml': `target:\n  token: ${OLD}\n  quoted: '${OLD}'\n  other: ${STRANGER}\n`,
    'call.sh': `#!/bin/sh\ncurl -H "Authorization: Bearer ${OLD}" "$URL"\nexport T='${OLDER}'\n`,
  };

  async function write(): Promise<void> {
    for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(dir, name), text);
  }

  it('reads first, regenerates, and replaces the old and earlier tokens by value in .env, JSON, YAML and shell', async () => {
    await write();
    const target = fakeAdobe(OLD, NEW);
    const result = await rotateTarget(target, { root: dir, files: Object.keys(files), earlierTokens: [OLDER] });
    assert.deepEqual(target.calls, ['current', 'regenerate']);
    assert.equal(result.previous?.accessToken, OLD);
    assert.equal(result.token.accessToken, NEW);
    assert.deepEqual(result.history, [OLD, OLDER]);
    assert.equal(result.files?.copies, 8);
    for (const [name, text] of Object.entries(files)) {
      const after = await fs.readFile(path.join(dir, name), 'utf8');
      assert.equal(after, text.split(OLD).join(NEW).split(OLDER).join(NEW), name);
      assert.ok(after.includes(STRANGER) || !text.includes(STRANGER), `${name} keeps the unrelated string`);
    }
  });

  it('never guesses: without the previous value nothing opaque is replaced', async () => {
    await write();
    const result = await rotateTarget(fakeAdobe(null, NEW), { root: dir, files: Object.keys(files) });
    assert.equal(result.previous, null);
    assert.equal(result.files?.copies, 0);
    for (const [name, text] of Object.entries(files)) {
      assert.equal(await fs.readFile(path.join(dir, name), 'utf8'), text, name);
    }
  });

  it("a Profilegate target also recognises its client's older JWTs; an Adobe target does not", async () => {
    const jwt = profileToken('demo', 'older');
    await fs.writeFile(path.join(dir, '.env'), `T=${jwt}\n`);
    const adobe = await rotateTarget(fakeAdobe(OLD, NEW), { root: dir, files: ['.env'] });
    assert.equal(adobe.files?.copies, 0);
    const pg: RotationTarget = { ...fakeAdobe(OLD, NEW), kind: 'profilegate', recognisesCopiesOf: 'demo' };
    const result = await rotateTarget(pg, { root: dir, files: ['.env'] });
    assert.equal(result.files?.copies, 1);
    assert.equal(await fs.readFile(path.join(dir, '.env'), 'utf8'), `T=${NEW}\n`);
  });

  it('when the files cannot be updated, the error carries the new token without printing it', async () => {
    const target = fakeAdobe(OLD, NEW);
    const error = await rotateTarget(target, { root: dir, files: ['a'], exclude: [42 as unknown as string] }).then(
      () => assert.fail('should have failed'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RotationFilesError, String(error));
    assert.equal(error.token.accessToken, NEW);
    assert.ok(!inspect(error).includes(NEW));
    assert.ok(!JSON.stringify(error).includes(NEW));
  });
});

describe('nextTokenHistory', () => {
  it('keeps the replaced tokens first, without the new one, duplicates or empties, at most the limit', () => {
    assert.deepEqual(nextTokenHistory(['b', 'c', 'a'], ['a', ''], 'c'), ['a', 'b']);
    assert.deepEqual(nextTokenHistory(['1', '2', '3'], ['0'], 'n', 2), ['0', '1']);
  });
});

describe('UnsupportedByTargetError', () => {
  it('names the capability', () => {
    const error = new UnsupportedByTargetError('grace', 'no grace');
    assert.equal(error.capability, 'grace');
    assert.equal(error.name, 'UnsupportedByTargetError');
  });
});
