/**
 * The manifest and the layering rule: package.json declares exactly the commands and settings the
 * code uses, with the titles and defaults of the issue; and only `src/vscode`, `extension.ts` and
 * the host tests may import `vscode` (everything else runs in plain Node).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  CLIENT_CODE_PATTERN,
  DEFAULT_ADOBE_ADMIN_URL,
  DEFAULT_ADOBE_IMS_SCOPES,
  DEFAULT_ADOBE_IMS_URL,
} from '@profilegate/client';
import { COMMANDS } from '../../src/commands';
import { CONTEXT_KEYS } from '../../src/commands/common';
import { REPLACE_OLD_TOKENS_TITLE } from '../../src/logic/messages';
import { SETTING_DEFAULTS } from '../../src/logic/settings';

const packageDir = join(__dirname, '..', '..', '..');
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
  name: string;
  publisher: string;
  main: string;
  icon?: string;
  galleryBanner?: { color?: string; theme?: string };
  repository?: { type?: string; url?: string };
  scripts: Record<string, string>;
  engines: { vscode: string };
  devDependencies: Record<string, string>;
  contributes: {
    commands: Array<{ command: string; title: string; category: string }>;
    menus?: { commandPalette?: Array<{ command: string; when?: string }> };
    walkthroughs?: Array<{
      id: string;
      title: string;
      steps: Array<{
        id: string;
        title: string;
        description: string;
        when?: string;
        completionEvents?: string[];
        media: { markdown?: string };
      }>;
    }>;
    configuration: { properties: Record<string, { default: unknown; pattern?: string }> };
  };
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('extension manifest', () => {
  it('is profilegate.profilegate for VS Code ^1.100.0, built against @types/vscode 1.100', () => {
    assert.equal(manifest.name, 'profilegate');
    assert.equal(manifest.publisher, 'profilegate');
    assert.equal(manifest.engines.vscode, '^1.100.0');
    assert.match(manifest.devDependencies['@types/vscode'] ?? '', /^1\.100\./);
    assert.equal(manifest.main, './dist/extension.js');
  });

  it('declares every command with category Profilegate and the titles of the issue', () => {
    const titles = Object.fromEntries(manifest.contributes.commands.map((c) => [c.command, c.title]));
    assert.deepEqual(titles, {
      [COMMANDS.generateToken]: 'Generate New Profile Authentication Token',
      [COMMANDS.updateStoredToken]: 'Update Stored Token…',
      [COMMANDS.replaceOldTokens]: REPLACE_OLD_TOKENS_TITLE,
      [COMMANDS.toggleAuthentication]: 'Toggle Require Authentication',
      [COMMANDS.revokeToken]: 'Revoke Profile Authentication Token',
      [COMMANDS.showTokenStatus]: 'Show Token Status',
      [COMMANDS.setAdminKey]: 'Set Admin Key…',
      [COMMANDS.forgetAdminKey]: 'Forget Admin Key',
      [COMMANDS.adoptWorkspaceToken]: 'Adopt Token Found in Workspace…',
      [COMMANDS.getStarted]: 'Get Started',
      'profilegate.setAdobeClientSecret': 'Set Adobe Client Secret…',
      'profilegate.forgetAdobeClientSecret': 'Forget Adobe Client Secret',
    });
    assert.ok(manifest.contributes.commands.every((c) => c.category === 'Profilegate'));
  });

  it('declares the settings with the defaults the code assumes', () => {
    const defaults = Object.fromEntries(
      Object.entries(manifest.contributes.configuration.properties).map(([key, value]) => [key, value.default]),
    );
    assert.deepEqual(defaults, {
      'profilegate.serverUrl': SETTING_DEFAULTS.serverUrl,
      'profilegate.client': SETTING_DEFAULTS.client,
      'profilegate.tokenExpiresInDays': SETTING_DEFAULTS.tokenExpiresInDays,
      'profilegate.previousTokenGraceSeconds': SETTING_DEFAULTS.previousTokenGraceSeconds,
      'profilegate.files.exclude': SETTING_DEFAULTS.filesExclude,
      'profilegate.previewChanges': SETTING_DEFAULTS.previewChanges,
      'profilegate.expiryWarningDays': SETTING_DEFAULTS.expiryWarningDays,
      'profilegate.target': 'profilegate',
      'profilegate.adobe.tenant': '',
      'profilegate.adobe.clientId': '',
      'profilegate.adobe.scopes': [...DEFAULT_ADOBE_IMS_SCOPES],
      'profilegate.adobe.imsUrl': DEFAULT_ADOBE_IMS_URL,
      'profilegate.adobe.adminUrl': DEFAULT_ADOBE_ADMIN_URL,
      'profilegate.adobe.authorizationScope': 'profile_api',
    });
  });

  it('checks the client setting with the client-code rule of @profilegate/client', () => {
    assert.equal(
      manifest.contributes.configuration.properties['profilegate.client']?.pattern,
      CLIENT_CODE_PATTERN.source,
    );
  });
});

describe('layering', () => {
  const importsVscode = /from ['"]vscode['"]|require\(['"]vscode['"]\)/;
  const importsCore = /from ['"]@profilegate\/core(\/[^'"]*)?['"]/;

  it('only src/vscode and src/extension.ts import vscode; nothing imports core (the server)', () => {
    const offenders: string[] = [];
    for (const file of files(join(packageDir, 'src'))) {
      const rel = relative(packageDir, file).split('\\').join('/');
      const text = readFileSync(file, 'utf8');
      if (importsCore.test(text)) offenders.push(`${rel} imports @profilegate/core (use @profilegate/client)`);
      if (!importsVscode.test(text)) continue;
      if (rel.startsWith('src/vscode/') || rel === 'src/extension.ts') continue;
      offenders.push(`${rel} imports vscode`);
    }
    assert.deepEqual(offenders, []);
  });

  it('unit tests and fixtures never import vscode', () => {
    const offenders = [...files(join(packageDir, 'test', 'unit')), ...files(join(packageDir, 'test', 'fixtures'))]
      .filter((file) => file.endsWith('.ts') && importsVscode.test(readFileSync(file, 'utf8')))
      .map((file) => relative(packageDir, file));
    assert.deepEqual(offenders, []);
  });

  it('has an icon (a 128×128 PNG in the package), a gallery banner and a repository', () => {
    assert.equal(manifest.icon, 'images/icon.png');
    const png = readFileSync(join(packageDir, manifest.icon));
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128]);
    assert.match(manifest.galleryBanner?.color ?? '', /^#[0-9a-f]{6}$/i);
    assert.ok(['dark', 'light'].includes(manifest.galleryBanner?.theme ?? ''));
    assert.match(manifest.repository?.url ?? '', /^https:\/\//);
    assert.ok(!manifest.scripts.package?.includes('--allow-missing-repository'));
    const ignore = readFileSync(join(packageDir, '.vscodeignore'), 'utf8');
    assert.match(ignore, /^!images\/icon\.png$/m, 'the icon is left out of the .vsix');
  });

  it('lists state-dependent commands only when their state holds (when clauses on context keys the code sets)', () => {
    const when = Object.fromEntries((manifest.contributes.menus?.commandPalette ?? []).map((m) => [m.command, m.when]));
    assert.equal(when[COMMANDS.forgetAdminKey], `${CONTEXT_KEYS.adminKeyStored} && !${CONTEXT_KEYS.adobeTarget}`);
    assert.match(when[COMMANDS.replaceOldTokens] ?? '', new RegExp(CONTEXT_KEYS.tokenStored.replace('.', '\\.')));
    assert.match(when[COMMANDS.adoptWorkspaceToken] ?? '', /workspaceFolderCount > 0/);
    const keys = new Set<string>(Object.values(CONTEXT_KEYS));
    for (const clause of Object.values(when)) {
      for (const name of (clause ?? '').match(/profilegate\.[A-Za-z.]+/g) ?? []) {
        assert.ok(keys.has(name), `${name} is not a context key the extension sets`);
      }
    }
  });

  it('has a walkthrough whose steps set the server, the client, the admin key and adopt a workspace token', () => {
    const walkthrough = manifest.contributes.walkthroughs?.[0];
    assert.equal(walkthrough?.id, 'setup');
    const events = Object.fromEntries((walkthrough?.steps ?? []).map((step) => [step.id, step.completionEvents]));
    // The server and client steps also complete once a key is stored: the key is checked against
    // that server and client, so they are right even when the defaults were kept (before, a user of
    // the demo server's default URL and client saw those two steps unfinished for ever).
    assert.deepEqual(events, {
      server: ['onSettingChanged:profilegate.serverUrl', `onContext:${CONTEXT_KEYS.adminKeyStored}`],
      client: ['onSettingChanged:profilegate.client', `onContext:${CONTEXT_KEYS.adminKeyStored}`],
      adminKey: [`onContext:${CONTEXT_KEYS.adminKeyStored}`],
      adopt: [`onContext:${CONTEXT_KEYS.tokenStored}`],
      adobe: [`onContext:${CONTEXT_KEYS.adobeClientSecretStored}`],
      status: [`onCommand:${COMMANDS.showTokenStatus}`],
    });
    // Steps whose commands an Adobe target cannot run are hidden for it, like those commands.
    const when = Object.fromEntries((walkthrough?.steps ?? []).map((step) => [step.id, step.when]));
    assert.equal(when['adminKey'], `!${CONTEXT_KEYS.adobeTarget}`);
    assert.equal(when['adopt'], `workspaceFolderCount > 0 && !${CONTEXT_KEYS.adobeTarget}`);
    const commands = new Set(manifest.contributes.commands.map((c) => c.command));
    const settings = new Set(Object.keys(manifest.contributes.configuration.properties));
    for (const step of walkthrough?.steps ?? []) {
      assert.ok(statSync(join(packageDir, step.media.markdown ?? 'missing')).isFile(), `${step.id}: no media file`);
      for (const [, command] of step.description.matchAll(/\(command:(profilegate\.[A-Za-z]+)/g)) {
        assert.ok(commands.has(command as string), `${step.id} links to an undeclared ${command}`);
      }
      for (const [, setting] of step.description.matchAll(/%22(profilegate\.[A-Za-z.]+)%22/g)) {
        assert.ok(settings.has(setting as string), `${step.id} opens an undeclared ${setting}`);
      }
    }
  });

  it('hides from the palette what an Adobe Target target cannot do, and shows the client secret commands only for it', () => {
    const when = Object.fromEntries((manifest.contributes.menus?.commandPalette ?? []).map((m) => [m.command, m.when]));
    for (const command of [
      COMMANDS.revokeToken,
      COMMANDS.toggleAuthentication,
      COMMANDS.updateStoredToken,
      COMMANDS.setAdminKey,
      COMMANDS.forgetAdminKey,
      COMMANDS.adoptWorkspaceToken,
    ]) {
      assert.match(when[command] ?? '', /!profilegate\.adobeTarget\b/, `${command} is hidden for Adobe`);
    }
    assert.equal(when['profilegate.setAdobeClientSecret'], CONTEXT_KEYS.adobeTarget);
    assert.equal(
      when['profilegate.forgetAdobeClientSecret'],
      `${CONTEXT_KEYS.adobeTarget} && ${CONTEXT_KEYS.adobeClientSecretStored}`,
    );
    assert.match(when[COMMANDS.replaceOldTokens] ?? '', /profilegate\.adobeTarget/);
    const settings = manifest.contributes.configuration.properties;
    for (const key of ['target', 'adobe.tenant', 'adobe.clientId', 'adobe.scopes', 'adobe.imsUrl', 'adobe.adminUrl']) {
      assert.ok(settings[`profilegate.${key}`], `profilegate.${key} is declared`);
    }
    assert.ok(!Object.keys(settings).some((key) => /secret/i.test(key)), 'no secret is a setting');
  });
});
