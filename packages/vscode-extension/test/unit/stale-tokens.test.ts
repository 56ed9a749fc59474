import assert from 'node:assert/strict';
import { findStaleTokens } from '../../src/logic/stale-tokens';
import { NOW } from '../fixtures/clock';
import { fakeToken } from '../fixtures/jwt';

const S = NOW / 1000;

describe('stale tokens (diagnostics)', () => {
  const current = fakeToken({ iat: S - 100, exp: S + 90 * 86_400 });
  const replaced = fakeToken({ iat: S - 10_000, exp: S + 80 * 86_400 });
  const expired = fakeToken({ iat: S - 200 * 86_400, exp: S - 86_400 });
  const newer = fakeToken({ iat: S + 50, exp: S + 90 * 86_400 });

  it('flags replaced and expired copies with their exact ranges and a quick-fix replacement', () => {
    const text = `A=${current}\nB=${replaced}\nC="${expired}"\n`;
    const found = findStaleTokens(text, { client: 'demo', currentToken: current, now: NOW });
    assert.deepEqual(
      found.map((f) => [f.kind, text.slice(f.start, f.end)]),
      [
        ['replaced', replaced],
        ['expired', expired],
      ],
    );
    for (const f of found) {
      assert.equal(f.replacement, current);
      assert.ok(!f.message.includes(replaced) && !f.message.includes(expired) && !f.message.includes(current));
      assert.match(f.message, /Quick fix: put the current token \(eyJ\S*…\S{4}\) in\.$/);
    }
    assert.match(found[0]?.message ?? '', /^Replaced profile token of client demo/);
    assert.match(
      found[1]?.message ?? '',
      /^Expired profile token of client demo \(eyJ\S*…\S{4}, expired on 2026-11-21\)/,
    );
  });

  it('flags a token newer than the stored one as information, without a fix', () => {
    const [found] = findStaleTokens(`X=${newer}`, { client: 'demo', currentToken: current, now: NOW });
    assert.equal(found?.kind, 'newer');
    assert.equal(found?.replacement, null);
    assert.match(found?.message ?? '', /run Profilegate: Update Stored Token…/);
  });

  it('without a stored token flags only expired copies, with no fix', () => {
    const found = findStaleTokens(`${replaced} ${expired}`, { client: 'demo', currentToken: undefined, now: NOW });
    assert.deepEqual(
      found.map((f) => [f.kind, f.replacement]),
      [['expired', null]],
    );
  });

  it('offers no fix when the stored token has expired itself', () => {
    const storedExpired = fakeToken({ iat: S - 5, exp: S - 1 });
    const found = findStaleTokens(`${replaced}`, { client: 'demo', currentToken: storedExpired, now: NOW });
    assert.equal(found.length, 1);
    assert.equal(found[0]?.replacement, null);
  });

  it("ignores the current token and other clients' tokens", () => {
    const text = `${current} ${fakeToken({ sub: 'other', exp: S - 10 })}`;
    assert.deepEqual(findStaleTokens(text, { client: 'demo', currentToken: current, now: NOW }), []);
  });

  it('once the server’s token is another one of unknown value, flags the tokens issued before it, without a fix', () => {
    const serverIssuedAt = (S - 100) * 1000; // `current` is the server's token
    const text = `A=${replaced}\nB=${current}\nC=${expired}`;
    const found = findStaleTokens(text, {
      client: 'demo',
      currentToken: undefined,
      now: NOW,
      replacedBefore: serverIssuedAt,
    });
    assert.deepEqual(
      found.map((f) => [f.kind, text.slice(f.start, f.end), f.replacement]),
      [
        ['replaced', replaced, null],
        ['expired', expired, null],
      ],
    );
    assert.match(
      found[0]?.message ?? '',
      /stopped working when a new token was generated on the server\. Paste the new one with Profilegate: Update Stored Token…\.$/,
    );
  });

  it('once the server has no token, flags every token of the client as revoked', () => {
    const found = findStaleTokens(`A=${current} B=${replaced}`, {
      client: 'demo',
      currentToken: undefined,
      now: NOW,
      revoked: true,
    });
    assert.deepEqual(
      found.map((f) => f.kind),
      ['revoked', 'revoked'],
    );
    assert.match(
      found[0]?.message ?? '',
      /^Revoked profile token of client demo \(eyJ\S*…\S{4}\): the server has no token now/,
    );
    assert.ok(found.every((f) => f.replacement === null));
  });
});
