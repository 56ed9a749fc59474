import assert from 'node:assert/strict';
import { AdminApiError, ServerUnreachableError } from '@profilegate/client';
import { describeFailure } from '../../src/logic/failures';
import {
  count,
  describeFilesUpdate,
  describeGenerated,
  describeStored,
  scrubTokens,
  type FilesSummary,
} from '../../src/logic/messages';
import { fakeToken } from '../fixtures/jwt';

const DAY = 86_400_000;
const files = (over: Partial<FilesSummary> = {}): FilesSummary => ({
  copies: 0,
  files: 0,
  notApplied: 0,
  unsaved: 0,
  noWorkspace: false,
  ...over,
});

describe('messages', () => {
  it('counts with the right plural', () => {
    assert.equal(count(0, 'copy', 'copies'), '0 copies');
    assert.equal(count(1, 'copy', 'copies'), '1 copy');
    assert.equal(count(2, 'file'), '2 files');
  });

  it('composes the generate summary exactly as the issue asks', () => {
    const text = describeGenerated({
      expiresInMs: 7_775_999_000,
      previousTokenGraceSeconds: 0,
      files: files({ copies: 11, files: 5 }),
    });
    assert.equal(text, 'New token expires in 90 days. Updated 11 copies in 5 files.');
    assert.equal(
      describeGenerated({ expiresInMs: DAY, previousTokenGraceSeconds: 0, files: files({ copies: 1, files: 1 }) }),
      'New token expires in 1 day. Updated 1 copy in 1 file.',
    );
  });

  it('adds the grace period, what the preview left and unsaved files', () => {
    const text = describeGenerated({
      expiresInMs: 30 * DAY,
      previousTokenGraceSeconds: 300,
      files: files({ copies: 2, files: 1, notApplied: 3, unsaved: 1 }),
    });
    assert.match(text, /^New token expires in 30 days\. Updated 2 copies in 1 file\./);
    assert.match(
      text,
      /3 copies of an old token were left as they were \(unticked in the preview, or their files changed meanwhile\): requests that send them get 401 once the old token stops working\. Choose Replace Old Tokens, or run Profilegate: Replace Old Tokens in Workspace, to replace them\./,
    );
    assert.match(
      text,
      /1 changed file is not saved yet \(it had unsaved changes of its own\): save it, or the disk keeps the old token\./,
    );
    assert.match(text, /The previous token keeps working for 5 minutes\.$/);
  });

  it('says when no folder is open', () => {
    assert.equal(describeFilesUpdate(files({ noWorkspace: true })), 'No folder is open, so no file was searched.');
  });

  it('composes the update-stored summary', () => {
    assert.equal(
      describeStored({ expiresInMs: 10 * DAY, files: files({ copies: 3, files: 2 }) }),
      'Stored the new token (expires in 10 days). Updated 3 copies in 2 files.',
    );
    assert.match(describeStored({ reapplied: true, expiresInMs: DAY, files: files() }), /^Applied the stored token/);
  });

  it('scrubs every whole JWT out of a text', () => {
    const token = fakeToken();
    const text = scrubTokens(`Bearer ${token}, again "${token}".`);
    assert.ok(!text.includes(token));
    assert.equal(text.split('…').length, 3);
    assert.equal(scrubTokens('no token here'), 'no token here');
  });
});

describe('failure messages', () => {
  const context = { serverUrl: 'http://127.0.0.1:8080', client: 'demo' };

  it('a refused admin key (401) says which server and to run Set Admin Key…', () => {
    const result = describeFailure(new AdminApiError(401, 'Unauthorized', 'Sign in'), {
      ...context,
      operation: 'read-token',
    });
    assert.equal(
      result.message,
      'The admin key was refused by http://127.0.0.1:8080. Run Profilegate: Set Admin Key… and try again.',
    );
    assert.equal(result.fix, 'set-admin-key');
  });

  it('a forbidden role (403) names the action and who may do it', () => {
    const generate = describeFailure(new AdminApiError(403, 'Forbidden', 'x'), {
      ...context,
      operation: 'generate-token',
    });
    assert.match(generate.message, /may not generate the profile token of client demo on http:\/\/127\.0\.0\.1:8080/);
    assert.match(generate.message, /approver, publisher or admin role, a workspace admin or a sysadmin/);
    const toggle = describeFailure(new AdminApiError(403, 'Forbidden', 'x'), {
      ...context,
      operation: 'toggle-authentication',
    });
    assert.match(toggle.message, /may not change Require Authentication/);
    assert.match(toggle.message, /only the admin role, a workspace admin or a sysadmin may/);
  });

  it('an unreachable server names the URL and the setting', () => {
    const result = describeFailure(
      new ServerUnreachableError('http://127.0.0.1:1', 'Nothing is listening at http://127.0.0.1:1; start the server'),
      { ...context, serverUrl: 'http://127.0.0.1:1', operation: 'read-token' },
    );
    assert.match(result.message, /^Cannot reach the Profilegate server at http:\/\/127\.0\.0\.1:1: /);
    assert.match(result.message, /Check the profilegate\.serverUrl setting/);
    assert.equal(result.fix, 'open-server-setting');
  });

  it('an unknown client and a non-Profilegate server point at the right setting', () => {
    assert.equal(
      describeFailure(new AdminApiError(404, 'ClientNotFound', 'Unknown client demo'), {
        ...context,
        operation: 'read-token',
      }).fix,
      'open-client-setting',
    );
    assert.equal(
      describeFailure(new AdminApiError(404, 'Http404', 'Not Found'), { ...context, operation: 'read-token' }).fix,
      'open-server-setting',
    );
  });

  it('other refusals quote the server, masking any token in its message', () => {
    const token = fakeToken();
    const result = describeFailure(new AdminApiError(400, 'InvalidRequest', `bad ${token}`), {
      ...context,
      operation: 'generate-token',
    });
    assert.match(
      result.message,
      /refused to generate the profile token of client demo: bad eyJ\S*…\S{4} \(HTTP 400\)\.$/,
    );
    assert.ok(!result.message.includes(token));
  });
});
