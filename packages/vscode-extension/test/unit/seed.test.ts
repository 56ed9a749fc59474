/**
 * The fixture workspace and its seeding: every template holds the placeholder, seeding writes the
 * token where the host tests expect it, and the pure plan (what the extension runs per file)
 * finds exactly the expected copies, keeping CRLF endings.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyPlan, looksBinary, planFileEdits } from '../../src/logic/rotation-plan';
import { fakeToken } from '../fixtures/jwt';
import {
  CRLF_FILE,
  LEFT_ALONE,
  PLACEHOLDER,
  TEMPLATE_COPIES,
  TEMPLATE_DIR,
  expectedChanges,
  expectedTotals,
  seedWorkspace,
  seededFiles,
} from '../fixtures/seed';

describe('fixture workspace seeding', () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'profilegate-seed-')), 'workspace');
    cpSync(TEMPLATE_DIR, dir, { recursive: true });
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('has templates with the placeholder, and no workspace settings: the tests start from the defaults a user has', () => {
    for (const [file, copies] of Object.entries(TEMPLATE_COPIES)) {
      assert.equal(readFileSync(join(TEMPLATE_DIR, file), 'utf8').split(PLACEHOLDER).length - 1, copies, file);
    }
    assert.equal(existsSync(join(TEMPLATE_DIR, '.vscode', 'settings.json')), false);
  });

  it('writes the token everywhere, and the plan finds exactly the expected copies', async () => {
    const token = fakeToken();
    const fresh = fakeToken();
    await seedWorkspace(dir, token);
    for (const file of seededFiles()) {
      const bytes = readFileSync(join(dir, file));
      assert.ok(bytes.includes(Buffer.from(token)), `${file} holds the token`);
    }
    for (const [file, copies] of Object.entries(expectedChanges())) {
      const text = readFileSync(join(dir, file), 'utf8');
      const plan = planFileEdits(text, { knownOldTokens: [token], newToken: fresh, client: 'demo' });
      assert.equal(plan.edits.length, copies, file);
      assert.equal(applyPlan(text, plan), text.split(token).join(fresh), `${file}: only the token changes`);
    }
    assert.deepEqual(expectedTotals(), { copies: 11, files: 5 });
    assert.match(readFileSync(join(dir, CRLF_FILE), 'utf8'), /\r\nPROFILEGATE_TOKEN=eyJ\S+\r\n/);
    assert.ok(looksBinary(readFileSync(join(dir, LEFT_ALONE.binary))));
    assert.ok(readFileSync(join(dir, LEFT_ALONE.tooLarge)).length > 1024 * 1024);
  });

  it('seeds again from the templates with another token', async () => {
    const first = fakeToken();
    const second = fakeToken();
    await seedWorkspace(dir, first);
    await seedWorkspace(dir, second);
    const env = readFileSync(join(dir, '.env'), 'utf8');
    assert.ok(env.includes(second) && !env.includes(first));
  });

  it('refuses an empty token', async () => {
    await assert.rejects(seedWorkspace(dir, ''), /needs a real token/);
  });
});
