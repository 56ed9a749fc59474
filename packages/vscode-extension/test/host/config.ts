/** The test configuration the harness writes into the workspace (`.profilegate-test.json`). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

/** What the harness tells the suite. */
export interface HostTestConfig {
  /** The demo server, e.g. `http://127.0.0.1:P`. */
  serverUrl: string;
  client: string;
  /** A key of role admin. */
  adminKey: string;
  /** A key of role editor (may read settings, may not touch the token). */
  editorKey: string;
  /** A URL where nothing listens. */
  unreachableServerUrl: string;
  /** Where run() writes `{passed, failed, skipped}`. */
  statsFile: string;
  /** Only the tests whose titles match this (PROFILEGATE_HOST_GREP of the harness). */
  grep?: string;
}

/** The first workspace folder's path (the fixture copy). */
export function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (folder === undefined) throw new Error('The host suite needs a workspace folder (the fixture copy)');
  return folder.uri.fsPath;
}

/** Reads `.profilegate-test.json` from the workspace folder. */
export function loadTestConfig(): HostTestConfig {
  const path = join(workspaceDir(), '.profilegate-test.json');
  let config: Partial<HostTestConfig>;
  try {
    config = JSON.parse(readFileSync(path, 'utf8')) as Partial<HostTestConfig>;
  } catch (error) {
    throw new Error(`Cannot read ${path} (the harness writes it): ${String(error)}`);
  }
  for (const key of ['serverUrl', 'client', 'adminKey', 'editorKey', 'unreachableServerUrl', 'statsFile'] as const) {
    if (typeof config[key] !== 'string' || config[key] === '') throw new Error(`${path} lacks "${key}"`);
  }
  return config as HostTestConfig;
}
