/** Fakes of every port of the commands, for the command unit tests. */
import assert from 'node:assert/strict';
import { AdobeTargetClient, type AuthenticationSettings, type ProfileTokenInfo } from '@profilegate/client';
import sinon from 'sinon';
import { commandHandlers } from '../../src/commands';
import type { AdminApi, CommandResult, CommandServices, FileUpdateOutcome, FoundToken } from '../../src/commands/ports';
import { readSettings, secretKeys, type RawSettings } from '../../src/logic/settings';
import { NOW } from '../fixtures/clock';
import { ScriptedUi, type PickAnswer, type SecretAnswer } from '../fixtures/scripted-ui';

export { NOW } from '../fixtures/clock';

export const ADMIN_KEY = 'unit-admin-key-0123456789abcdef';
export const SERVER = 'http://127.0.0.1:8080';
export const KEYS = secretKeys({ serverUrl: SERVER, client: 'demo' });

export function tokenInfo(token: string): ProfileTokenInfo {
  return {
    accessToken: token,
    tokenType: 'bearer',
    scope: 'profile_api',
    expiresIn: 7_775_999,
    expiresAt: '2027-02-20T10:00:00.000Z',
    createdAt: '2026-11-22T10:00:00.000Z',
    createdBy: 'ops',
  };
}

export function outcome(over: Partial<FileUpdateOutcome> = {}): FileUpdateOutcome {
  return {
    noWorkspace: false,
    filesScanned: 9,
    changed: [],
    copies: 0,
    notApplied: 0,
    unsaved: [],
    skipped: [],
    ...over,
  };
}

export class Harness {
  readonly secrets = new Map<string, string>();
  readonly api = {
    getToken: sinon.stub<[], Promise<ProfileTokenInfo | null>>(),
    generateToken: sinon.stub<
      [{ expiresIn?: number; previousTokenGraceSeconds?: number }?],
      Promise<ProfileTokenInfo>
    >(),
    revokeToken: sinon.stub<[], Promise<void>>().resolves(),
    getSettings: sinon.stub<[], Promise<AuthenticationSettings>>(),
    setRequireAuthentication: sinon.stub<[boolean], Promise<AuthenticationSettings>>(),
  };
  readonly replace = sinon.stub<Parameters<CommandServices['files']['replace']>, Promise<FileUpdateOutcome>>();
  readonly createApi = sinon.stub<[unknown, string], AdminApi>().returns(this.api as unknown as AdminApi);
  readonly executed: string[] = [];
  /** What executeCommand resolves with, per command (undefined otherwise). */
  readonly commandResults = new Map<string, CommandResult>();
  readonly findClientTokens = sinon.stub<[string, string | undefined], Promise<FoundToken[]>>().resolves([]);
  readonly logs: string[] = [];
  ui: ScriptedUi = new ScriptedUi();
  raw: RawSettings = { serverUrl: SERVER, client: 'demo' };
  storeFails = false;
  /** What the Adobe client's requests reach (an in-process emulation in the Adobe unit tests). */
  adobeFetch: typeof fetch = () => Promise.reject(new Error('no Adobe in this test'));

  services(): CommandServices {
    return {
      ui: () => this.ui,
      secrets: {
        get: async (key) => this.secrets.get(key),
        store: async (key, value) => {
          if (this.storeFails) throw new Error('no secret service');
          this.secrets.set(key, value);
        },
        delete: async (key) => void this.secrets.delete(key),
      },
      readSettings: () => readSettings(this.raw),
      createApi: this.createApi,
      createAdobe: (adobe, clientSecret) => new AdobeTargetClient({ ...adobe, clientSecret, fetch: this.adobeFetch }),
      files: { replace: this.replace, findClientTokens: this.findClientTokens },
      workbench: {
        executeCommand: async (command, ...args) => {
          this.executed.push(args.length === 0 ? command : `${command} ${JSON.stringify(args)}`);
          return this.commandResults.get(command);
        },
        openSettings: async (query) => void this.executed.push(`settings:${query}`),
        openFiles: async (uris) => void this.executed.push(`open:${uris.join(',')}`),
        openWalkthrough: async () => void this.executed.push('walkthrough'),
      },
      log: (line) => void this.logs.push(line),
      now: () => NOW,
    };
  }

  script(secrets: SecretAnswer[], confirms: boolean[] = [], picks: PickAnswer[] = []): ScriptedUi {
    this.ui = new ScriptedUi(secrets, confirms, picks);
    return this.ui;
  }

  async run(id: string, ...args: unknown[]): Promise<CommandResult> {
    const handler = commandHandlers(this.services()).find(([command]) => command === id)?.[1];
    assert.ok(handler, `no handler for ${id}`);
    return handler(...args);
  }

  /** Asserts that no text shown and no log line holds any of the secrets in full. */
  assertNothingLeaked(secrets: string[]): void {
    assert.deepEqual(this.ui.leaked(secrets), [], 'a secret was shown in full');
    for (const secret of secrets) assert.ok(!this.logs.some((line) => line.includes(secret)), 'a secret was logged');
  }
}
