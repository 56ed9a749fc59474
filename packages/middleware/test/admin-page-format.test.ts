/** The admin page's pure helpers (assets/admin-page/format.mjs), run in Node exactly as the browser loads them. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { maskToken as clientMaskToken } from '@profilegate/client';

interface AuditEventLike {
  at?: string;
  actor?: string;
  action?: string;
  details?: unknown;
}

interface FormatModule {
  splitDuration(ms: number): { days: number; hours: number; minutes: number };
  formatExpiresIn(msLeft: number): string;
  formatSeconds(seconds: number): string;
  maskToken(token: unknown): string;
  clockSkewMs(dateHeader: string | null, browserNow: number): number;
  describeActor(actor: string): string;
  describeAuditEvent(event: AuditEventLike, formatDate: (iso: string) => string): string;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('admin page helpers (format.mjs)', () => {
  let f: FormatModule;
  before(async () => {
    // Compiled to dist/test: the page's files are in the package's assets folder.
    const file = join(__dirname, '..', '..', 'assets', 'admin-page', 'format.mjs');
    f = (await import(pathToFileURL(file).href)) as FormatModule;
  });

  describe('formatExpiresIn', () => {
    it('says days, hours and minutes, rounded down', () => {
      assert.equal(f.formatExpiresIn(90 * DAY), 'Expires in: 90 days, 0 hours, 0 minutes');
      assert.equal(f.formatExpiresIn(90 * DAY - 1), 'Expires in: 89 days, 23 hours, 59 minutes');
      assert.equal(
        f.formatExpiresIn(3 * DAY + 2 * HOUR + 5 * MINUTE + 59_999),
        'Expires in: 3 days, 2 hours, 5 minutes',
      );
    });

    it('uses the singular for one', () => {
      assert.equal(f.formatExpiresIn(DAY + HOUR + MINUTE), 'Expires in: 1 day, 1 hour, 1 minute');
      assert.equal(f.formatExpiresIn(MINUTE), 'Expires in: 0 days, 0 hours, 1 minute');
    });

    it('says "less than a minute" at the end and "Expired" after it', () => {
      assert.equal(f.formatExpiresIn(59_999), 'Expires in: less than a minute');
      assert.equal(f.formatExpiresIn(1), 'Expires in: less than a minute');
      assert.equal(f.formatExpiresIn(0), 'Expired');
      assert.equal(f.formatExpiresIn(-5 * DAY), 'Expired');
      assert.equal(f.formatExpiresIn(Number.NaN), 'Expired');
    });

    it('never counts up as time passes', () => {
      let previous = f.splitDuration(400 * DAY);
      for (let left = 400 * DAY; left >= 0; left -= 7 * HOUR + 13 * MINUTE + 17_000) {
        const now = f.splitDuration(left);
        const total = (d: typeof now) => (d.days * 24 + d.hours) * 60 + d.minutes;
        assert.ok(total(now) <= total(previous), `at ${left} ms`);
        assert.ok(now.hours < 24 && now.minutes < 60);
        previous = now;
      }
    });
  });

  it('formatSeconds picks the largest whole unit', () => {
    assert.equal(f.formatSeconds(0), '0 seconds');
    assert.equal(f.formatSeconds(90), '90 seconds');
    assert.equal(f.formatSeconds(300), '5 minutes');
    assert.equal(f.formatSeconds(3600), '1 hour');
    assert.equal(f.formatSeconds(86_400), '1 day');
    assert.equal(f.formatSeconds(172_800), '2 days');
  });

  it('masks a token exactly as core does', () => {
    const samples = [
      '',
      'short',
      '0123456789abcde',
      '0123456789abcdef',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhY21lIn0.sig-nature_x',
    ];
    for (const token of samples) assert.equal(f.maskToken(token), clientMaskToken(token), JSON.stringify(token));
    assert.equal(f.maskToken(undefined), '…');
  });

  it('corrects the countdown only for a real clock difference', () => {
    const now = Date.parse('2026-11-22T10:00:00.500Z');
    assert.equal(f.clockSkewMs('Sun, 22 Nov 2026 10:00:00 GMT', now), 0, 'Date has whole seconds');
    assert.equal(f.clockSkewMs('Sun, 22 Nov 2026 10:05:00 GMT', now), 5 * MINUTE - 500);
    assert.equal(f.clockSkewMs('Sun, 22 Nov 2026 09:00:00 GMT', now), -HOUR - 500);
    assert.equal(f.clockSkewMs(null, now), 0);
    assert.equal(f.clockSkewMs('not a date', now), 0);
  });

  describe('describeAuditEvent', () => {
    const date = (iso: string) => `<${iso}>`;

    it('describes token and settings events', () => {
      assert.equal(
        f.describeAuditEvent(
          { action: 'token.generated', details: { expiresAt: '2027-01-01T00:00:00.000Z', graceSeconds: 0 } },
          date,
        ),
        'Generated a new profile token, valid until <2027-01-01T00:00:00.000Z>; the previous token stopped working at once',
      );
      assert.equal(
        f.describeAuditEvent({ action: 'token.generated', details: { graceSeconds: 3600 } }, date),
        'Generated a new profile token; the previous token kept working for 1 hour',
      );
      assert.equal(
        f.describeAuditEvent({ action: 'token.revoked', details: { hadToken: true } }, date),
        'Revoked the profile token',
      );
      assert.equal(
        f.describeAuditEvent(
          { action: 'settings.changed', details: { requireAuthentication: { from: true, to: false } } },
          date,
        ),
        'Turned Require Authentication off',
      );
      assert.equal(
        f.describeAuditEvent(
          { action: 'settings.changed', details: { requireAuthentication: { from: false, to: true } } },
          date,
        ),
        'Turned Require Authentication on',
      );
    });

    it('describes exports, finished or stopped', () => {
      assert.equal(
        f.describeAuditEvent(
          { action: 'profiles.exported', details: { format: 'csv', key: 'pcId', count: 2, complete: true } },
          date,
        ),
        'Exported 2 profiles as CSV',
      );
      assert.equal(
        f.describeAuditEvent(
          { action: 'profiles.exported', details: { format: 'ndjson', key: 'pcId', count: 1, complete: false } },
          date,
        ),
        'Started an export of the profiles (1 profile as NDJSON sent, then stopped)',
      );
    });

    it('sums refused requests with readable reasons', () => {
      assert.equal(
        f.describeAuditEvent(
          { action: 'auth.denied', details: { count: 3, reasons: { missing: 2, expired: 1 } } },
          date,
        ),
        'Refused 3 profile requests (no token: 2, expired token: 1)',
      );
      assert.equal(
        f.describeAuditEvent({ action: 'auth.denied', details: { count: 1, reasons: { some_new_reason: 1 } } }, date),
        'Refused 1 profile request (some new reason: 1)',
      );
      assert.equal(f.describeActor('anonymous'), 'Profile API callers');
      assert.equal(f.describeActor('ops'), 'ops');
    });

    it('describes retention changes and sweeps, never with ids (issue 19)', () => {
      const changed = (details: unknown) => f.describeAuditEvent({ action: 'settings.changed', details }, date);
      assert.equal(changed({ profileRetentionDays: { from: null, to: 30 } }), 'Set profile retention to 30 days');
      assert.equal(changed({ profileRetentionDays: { from: 30, to: 1 } }), 'Set profile retention to 1 day');
      assert.equal(changed({ profileRetentionDays: { from: 30, to: null } }), 'Set profile retention to keep forever');
      assert.equal(
        changed({ requireAuthentication: { from: true, to: false }, profileRetentionDays: { from: null, to: 7 } }),
        'Turned Require Authentication off; Set profile retention to 7 days',
      );
      assert.equal(
        f.describeAuditEvent(
          { action: 'profiles.expired', details: { count: 1200, profileRetentionDays: 30, modifiedBefore: 'x' } },
          date,
        ),
        'Deleted 1200 expired profiles (not modified for 30 days)',
      );
      assert.equal(
        f.describeAuditEvent({ action: 'profiles.expired', details: { count: 1 } }, date),
        'Deleted 1 expired profile',
      );
    });

    it('parses the retention field: empty is keep forever, 1..3650 whole days, anything else a mistake', async () => {
      const file = join(__dirname, '..', '..', 'assets', 'admin-page', 'retention.mjs');
      const { parseRetention } = (await import(pathToFileURL(file).href)) as {
        parseRetention(text: string): number | null | undefined;
      };
      assert.equal(parseRetention(''), null);
      assert.equal(parseRetention('  '), null);
      assert.equal(parseRetention('1'), 1);
      assert.equal(parseRetention(' 3650 '), 3650);
      for (const bad of ['0', '3651', '1.5', '-1', '1e3', 'abc', '30 days'])
        assert.equal(parseRetention(bad), undefined, bad);
    });

    it('falls back to the action code on unknown or malformed events', () => {
      assert.equal(f.describeAuditEvent({ action: 'future.action', details: null }, date), 'future.action');
      assert.equal(f.describeAuditEvent({ action: 'settings.changed', details: [] }, date), 'Changed the settings');
      assert.equal(f.describeAuditEvent({}, date), 'unknown event');
    });
  });
});
