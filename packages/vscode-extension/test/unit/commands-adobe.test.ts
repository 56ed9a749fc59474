import assert from 'node:assert/strict';
import { startAdobeEmulation, type AdobeEmulation } from '@profilegate/middleware/testing';
import { COMMANDS } from '../../src/commands';
import { adobeSecretKey, adobeTokenKeys, type AdobeSettings } from '../../src/logic/adobe-settings';
import { readSettings } from '../../src/logic/settings';
import { Harness, NOW, SERVER, outcome } from './command-harness';

describe('Adobe Target settings', () => {
  it('are read only for profilegate.target = adobe, with Adobe’s default URLs and scopes', () => {
    const plain = readSettings({});
    assert.ok(plain.ok);
    assert.equal(plain.settings.target, 'profilegate');
    assert.equal(plain.settings.adobe, undefined);
    const adobe = readSettings({ target: 'adobe', adobeTenant: 'acme', adobeClientId: 'abc' });
    assert.ok(adobe.ok);
    assert.deepEqual(adobe.settings.adobe, {
      tenant: 'acme',
      clientId: 'abc',
      scopes: [
        'openid',
        'AdobeID',
        'target_sdk',
        'additional_info.projectedProductContext',
        'read_organizations',
        'additional_info.roles',
      ],
      imsUrl: 'https://ims-na1.adobelogin.com',
      adminUrl: 'https://mc.adobe.io',
      authorizationScope: 'profile_api',
    });
  });

  it('name the setting to fix', () => {
    const result = readSettings({ target: 'adobe', adobeClientId: 'abc', adobeImsUrl: 'ftp://x' });
    assert.ok(!result.ok);
    assert.equal(result.setting, 'profilegate.adobe.tenant');
    assert.match(result.problems.join('\n'), /profilegate\.adobe\.imsUrl must start with https:\/\//);
    const wrong = readSettings({ target: 'adobee' });
    assert.ok(!wrong.ok);
    assert.equal(wrong.setting, 'profilegate.target');
  });
});

describe('Adobe Target commands (with the Adobe emulation)', () => {
  let adobe: AdobeEmulation;
  let h: Harness;
  let settings: AdobeSettings;
  beforeEach(async () => {
    adobe = await startAdobeEmulation({ now: () => NOW });
    h = new Harness();
    h.adobeFetch = fetch;
    h.raw = {
      serverUrl: SERVER,
      client: 'demo',
      target: 'adobe',
      adobeTenant: adobe.tenant,
      adobeClientId: adobe.clientId,
      adobeImsUrl: adobe.imsUrl,
      adobeAdminUrl: adobe.adminUrl,
    };
    const read = readSettings(h.raw);
    assert.ok(read.ok && read.settings.adobe);
    settings = read.settings.adobe;
    h.replace.resolves(outcome({ copies: 3, changed: [{ uri: 'file:///w/.env', label: '.env', copies: 3 }] }));
  });
  afterEach(() => adobe.close());

  it('Generate reads the token first, regenerates, stores it, and replaces the old one by value only', async () => {
    const old = adobe.tokens.get('profile_api') as string;
    const ui = h.script([adobe.clientSecret], [true]);
    const result = await h.run(COMMANDS.generateToken);
    assert.equal(result.outcome, 'done', result.message);
    assert.equal(result.message, 'New token expires in 180 days. Updated 3 copies in 1 file.');
    const fresh = adobe.tokens.get('profile_api') as string;
    assert.notEqual(fresh, old);
    assert.equal(h.secrets.get(adobeTokenKeys(settings, 'profile_api').token), fresh);
    assert.deepEqual(JSON.parse(h.secrets.get(adobeTokenKeys(settings, 'profile_api').history) ?? ''), [old]);
    assert.equal(h.secrets.get(adobeSecretKey(settings)), adobe.clientSecret);
    const request = h.replace.firstCall.args[0];
    assert.deepEqual(request.knownOldTokens, [old]);
    assert.equal(request.newToken, fresh);
    assert.equal(request.client, undefined, 'opaque tokens: no guessing by client');
    assert.match(ui.confirmRequests[0]?.detail ?? '', /no grace period/);
    assert.deepEqual(adobe.violations(), []);
    assert.deepEqual(
      adobe.requests.map((r) => `${r.api} ${r.method}`),
      ['ims POST', 'admin GET', 'admin POST'],
    );
    h.assertNothingLeaked([old, fresh, adobe.clientSecret]);
  });

  it('a wrong client secret is refused by IMS, not stored, and nothing changes', async () => {
    const old = adobe.tokens.get('profile_api');
    h.script(['wrong-secret-123456'], [true]);
    const result = await h.run(COMMANDS.generateToken);
    assert.equal(result.outcome, 'failed');
    assert.match(result.message ?? '', /Adobe IMS .* refused the client id or client secret/);
    assert.equal(h.secrets.get(adobeSecretKey(settings)), undefined);
    assert.equal(adobe.tokens.get('profile_api'), old);
    assert.ok(h.replace.notCalled);
    h.assertNothingLeaked(['wrong-secret-123456']);
  });

  it('commands Adobe cannot do explain why and change nothing', async () => {
    for (const command of [COMMANDS.revokeToken, COMMANDS.toggleAuthentication, COMMANDS.updateStoredToken]) {
      const ui = h.script([]);
      const result = await h.run(command);
      assert.equal(result.outcome, 'cancelled');
      assert.match(result.message ?? '', /Adobe Target|Adobe/);
      assert.deepEqual(ui.secretRequests, []);
    }
    assert.equal(adobe.requests.length, 0);
  });
});
