import assert from 'node:assert/strict';
import {
  describeTokenStatus,
  expiryReminder,
  localDay,
  setupView,
  shouldNotifyExpiry,
  statusBarView,
  tokenLevel,
} from '../../src/logic/status';
import { NOW } from '../fixtures/clock';
import { fakeToken } from '../fixtures/jwt';

const DAY = 86_400_000;
const base = { inUse: true, client: 'demo', serverUrl: 'http://127.0.0.1:8080', warningDays: 7, now: NOW };
const tokenExpiringIn = (ms: number) => fakeToken({ iat: NOW / 1000 - 100, exp: Math.floor((NOW + ms) / 1000) });

describe('status bar', () => {
  it('shows the days left in the normal colour outside the warning window', () => {
    const token = tokenExpiringIn(90 * DAY);
    const view = statusBarView({ ...base, token });
    assert.equal(view.level, 'ok');
    assert.equal(view.text, '$(key) Token: 90 days');
    assert.ok(view.visible);
    assert.match(view.tooltip, /client demo on http:\/\/127\.0\.0\.1:8080 expires on 2027-02-20 \(in 90 days\)/);
    assert.ok(!view.tooltip.includes(token));
  });

  it('turns to the warning colour inside expiryWarningDays, and to the error colour once expired', () => {
    assert.equal(statusBarView({ ...base, token: tokenExpiringIn(7 * DAY) }).level, 'warning');
    assert.equal(statusBarView({ ...base, token: tokenExpiringIn(7 * DAY) }).text, '$(warning) Token: 7 days');
    assert.equal(statusBarView({ ...base, token: tokenExpiringIn(8 * DAY) }).level, 'ok');
    assert.equal(statusBarView({ ...base, token: tokenExpiringIn(5 * 3_600_000) }).text, '$(warning) Token: 5 hours');
    const expired = statusBarView({ ...base, token: tokenExpiringIn(-DAY) });
    assert.equal(expired.level, 'expired');
    assert.equal(expired.text, '$(error) Token expired');
  });

  it('with 0 warning days warns only once expired', () => {
    assert.equal(tokenLevel(NOW + 60_000, NOW, 0), 'ok');
    assert.equal(tokenLevel(NOW, NOW, 0), 'expired');
  });

  it('right after install (nothing stored, no workspace setting) says "Profilegate: set up" and opens the walkthrough', () => {
    const fresh = statusBarView({ ...base, inUse: false, token: undefined });
    assert.equal(fresh.visible, true);
    assert.equal(fresh.text, '$(rocket) Profilegate: set up');
    assert.equal(fresh.action, 'walkthrough');
    const invalid = setupView('profilegate.client: 1 to 64 characters');
    assert.equal(invalid.action, 'walkthrough');
    assert.match(invalid.tooltip, /fix the settings first \(profilegate\.client/);
  });

  it('says "No token" where Profilegate is in use but no token is stored; a click shows the status', () => {
    const keyOnly = statusBarView({ ...base, token: undefined });
    assert.ok(keyOnly.visible);
    assert.equal(keyOnly.text, '$(key) No token');
    assert.equal(keyOnly.action, 'status');
    assert.equal(statusBarView({ ...base, token: tokenExpiringIn(30 * DAY) }).action, 'status');
  });

  it('counts days with the one rounding rule, and warns exactly when the days shown reach expiryWarningDays', () => {
    // 6.5 days: "7 days", inside a 7-day window; 7 days and a minute: "8 days", outside it.
    const inside = statusBarView({ ...base, token: tokenExpiringIn(6.5 * DAY) });
    assert.equal(inside.text, '$(warning) Token: 7 days');
    const outside = statusBarView({ ...base, token: tokenExpiringIn(7 * DAY + 60_000) });
    assert.equal(outside.text, '$(key) Token: 8 days');
    assert.equal(outside.level, 'ok');
    // What the toast said at generation ("90 days") is what the status bar says minutes later.
    assert.equal(
      statusBarView({ ...base, token: tokenExpiringIn(90 * DAY - 5 * 60_000) }).text,
      '$(key) Token: 90 days',
    );
  });

  it('turns to the warning colour once the server’s token is another one, or none, saying so without the token', () => {
    const token = tokenExpiringIn(90 * DAY);
    const other = tokenExpiringIn(89 * DAY);
    const server = (value: string | null) => ({
      kind: 'token' as const,
      token: value,
      issuedAt: NOW - 3_600_000,
      expiresAt: NOW + 89 * DAY,
      createdBy: 'ops',
    });
    const same = statusBarView({ ...base, token, server: server(token) });
    assert.equal(same.level, 'ok');
    assert.equal(same.replaced, false);
    const replaced = statusBarView({ ...base, token, server: server(other) });
    assert.equal(replaced.level, 'warning');
    assert.equal(replaced.replaced, true);
    assert.equal(replaced.text, '$(warning) Token replaced');
    assert.match(
      replaced.tooltip,
      /was replaced on the server on 2026-11-22 by ops: it and its copies in this workspace no longer work/,
    );
    assert.ok(!replaced.tooltip.includes(token) && !replaced.tooltip.includes(other));
    const revoked = statusBarView({ ...base, token, server: { kind: 'none' } });
    assert.equal(revoked.text, '$(warning) Token revoked');
    assert.equal(statusBarView({ ...base, token, server: { kind: 'unknown' } }).level, 'ok');
    assert.equal(statusBarView({ ...base, token: tokenExpiringIn(-DAY), server: server(other) }).level, 'expired');
  });

  it('reminds once a day inside the warning window, never outside it', () => {
    const today = localDay(NOW);
    assert.equal(shouldNotifyExpiry('ok', undefined, NOW), false);
    assert.equal(shouldNotifyExpiry('none', undefined, NOW), false);
    assert.equal(shouldNotifyExpiry('warning', undefined, NOW), true);
    assert.equal(shouldNotifyExpiry('warning', today, NOW), false);
    assert.equal(shouldNotifyExpiry('warning', today, NOW + DAY), true);
    assert.equal(shouldNotifyExpiry('expired', localDay(NOW - DAY), NOW), true);
    assert.match(localDay(NOW), /^\d{4}-\d{2}-\d{2}$/);
  });

  it('words the reminder with the time left or the expiry day', () => {
    assert.match(expiryReminder(tokenExpiringIn(3 * DAY), 'demo', NOW), /expires in 3 days \(2026-11-25\)/);
    assert.match(
      expiryReminder(tokenExpiringIn(-DAY), 'demo', NOW),
      /expired on 2026-11-21: requests that use it get 401/,
    );
  });
});

describe('token status text', () => {
  const serverToken = {
    createdAt: '2026-11-22T09:00:00.000Z',
    expiresAt: '2027-02-20T09:00:00.000Z',
    createdBy: 'ops',
  };
  const common = { client: 'demo', serverUrl: 'http://h:1', now: NOW };

  it('gives expiry, creator, auth state, and that the stored token is the current one', () => {
    const stored = fakeToken({ exp: Date.parse(serverToken.expiresAt) / 1000 });
    const text = describeTokenStatus({
      ...common,
      settings: { requireAuthentication: true, token: serverToken },
      storedToken: stored,
    });
    assert.match(
      text,
      /^The profile token of client demo on http:\/\/h:1 expires in 90 days \(2027-02-20\); generated by ops on 2026-11-22\./,
    );
    assert.match(text, /Require Authentication is on/);
    assert.match(text, /is the current one\.$/);
    assert.ok(!text.includes(stored));
  });

  it('says when the stored token is not the current one, or none is stored, or the server has none', () => {
    const other = fakeToken();
    assert.match(
      describeTokenStatus({
        ...common,
        settings: { requireAuthentication: false, token: serverToken },
        storedToken: other,
      }),
      /Require Authentication is off.*is not the current one: run Profilegate: Update Stored Token…/,
    );
    assert.match(
      describeTokenStatus({
        ...common,
        settings: { requireAuthentication: true, token: serverToken },
        storedToken: undefined,
      }),
      /No token is stored in VS Code/,
    );
    assert.match(
      describeTokenStatus({ ...common, settings: { requireAuthentication: true, token: null }, storedToken: other }),
      /has no profile token\. .*no longer works\./,
    );
  });
});
