/**
 * The manifest and the layering rule: package.json declares exactly the commands and settings the
 * code uses, with the titles and defaults of the issue; and only `src/vscode`, `extension.ts` and
 * the host tests may import `vscode` (everything else runs in plain Node).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CLIENT_CODE_PATTERN } from '@profilegate/client';
import { COMMANDS } from '../../src/commands';
import { REPLACE_OLD_TOKENS_TITLE } from '../../src/logic/messages';
import { SETTING_DEFAULTS } from '../../src/logic/settings';

const packageDir = join(__dirname, '..', '..', '..');
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
  name: string;
  publisher: string;
  main: string;
  engines: { vscode: string };
  devDependencies: Record<string, string>;
  contributes: {
    commands: Array<{ command: string; title: string; category: string }>;
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
});
