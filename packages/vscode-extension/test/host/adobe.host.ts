/**
 * An Adobe Target target (`profilegate.target` = `adobe`) inside VS Code, against the Adobe
 * emulation of `@profilegate/middleware/testing` started in this extension host: IMS and the
 * Admin API token routes, every request checked against Adobe's published document.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startAdobeEmulation, type AdobeEmulation } from '@profilegate/middleware/testing';
import { CONTEXT_KEYS } from '../../src/commands/common';
import { adobeSecretKey, adobeTokenKeys, type AdobeSettings } from '../../src/logic/adobe-settings';
import { NOW } from '../fixtures/clock';
import type { ScriptedUi } from '../fixtures/scripted-ui';
import { expectedChanges, expectedTotals } from '../fixtures/seed';
import { assertLeftAlone, assertRotatedOnDisk, baseSettings, runCommand, seed, setSetting, testing } from './helpers';

describe('Adobe Target: rotate Adobe’s own token', () => {
  let adobe: AdobeEmulation;
  let slot: Pick<AdobeSettings, 'adminUrl' | 'tenant' | 'imsUrl' | 'clientId'>;
  /** Every token and secret seen in the suite: none may be shown or logged in full. */
  const secrets = new Set<string>();
  const uis: ScriptedUi[] = [];
  const run = async (
    command: string,
    answers: string[],
    confirms: boolean[] = [],
    picks: Array<string | undefined> = [],
  ) => {
    const { result, ui } = await runCommand(command, answers, confirms, picks);
    uis.push(ui);
    return { result, ui };
  };
  const current = (scope: 'profile_api' | 'debug_tools') => {
    const token = adobe.tokens.get(scope);
    assert.ok(token !== null);
    secrets.add(token);
    return token;
  };

  before(async () => {
    adobe = await startAdobeEmulation({ now: () => NOW });
    secrets.add(adobe.clientSecret);
    slot = { adminUrl: adobe.adminUrl, tenant: adobe.tenant, imsUrl: adobe.imsUrl, clientId: adobe.clientId };
    const t = await testing();
    await baseSettings();
    await t.secrets.delete(adobeSecretKey(slot));
    for (const scope of ['profile_api', 'debug_tools'] as const) {
      await t.secrets.delete(adobeTokenKeys(slot, scope).token);
      await t.secrets.delete(adobeTokenKeys(slot, scope).history);
    }
    await setSetting('target', 'adobe');
    await setSetting('adobe.tenant', adobe.tenant);
    await setSetting('adobe.clientId', adobe.clientId);
    await setSetting('adobe.imsUrl', adobe.imsUrl);
    await setSetting('adobe.adminUrl', adobe.adminUrl);
    await setSetting('adobe.authorizationScope', undefined);
  });

  after(async () => {
    for (const key of [
      'adobe.tenant',
      'adobe.clientId',
      'adobe.imsUrl',
      'adobe.adminUrl',
      'adobe.authorizationScope',
    ]) {
      await setSetting(key, undefined);
    }
    await baseSettings();
    await adobe.close();
  });

  it('Generate rotates the profile_api token at Adobe and rewrites .env, JSON, YAML and shell copies', async () => {
    const t = await testing();
    const old = current('profile_api');
    await seed(old);
    const { result, ui } = await run('profilegate.generateToken', [adobe.clientSecret], [true]);
    assert.deepEqual(ui.unexpected, []);
    assert.equal(result.outcome, 'done', result.message);
    const { copies, files } = expectedTotals();
    assert.equal(result.message, `New token expires in 180 days. Updated ${copies} copies in ${files} files.`);
    assert.deepEqual([...(result.files ?? [])].sort(), Object.keys(expectedChanges()).sort());
    assert.match(
      ui.secretRequests[0]?.prompt ?? '',
      new RegExp(`sent only to ${adobe.imsUrl.replace(/[.:/]/g, '\\$&')}`),
    );
    assert.match(ui.confirmRequests[0]?.message ?? '', /Adobe Target tenant acme \(profile_api\)/);
    assert.match(ui.confirmRequests[0]?.detail ?? '', /no grace period/);

    const fresh = current('profile_api');
    assert.notEqual(fresh, old);
    assert.equal(await t.secrets.get(adobeTokenKeys(slot, 'profile_api').token), fresh);
    assert.equal(await t.secrets.get(adobeSecretKey(slot)), adobe.clientSecret, 'the secret is kept once accepted');
    await assertRotatedOnDisk(fresh);
    await assertLeftAlone(old);
    assert.deepEqual(adobe.violations(), []);
  });

  it('a second Generate also replaces copies of earlier tokens kept from the earlier rotation, and reuses the IMS token', async () => {
    const t = await testing();
    const first = [...secrets].find((s) => s !== adobe.clientSecret && s !== current('profile_api')) as string;
    const issued = adobe.imsTokensIssued();
    // A branch still holds the token replaced by the first rotation.
    await seed(first);
    const { result, ui } = await run('profilegate.generateToken', [], [true]);
    assert.deepEqual(ui.unexpected, [], 'the stored secret is used: no password box');
    assert.equal(result.outcome, 'done', result.message);
    const fresh = current('profile_api');
    await assertRotatedOnDisk(fresh);
    assert.equal(adobe.imsTokensIssued(), issued, 'the IMS access token is cached until it expires');
    assert.equal(t.imsTokensCachedFor(), 1, 'one Adobe client (one cached IMS token) per credential');
    const history = JSON.parse((await t.secrets.get(adobeTokenKeys(slot, 'profile_api').history)) ?? '[]') as string[];
    assert.ok(history.includes(first), 'earlier tokens are kept to find their copies');
    assert.deepEqual(adobe.violations(), []);
  });

  it('rotates the debug_tools token when Generate asks which scope, leaving profile_api alone', async () => {
    await setSetting('adobe.authorizationScope', 'ask');
    try {
      const profile = current('profile_api');
      const old = current('debug_tools');
      await seed(old);
      const { result, ui } = await run('profilegate.generateToken', [], [true], ['debug_tools']);
      assert.deepEqual(ui.unexpected, []);
      assert.equal(result.outcome, 'done', result.message);
      const fresh = current('debug_tools');
      assert.notEqual(fresh, old);
      assert.equal(current('profile_api'), profile);
      await assertRotatedOnDisk(fresh);
      assert.deepEqual(adobe.violations(), []);
    } finally {
      await setSetting('adobe.authorizationScope', undefined);
    }
  });

  it('Replace Old Tokens stores Adobe’s current token after a rotation elsewhere and puts it in every copy', async () => {
    const t = await testing();
    const stored = current('profile_api');
    await seed(stored);
    const elsewhere = randomBytes(24).toString('base64url');
    adobe.tokens.set('profile_api', elsewhere);
    secrets.add(elsewhere);
    const { result, ui } = await run('profilegate.replaceOldTokens', []);
    assert.deepEqual(ui.unexpected, []);
    assert.equal(result.outcome, 'done', result.message);
    assert.match(
      result.message ?? '',
      /^Stored the server’s current token \(expires in 180 days\)\. Updated \d+ copies/,
    );
    assert.equal(await t.secrets.get(adobeTokenKeys(slot, 'profile_api').token), elsewhere);
    await assertRotatedOnDisk(elsewhere);
    assert.deepEqual(adobe.violations(), []);
  });

  it('hides (when clauses) and explains the commands Adobe cannot do; the status offers the steps that fit', async () => {
    const t = await testing();
    await t.refresh();
    const keys = t.contextKeys();
    assert.equal(keys[CONTEXT_KEYS.adobeTarget], true);
    assert.equal(keys[CONTEXT_KEYS.adobeClientSecretStored], true);
    assert.equal(keys[CONTEXT_KEYS.adminKeyStored], false);
    assert.match(t.statusBar()?.text ?? '', /Adobe Target: acme/);
    const requests = adobe.requests.length;
    for (const [command, why] of [
      ['profilegate.revokeToken', /no revoke route/],
      ['profilegate.toggleAuthentication', /Require Authentication is a Profilegate server setting/],
      ['profilegate.setAdminKey', /Set Adobe Client Secret/],
    ] as const) {
      const { result, ui } = await run(command, []);
      assert.equal(result.outcome, 'cancelled');
      assert.match(result.message ?? '', why);
      assert.deepEqual(ui.unexpected, []);
    }
    assert.equal(adobe.requests.length, requests, 'nothing was sent');
    assert.equal(await t.offerAdoption({ again: true }), false, 'no adoption offer: Adobe tokens are never guessed');

    const { result, ui } = await run('profilegate.showTokenStatus', [], [], [undefined]);
    assert.equal(result.outcome, 'done');
    const labels = ui.lastPickLabels();
    assert.ok(
      labels.some((l) => l.includes('The stored profile_api token is the current one')),
      labels.join('\n'),
    );
    assert.ok(labels.some((l) => l.includes('Generate New Token')));
    assert.ok(!labels.some((l) => /Require Authentication|Admin Key|Update Stored Token/.test(l)), labels.join('\n'));
  });

  it('a wrong client secret is refused by IMS, never stored, and nothing changes', async () => {
    const t = await testing();
    await runCommand('profilegate.forgetAdobeClientSecret');
    const before = current('profile_api');
    const wrong = `p8e-wrong-${randomBytes(8).toString('hex')}`;
    secrets.add(wrong);
    const { result, ui } = await run('profilegate.generateToken', [wrong], [true]);
    assert.equal(result.outcome, 'failed');
    assert.match(result.message ?? '', /refused the client id or client secret/);
    assert.deepEqual(
      ui.last()?.actions.map((a) => a.title),
      ['Set Adobe Client Secret…'],
    );
    assert.equal(await t.secrets.get(adobeSecretKey(slot)), undefined);
    assert.equal(current('profile_api'), before);
    // Set Adobe Client Secret… checks the right one with Adobe, then stores it.
    const set = await run('profilegate.setAdobeClientSecret', [adobe.clientSecret]);
    assert.equal(set.result.outcome, 'done', set.result.message);
    assert.equal(await t.secrets.get(adobeSecretKey(slot)), adobe.clientSecret);
  });

  it('no secret or token appears in any notification, dialog or output channel line', async () => {
    const t = await testing();
    const all = [...secrets];
    assert.ok(all.length >= 6);
    for (const ui of uis) assert.deepEqual(ui.leaked(all), []);
    const lines = t.logLines();
    assert.ok(
      lines.some((line) => line.includes('Generated')),
      'the rotations were logged',
    );
    for (const secret of all) {
      assert.ok(!lines.some((line) => line.includes(secret)), 'a secret or token was logged in full');
    }
    assert.ok(!lines.some((line) => line.includes('ims-emulated-')), 'an IMS access token was logged');
    assert.deepEqual(adobe.violations(), []);
  });
});
