/**
 * Shared steps of the host tests: activate the extension, point its settings at the demo server,
 * reset secrets and server state, seed the workspace, wait for the disk and the editors to agree,
 * and run a command with a scripted UI.
 */
import assert from 'node:assert/strict';
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminClient } from '@profilegate/client';
import * as vscode from 'vscode';
import type { CommandResult } from '../../src/commands/ports';
import { secretKeys } from '../../src/logic/settings';
import type { ProfilegateExtensionApi, ProfilegateTesting } from '../../src/testing-api';
import { expectedChanges, LEFT_ALONE, seededFiles, seedWorkspace } from '../fixtures/seed';
import { ScriptedUi, type PickAnswer, type SecretAnswer } from '../fixtures/scripted-ui';
import { loadTestConfig, workspaceDir, type HostTestConfig } from './config';

export const config: HostTestConfig = loadTestConfig();
export const EXTENSION_ID = 'profilegate.profilegate';

/** The extension's test hooks (activating it when needed). */
export async function testing(): Promise<ProfilegateTesting> {
  const extension = vscode.extensions.getExtension<ProfilegateExtensionApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not loaded in this VS Code`);
  const api = await extension.activate();
  return api.testing;
}

/** An admin API client for checking and arranging the server's state. */
export function admin(client = config.client, key = config.adminKey): AdminClient {
  return new AdminClient({ serverUrl: config.serverUrl, client, adminKey: key });
}

/** The secret slots of the demo server (or another URL) for client demo. */
export function slots(serverUrl = config.serverUrl): { adminKey: string; token: string } {
  return secretKeys({ serverUrl: serverUrl.replace(/\/+$/, ''), client: config.client });
}

/** Sets `profilegate.<key>` in the workspace settings. */
export async function setSetting(key: string, value: unknown): Promise<void> {
  const config = vscode.workspace.getConfiguration('profilegate');
  // Each write rewrites .vscode/settings.json and waits for VS Code to reload it: skip no-ops.
  if (config.inspect(key)?.workspaceValue === value) return;
  await config.update(key, value, vscode.ConfigurationTarget.Workspace);
}

/** Settings every test starts from: the demo server and client demo; everything else at its default (no preview). */
export async function baseSettings(): Promise<void> {
  await setSetting('serverUrl', config.serverUrl);
  await setSetting('client', config.client);
  await setSetting('tokenExpiresInDays', undefined);
  await setSetting('previousTokenGraceSeconds', undefined);
  await setSetting('expiryWarningDays', undefined);
  await setSetting('previewChanges', undefined);
  await setSetting('target', undefined);
}

/** Forgets every secret the tests may have stored. */
export async function clearSecrets(t: ProfilegateTesting): Promise<void> {
  for (const url of [config.serverUrl, config.unreachableServerUrl]) {
    const keys = slots(url);
    await t.secrets.delete(keys.adminKey);
    await t.secrets.delete(keys.token);
  }
}

/** The server's current token of client demo, generating one when there is none. */
export async function serverToken(): Promise<string> {
  const api = admin();
  const current = await api.getToken();
  return current?.accessToken ?? (await api.generateToken()).accessToken;
}

/** Require Authentication on (as a new client starts), so an old token really fails. */
export async function requireAuthentication(on = true): Promise<void> {
  await admin().setRequireAuthentication(on);
}

/** Reads a workspace file's bytes. */
export function readWorkspaceFile(relative: string): Promise<Buffer> {
  return fs.readFile(join(workspaceDir(), ...relative.split('/')));
}

/** Every seeded file's bytes, to compare after a command. */
export async function snapshot(): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const file of seededFiles()) files.set(file, await readWorkspaceFile(file));
  return files;
}

/** Asserts the seeded files hold exactly what `before` held. */
export async function assertUnchanged(before: Map<string, Buffer>): Promise<void> {
  for (const [file, bytes] of before) {
    assert.ok((await readWorkspaceFile(file)).equals(bytes), `${file} was changed`);
  }
}

/** Polls `probe` until it is truthy (saves reach the disk a little after they resolve). */
export async function eventually<T>(
  probe: () => T | Promise<T>,
  what: string,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Seeds the workspace with `token`, then waits until every open document of a seeded file shows
 * the new disk content (VS Code reloads them from disk a moment later; a rotation must not start
 * from stale editor text). The files get a placeholder first: a seed that writes the bytes the
 * files already hold (the last test rotated them to this very token) changes nothing an editor
 * shows, so there would be nothing to wait for, and VS Code, which has not yet seen the new
 * modification time, would refuse to save the rotation ("File Modified Since").
 */
export async function seed(token: string): Promise<void> {
  for (const content of [`not-a-token-${Date.now()}`, token]) {
    await seedWorkspace(workspaceDir(), content);
    await eventually(async () => {
      for (const doc of vscode.workspace.textDocuments) {
        const rel = vscode.workspace.asRelativePath(doc.uri, false);
        if (!seededFiles().includes(rel)) continue;
        if (doc.getText() !== (await readWorkspaceFile(rel)).toString('utf8')) return false;
      }
      return true;
    }, 'open editors to show the seeded files');
  }
}

/** What the workspace would hold after a rotation to `token`: seeded bytes of a scratch copy. */
export async function expectedAfterRotation(token: string): Promise<Map<string, Buffer>> {
  const dir = mkdtempSync(join(tmpdir(), 'profilegate-expected-'));
  try {
    await seedWorkspace(dir, token);
    const files = new Map<string, Buffer>();
    for (const file of Object.keys(expectedChanges())) files.set(file, await fs.readFile(join(dir, file)));
    return files;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits until every rewritten file holds exactly its expected bytes. */
export async function assertRotatedOnDisk(token: string): Promise<void> {
  const expected = await expectedAfterRotation(token);
  for (const [file, bytes] of expected) {
    await eventually(async () => (await readWorkspaceFile(file)).equals(bytes), `${file} to hold the new token`);
  }
}

/** Asserts the copies that must be left alone still hold `token`. */
export async function assertLeftAlone(token: string): Promise<void> {
  for (const file of [...LEFT_ALONE.excluded, LEFT_ALONE.binary, LEFT_ALONE.tooLarge]) {
    const bytes = await readWorkspaceFile(file);
    assert.ok(bytes.includes(Buffer.from(token)), `${file} should still hold the old token`);
  }
}

/** Runs a command with a scripted UI; returns its result and the UI (to read the messages). */
export async function runCommand(
  command: string,
  secrets: SecretAnswer[] = [],
  confirms: boolean[] = [],
  picks: PickAnswer[] = [],
): Promise<{ result: CommandResult; ui: ScriptedUi }> {
  const t = await testing();
  const ui = new ScriptedUi(secrets, confirms, picks);
  t.setUi(ui);
  try {
    const result = await vscode.commands.executeCommand<CommandResult>(command);
    return { result, ui };
  } finally {
    t.setUi(undefined);
  }
}

/** GET a profile route with `token` (or none): the status tells whether the gate let it through. */
export async function profileRouteStatus(token: string | undefined): Promise<number> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const res = await fetch(`${config.serverUrl}/rest/v1/profiles/thirdPartyId/nobody?client=${config.client}`, {
    headers,
  });
  await res.arrayBuffer();
  return res.status;
}

/** The common starting point: settings, no secrets, auth on, a server token seeded into the files. */
export async function freshState(): Promise<{ t: ProfilegateTesting; token: string }> {
  const t = await testing();
  t.setUi(undefined);
  await baseSettings();
  await clearSecrets(t);
  await requireAuthentication(true);
  const token = await serverToken();
  await seed(token);
  return { t, token };
}
