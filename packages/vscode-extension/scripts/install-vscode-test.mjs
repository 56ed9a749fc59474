#!/usr/bin/env node
// Installs the VS Code used by the extension's tests (code-server 4.100.3, cached under
// .cache/vscode-test; a second run does nothing). .ci/run calls it; the test scripts call it too.
import { ensureVscodeServer } from './harness.mjs';

try {
  ensureVscodeServer();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
