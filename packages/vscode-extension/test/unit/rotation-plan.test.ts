import assert from 'node:assert/strict';
import {
  applyPlan,
  countCopies,
  looksBinary,
  oldTokensFor,
  planFileEdits,
  previewLabel,
} from '../../src/logic/rotation-plan';
import { fakeToken } from '../fixtures/jwt';

describe('rotation plan', () => {
  const oldToken = fakeToken();
  const older = fakeToken({ iat: 1_700_000_000 });
  const newToken = fakeToken();
  const request = { knownOldTokens: [oldToken], newToken, client: 'demo' };

  it('replaces .env copies quoted, unquoted and after export, keeping everything else byte for byte', () => {
    const text = `A=1\nTOKEN=${oldToken}\nQ="${oldToken}"\nexport S='${oldToken}'\r\n# ${oldToken}\n`;
    const plan = planFileEdits(text, request);
    assert.equal(plan.edits.length, 4);
    assert.equal(applyPlan(text, plan), text.split(oldToken).join(newToken));
  });

  it('replaces JSON copies, including one written with escaped slashes', () => {
    // A token with "/" (not a JWT) shows the JSON-escaped form is found and written back escaped.
    const slashy = 'abc/def/ghi/jkl/mno/pqr';
    const fresh = 'NEW/TOKEN/VALUE/0123456789';
    const text = `{"a":"${slashy.replace(/\//g, '\\/')}","b":"${slashy}"}`;
    const plan = planFileEdits(text, { knownOldTokens: [slashy], newToken: fresh, client: 'demo' });
    assert.equal(plan.edits.length, 2);
    assert.equal(applyPlan(text, plan), `{"a":"${fresh.replace(/\//g, '\\/')}","b":"${fresh}"}`);
  });

  it('replaces YAML, shell and Authorization: Bearer copies', () => {
    const text = [
      `token: ${oldToken}`,
      `quoted: '${oldToken}'`,
      `TOKEN="${oldToken}"`,
      `curl -H "Authorization: Bearer ${oldToken}" http://x`,
      `Authorization: Bearer ${oldToken}`,
    ].join('\n');
    const plan = planFileEdits(text, request);
    assert.equal(plan.edits.length, 5);
    assert.ok(!applyPlan(text, plan).includes(oldToken));
    assert.equal(applyPlan(text, plan).split(newToken).length, 6);
  });

  it('also replaces any other token of the client found in the file, but never the new one', () => {
    const text = `OLD=${older}\nCUR=${oldToken}\nNEW=${newToken}\nOTHER=${fakeToken({ sub: 'other' })}`;
    assert.deepEqual(oldTokensFor(text, request), [oldToken, older]);
    const after = applyPlan(text, planFileEdits(text, request));
    assert.ok(!after.includes(older) && !after.includes(oldToken));
    assert.equal(after.split(newToken).length, 4);
    assert.match(after, /OTHER=eyJ/, "another client's token stays");
  });

  it('leaves a token of the client issued after the new one (an older token pasted by mistake)', () => {
    const olderInFile = fakeToken({ iat: 1_600_000_000 });
    const pasted = fakeToken({ iat: 1_700_000_000 });
    const newerInFile = fakeToken({ iat: 1_800_000_000 });
    const text = `A=${newerInFile}\nB=${olderInFile}`;
    const plan = planFileEdits(text, { knownOldTokens: [], newToken: pasted, client: 'demo' });
    assert.deepEqual(
      plan.edits.map((e) => e.oldToken),
      [olderInFile],
    );
    assert.equal(applyPlan(text, plan), `A=${newerInFile}\nB=${pasted}`);
    // A token named as known-old is replaced whatever its age.
    const known = planFileEdits(text, { knownOldTokens: [newerInFile], newToken: pasted, client: 'demo' });
    assert.equal(applyPlan(text, known), `A=${pasted}\nB=${pasted}`);
  });

  it('never treats the new token as old, even when it is passed as known', () => {
    const text = `T=${newToken}`;
    const plan = planFileEdits(text, { knownOldTokens: [newToken, ''], newToken, client: 'demo' });
    assert.equal(plan.edits.length, 0);
  });

  it('leaves a token that is only part of a longer token-like value', () => {
    const text = `A=${oldToken}x\nB=x${oldToken}\nC=${oldToken}.more`;
    assert.equal(planFileEdits(text, { ...request, client: 'nobody' }).edits.length, 0);
  });

  it('counts copies left after an edit', () => {
    assert.equal(countCopies(`${oldToken} ${oldToken} ${older}`, [oldToken, older]), 3);
    assert.equal(countCopies('nothing', [oldToken]), 0);
    assert.equal(countCopies('anything', []), 0);
  });

  it('labels the preview with masked tokens only', () => {
    const label = previewLabel([oldToken, older, oldToken], newToken);
    assert.match(label, /^Replace profile token eyJ\S*…\S{4} and 1 older with eyJ\S*…\S{4}$/);
    assert.ok(!label.includes(oldToken) && !label.includes(newToken) && !label.includes(older));
    const masked = (token: string) => `${token.slice(0, 6)}…${token.slice(-4)}`;
    assert.equal(label, `Replace profile token ${masked(oldToken)} and 1 older with ${masked(newToken)}`);
    assert.equal(previewLabel([], newToken), `Profile token → ${masked(newToken)}`);
  });

  it('calls a file binary when its first 8 KiB hold a NUL byte', () => {
    assert.equal(looksBinary(Buffer.from('text only\n')), false);
    assert.equal(looksBinary(Buffer.from([0x41, 0x00, 0x42])), true);
    const late = Buffer.alloc(9000, 0x41);
    late[8500] = 0;
    assert.equal(looksBinary(late), false);
  });
});
