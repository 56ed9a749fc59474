import assert from 'node:assert/strict';
import { normalizeServerUrl, readSettings, secretKeys, SETTING_DEFAULTS } from '../../src/logic/settings';

describe('extension settings', () => {
  it('defaults to the demo server, client demo, 90 days, no grace, the default excludes, preview off, 7 warning days', () => {
    const result = readSettings({});
    assert.ok(result.ok);
    assert.deepEqual(result.settings, {
      serverUrl: 'http://127.0.0.1:8080',
      client: 'demo',
      expiresInSeconds: 90 * 86_400,
      previousTokenGraceSeconds: 0,
      exclude: '**/{node_modules,.git,dist,out,build}/**',
      previewChanges: false,
      expiryWarningDays: 7,
      target: 'profilegate',
    });
    assert.equal(SETTING_DEFAULTS.filesExclude, '**/{node_modules,.git,dist,out,build}/**');
  });

  it('takes valid values and converts days to the seconds the server wants', () => {
    const result = readSettings({
      serverUrl: 'https://profiles.example.test/api/',
      client: 'acme-eu',
      tokenExpiresInDays: 30,
      previousTokenGraceSeconds: 600,
      filesExclude: '**/{vendor,tmp}/**',
      previewChanges: true,
      expiryWarningDays: 0,
    });
    assert.ok(result.ok);
    assert.equal(result.settings.serverUrl, 'https://profiles.example.test/api');
    assert.equal(result.settings.client, 'acme-eu');
    assert.equal(result.settings.expiresInSeconds, 30 * 86_400);
    assert.equal(result.settings.previousTokenGraceSeconds, 600);
    assert.equal(result.settings.exclude, '**/{vendor,tmp}/**');
    assert.equal(result.settings.previewChanges, true);
    assert.equal(result.settings.expiryWarningDays, 0);
  });

  it('an empty exclude glob means search every file', () => {
    const result = readSettings({ filesExclude: '  ' });
    assert.ok(result.ok);
    assert.equal(result.settings.exclude, undefined);
  });

  const bad: Array<[string, Record<string, unknown>, RegExp, string]> = [
    ['an empty server URL', { serverUrl: ' ' }, /profilegate\.serverUrl is empty/, 'profilegate.serverUrl'],
    ['a server URL that is not http(s)', { serverUrl: 'ftp://x' }, /must be an http/, 'profilegate.serverUrl'],
    [
      'a server URL with a password',
      { serverUrl: 'http://u:p@h' },
      /without a user name or password/,
      'profilegate.serverUrl',
    ],
    [
      'a client code in capitals',
      { client: 'ACME' },
      /profilegate\.client must be a client code/,
      'profilegate.client',
    ],
    [
      'an expiry of 0 days',
      { tokenExpiresInDays: 0 },
      /tokenExpiresInDays must be a whole number of days from 1 to 365/,
      'profilegate.tokenExpiresInDays',
    ],
    ['an expiry of 400 days', { tokenExpiresInDays: 400 }, /from 1 to 365/, 'profilegate.tokenExpiresInDays'],
    [
      'a fractional grace',
      { previousTokenGraceSeconds: 1.5 },
      /previousTokenGraceSeconds must be a whole number of seconds from 0 to 86400/,
      'profilegate.previousTokenGraceSeconds',
    ],
    [
      'a grace over a day',
      { previousTokenGraceSeconds: 86_401 },
      /from 0 to 86400/,
      'profilegate.previousTokenGraceSeconds',
    ],
    ['a negative warning', { expiryWarningDays: -1 }, /expiryWarningDays/, 'profilegate.expiryWarningDays'],
    [
      'a non-string exclude',
      { filesExclude: ['a'] },
      /files\.exclude must be a glob string/,
      'profilegate.files.exclude',
    ],
    [
      'a non-boolean preview',
      { previewChanges: 'yes' },
      /previewChanges must be true or false/,
      'profilegate.previewChanges',
    ],
  ];
  for (const [name, raw, message, setting] of bad) {
    it(`refuses ${name}, naming the setting`, () => {
      const result = readSettings(raw);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.match(result.problems.join('\n'), message);
      assert.equal(result.setting, setting);
    });
  }

  it('reports every problem at once and points at the first bad setting', () => {
    const result = readSettings({ serverUrl: 'nope', client: 'X', tokenExpiresInDays: 0 });
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.problems.length, 3);
    assert.equal(result.setting, 'profilegate.serverUrl');
  });

  it('normalizes server URLs so one server has one secret slot', () => {
    assert.equal(normalizeServerUrl('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080');
    assert.equal(normalizeServerUrl(' HTTP://Host:80/mount//?q=1#x '), 'http://host/mount');
    assert.equal(normalizeServerUrl('not a url'), null);
    assert.deepEqual(secretKeys({ serverUrl: 'http://h:1', client: 'demo' }), {
      adminKey: 'profilegate.adminKey:http://h:1#demo',
      token: 'profilegate.token:http://h:1#demo',
    });
    assert.notEqual(
      secretKeys({ serverUrl: 'http://h:1', client: 'demo' }).adminKey,
      secretKeys({ serverUrl: 'http://h:2', client: 'demo' }).adminKey,
    );
  });
});
