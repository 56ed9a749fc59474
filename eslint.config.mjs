// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.cache/**', 'data/**', '**/*.vsix', '**/out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.e2e.mjs'],
    languageOptions: {
      globals: { describe: 'readonly', it: 'readonly', before: 'readonly', after: 'readonly', afterEach: 'readonly' },
    },
  },
  {
    files: ['packages/vscode-extension/src/**/*.ts', 'packages/cli/src/**/*.ts'],
    rules: {
      // Front ends install without the server: no core, no database driver, no JWT library.
      'no-restricted-imports': [
        'error',
        {
          paths: ['better-sqlite3', 'pg', 'jsonwebtoken', 'express'],
          patterns: [
            { group: ['@profilegate/core', '@profilegate/core/*'], message: "Import from '@profilegate/client'." },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/client/src/**/*.ts'],
    rules: {
      // The client is the lowest package: driver-free, and it knows no other Profilegate package.
      'no-restricted-imports': [
        'error',
        {
          paths: ['better-sqlite3', 'pg', 'jsonwebtoken', 'express', 'vscode'],
          patterns: ['@profilegate/core*', '@profilegate/middleware*', '@profilegate/cli*'],
        },
      ],
    },
  },
  {
    // The admin page's browser modules (served as they are, no build step).
    files: ['packages/middleware/assets/**/*.mjs'],
    languageOptions: {
      sourceType: 'module',
      globals: { document: 'readonly', sessionStorage: 'readonly', navigator: 'readonly' },
    },
  },
  {
    files: ['packages/core/src/**/*.ts'],
    rules: {
      // The layering rule of DESIGN.md: core never imports a front end.
      'no-restricted-imports': ['error', { paths: ['express', 'vscode'], patterns: ['@profilegate/middleware*'] }],
    },
  },
);
