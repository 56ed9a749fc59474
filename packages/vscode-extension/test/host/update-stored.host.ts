/** Update Stored Token…, inside VS Code: a token generated elsewhere is pasted, checked, stored, applied. */
import assert from 'node:assert/strict';
import { expectedTotals } from '../fixtures/seed';
import { fakeToken } from '../fixtures/jwt';
import {
  admin,
  assertLeftAlone,
  assertRotatedOnDisk,
  assertUnchanged,
  freshState,
  profileRouteStatus,
  runCommand,
  slots,
  snapshot,
} from './helpers';

describe('Profilegate: Update Stored Token…', () => {
  it('stores a pasted token generated elsewhere and replaces the old copies in the workspace', async () => {
    const { t, token: oldToken } = await freshState();
    await t.secrets.store(slots().token, oldToken);
    // "Elsewhere": the admin API, as the admin page or the CLI would call it.
    const pasted = (await admin().generateToken()).accessToken;

    const { result, ui } = await runCommand('profilegate.updateStoredToken', [`  ${pasted}\n`]);

    assert.deepEqual(ui.unexpected, []);
    assert.equal(result.outcome, 'done', result.message);
    const { copies, files } = expectedTotals();
    assert.equal(
      result.message,
      `Stored the new token (expires in 90 days). Updated ${copies} copies in ${files} files.`,
    );
    assert.equal(await t.secrets.get(slots().token), pasted);
    await assertRotatedOnDisk(pasted);
    await assertLeftAlone(oldToken);
    assert.equal(await profileRouteStatus(pasted), 404);
    assert.deepEqual(ui.leaked([oldToken, pasted]), []);
  });

  it('recognises the old copies without any stored token (a fresh machine)', async () => {
    const { t, token: oldToken } = await freshState();
    const pasted = (await admin().generateToken()).accessToken;
    const { result } = await runCommand('profilegate.updateStoredToken', [pasted]);
    assert.equal(result.outcome, 'done', result.message);
    assert.equal(result.copies, expectedTotals().copies);
    assert.equal(await t.secrets.get(slots().token), pasted);
    await assertRotatedOnDisk(pasted);
    await assertLeftAlone(oldToken);
  });

  const refusals: Array<[string, () => Promise<string>, RegExp]> = [
    [
      'a token of another client',
      async () => (await admin('other').generateToken()).accessToken,
      /^The pasted token was not stored: This token belongs to client "other", not "demo"/,
    ],
    [
      'an expired token',
      async () => fakeToken({ exp: Math.floor(Date.now() / 1000) - 3600 }),
      /^The pasted token was not stored: This token expired on \d{4}-\d{2}-\d{2}/,
    ],
    ['garbage', async () => 'definitely-not-a-token', /^The pasted token was not stored: This is not a JWT/],
  ];
  for (const [name, make, message] of refusals) {
    it(`refuses ${name}: clear message, nothing stored, no file changed`, async () => {
      const { t, token } = await freshState();
      await t.secrets.store(slots().token, token);
      const before = await snapshot();
      const pasted = await make();
      const { result, ui } = await runCommand('profilegate.updateStoredToken', [pasted]);
      assert.equal(result.outcome, 'failed');
      assert.match(result.message ?? '', message);
      assert.match(result.message ?? '', /No file was changed\.$/);
      assert.equal(ui.last()?.level, 'error');
      assert.equal(await t.secrets.get(slots().token), token, 'the stored token is unchanged');
      await assertUnchanged(before);
      assert.deepEqual(ui.leaked([pasted, token]), []);
    });
  }
});
