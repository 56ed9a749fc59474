import assert from 'node:assert/strict';
import { findTokensOfClient, isLikelyTokenOfClient } from '../src/rotation/jwt-client';
import { maskToken } from '../src/rotation/mask';
import { findTokenReferences, replaceTokens } from '../src/rotation/references';
import { GlobSet, globToRegExp } from '../src/rotation/glob';
import { profileToken as token } from './tokens';

const OLD = token('demo', 'old');
const NEW = token('demo', 'new');
const swap = new Map([[OLD, NEW]]);

describe('rotation: findTokenReferences / replaceTokens', () => {
  const formats: Array<[string, string]> = [
    ['.env unquoted', `PROFILE_TOKEN=${OLD}\nOTHER=1\n`],
    ['.env double-quoted', `PROFILE_TOKEN="${OLD}"\n`],
    ['.env single-quoted', `PROFILE_TOKEN='${OLD}'\n`],
    ['.env export', `export PROFILE_TOKEN=${OLD}\n`],
    ['YAML plain', `profile:\n  token: ${OLD}\n`],
    ['YAML quoted', `profile:\n  token: "${OLD}"\n  other: '${OLD}'\n`],
    ['shell', `curl -H "Authorization: Bearer ${OLD}" https://x/m2/demo/v2/profile/batchUpdate\n`],
    ['HTTP header line', `Authorization: Bearer ${OLD}\r\n`],
    ['JSON', `{"token": "${OLD}", "nested": {"t": "${OLD}"}}`],
  ];
  for (const [name, text] of formats) {
    it(`replaces the token in ${name}, keeping the format`, () => {
      const count = text.split(OLD).length - 1;
      assert.equal(findTokenReferences(text, [OLD]).length, count);
      const result = replaceTokens(text, swap);
      assert.equal(result.copies, count);
      assert.equal(result.text, text.split(OLD).join(NEW));
      assert.equal(result.copiesByToken.get(OLD), count);
    });
  }

  it('handles JSON-escaped slashes (\\/) and writes the new token the same way', () => {
    const old = 'abc/def/ghi-0123456789';
    const fresh = 'xyz/uvw-9876543210';
    const text = `{"a":"${old.replace(/\//g, '\\/')}","b":"${old}"}`;
    const refs = findTokenReferences(text, [old]);
    assert.deepEqual(
      refs.map((r) => r.encoding),
      ['json-escaped-slash', 'raw'],
    );
    const result = replaceTokens(text, new Map([[old, fresh]]));
    assert.equal(result.text, `{"a":"${fresh.replace(/\//g, '\\/')}","b":"${fresh}"}`);
  });

  it('does not replace a token that is part of a longer token', () => {
    const text = [`A=${OLD}x`, `B=x${OLD}`, `C=${OLD}.more`, `D=abc.${OLD}`, `E=${OLD}-1`, `F=${OLD}=`].join('\n');
    assert.equal(findTokenReferences(text, [OLD]).length, 0);
    assert.equal(replaceTokens(text, swap).text, text);
  });

  it('treats punctuation and line ends as boundaries', () => {
    const text = `a ${OLD}. b (${OLD}) <${OLD}>,${OLD};\n${OLD}`;
    assert.equal(replaceTokens(text, swap).copies, 5);
  });

  it('keeps CRLF line ends and reports lines and columns', () => {
    const text = `X=1\r\nTOKEN="${OLD}"\r\n`;
    const [ref] = findTokenReferences(text, [OLD]);
    assert.equal(ref?.line, 2);
    assert.equal(ref?.column, 8);
    assert.equal(ref?.quote, '"');
    assert.equal(replaceTokens(text, swap).text, `X=1\r\nTOKEN="${NEW}"\r\n`);
  });

  it('replaces several tokens in one pass and ignores empty or identical ones', () => {
    const other = token('demo', 'other');
    const text = `${OLD} ${other} ${NEW}`;
    const result = replaceTokens(
      text,
      new Map([
        [OLD, NEW],
        [other, NEW],
        [NEW, NEW],
        ['', NEW],
      ]),
    );
    assert.equal(result.text, `${NEW} ${NEW} ${NEW}`);
    assert.equal(result.copies, 2);
  });

  it('returns the text unchanged with zero copies when nothing matches', () => {
    assert.deepEqual(replaceTokens('nothing here', swap), {
      text: 'nothing here',
      copies: 0,
      copiesByToken: new Map(),
    });
  });
});

describe('rotation: isLikelyTokenOfClient / findTokensOfClient', () => {
  it('recognises a profile token of the client without its key', () => {
    assert.equal(isLikelyTokenOfClient(OLD, 'demo'), true);
    assert.equal(isLikelyTokenOfClient(OLD, 'acme'), false);
    assert.equal(isLikelyTokenOfClient(token('demo', 'x', { iss: 'other' }), 'demo'), false);
    assert.equal(isLikelyTokenOfClient(token('demo', 'x', { aud: 'other' }), 'demo'), false);
    assert.equal(isLikelyTokenOfClient('not.a.jwt', 'demo'), false);
    assert.equal(isLikelyTokenOfClient('', 'demo'), false);
  });

  it('finds the older tokens of the client in a file, not other clients or glued strings', () => {
    const older = token('demo', 'older');
    const acme = token('acme', 'a');
    const text = `A=${OLD}\nB="${older}"\nC=${acme}\nD=${OLD}\nE=x${older}\n`;
    assert.deepEqual(findTokensOfClient(text, 'demo'), [OLD, older]);
  });
});

describe('rotation: maskToken', () => {
  it('shows the first 6 and last 4 characters only', () => {
    assert.equal(maskToken(OLD), `${OLD.slice(0, 6)}…${OLD.slice(-4)}`);
    assert.equal(maskToken('short'), '…');
  });
});

describe('rotation: globs', () => {
  it('matches **, *, ?, braces and bare names', () => {
    assert.ok(globToRegExp('src/**/*.ts').test('src/a/b/c.ts'));
    assert.ok(globToRegExp('src/**/*.ts').test('src/c.ts'));
    assert.ok(!globToRegExp('src/*.ts').test('src/a/c.ts'));
    assert.ok(globToRegExp('{.env,.env.*}').test('deep/.env.local'));
    assert.ok(globToRegExp('file?.yml').test('file1.yml'));
    const excludes = new GlobSet(['**/{node_modules,.git,dist,out,build}/**']);
    assert.ok(excludes.matchesDirectory('node_modules'));
    assert.ok(excludes.matchesDirectory('a/b/dist'));
    assert.ok(!excludes.matchesDirectory('src'));
    assert.ok(excludes.matchesFile('a/build/x.js'));
  });
});
