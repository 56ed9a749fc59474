/**
 * Pure helpers of the admin page (no DOM, no clock): the page loads this file as an ES module and
 * the unit tests import it in Node, so every text the page computes is tested without a browser.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Whole days, hours and minutes in `ms`, rounded down (so the page never promises time a token lacks). */
export function splitDuration(ms) {
  const rest = Number.isFinite(ms) && ms > 0 ? Math.floor(ms) : 0;
  return {
    days: Math.floor(rest / DAY),
    hours: Math.floor((rest % DAY) / HOUR),
    minutes: Math.floor((rest % HOUR) / MINUTE),
  };
}

function count(n, unit) {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/**
 * The "Expires In" line of Adobe's screen for `msLeft` milliseconds:
 * `Expires in: 89 days, 23 hours, 59 minutes`, `Expires in: less than a minute`, or `Expired`.
 */
export function formatExpiresIn(msLeft) {
  if (!Number.isFinite(msLeft) || msLeft <= 0) return 'Expired';
  if (msLeft < MINUTE) return 'Expires in: less than a minute';
  const { days, hours, minutes } = splitDuration(msLeft);
  return `Expires in: ${count(days, 'day')}, ${count(hours, 'hour')}, ${count(minutes, 'minute')}`;
}

/** A number of seconds as people say it: `0 seconds`, `90 seconds`, `5 minutes`, `1 hour`, `2 days`. */
export function formatSeconds(seconds) {
  const s = Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
  if (s >= 86_400 && s % 86_400 === 0) return count(s / 86_400, 'day');
  if (s >= 3600 && s % 3600 === 0) return count(s / 3600, 'hour');
  if (s >= 60 && s % 60 === 0) return count(s / 60, 'minute');
  return count(s, 'second');
}

/**
 * A token as people may see it once it is no longer shown in full: first 6 and last 4 characters.
 * The same rule as `maskToken` of @profilegate/client (a unit test keeps them equal).
 */
export function maskToken(token) {
  if (typeof token !== 'string' || token.length < 16) return '…';
  return `${token.slice(0, 6)}…${token.slice(-4)}`;
}

/** Milliseconds to add to the browser's clock to get the server's, from a response's `Date` header. */
export function clockSkewMs(dateHeader, browserNow) {
  const serverNow = Date.parse(dateHeader ?? '');
  if (!Number.isFinite(serverNow)) return 0;
  const skew = serverNow - browserNow;
  // `Date` has whole seconds: a gap under 2 s is that rounding, not a wrong clock.
  return Math.abs(skew) < 2000 ? 0 : skew;
}

/** Who an audit event names: `anonymous` is what profile requests (which carry no admin identity) record. */
export function describeActor(actor) {
  return actor === 'anonymous' ? 'Profile API callers' : String(actor);
}

/** Why profile requests were refused (the reasons of core's TokenError), as people say it. */
const DENIAL_REASONS = {
  missing: 'no token',
  invalid_request: 'malformed Authorization header',
  malformed: 'malformed token',
  bad_signature: 'bad signature',
  expired: 'expired token',
  revoked: 'replaced or revoked token',
  wrong_client: "another client's token",
  invalid_claims: 'invalid claims',
};

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * One audit event (API.md 3.3) as a sentence. `formatDate` turns an ISO-8601 time into the
 * viewer's local time (kept outside so this stays pure). Unknown actions show their code.
 */
export function describeAuditEvent(event, formatDate) {
  const details = isObject(event?.details) ? event.details : {};
  switch (event?.action) {
    case 'token.generated': {
      const until = typeof details.expiresAt === 'string' ? `, valid until ${formatDate(details.expiresAt)}` : '';
      const grace = Number(details.graceSeconds) > 0;
      const previous = grace
        ? `the previous token kept working for ${formatSeconds(Number(details.graceSeconds))}`
        : 'the previous token stopped working at once';
      return `Generated a new profile token${until}; ${previous}`;
    }
    case 'token.revoked':
      return details.hadToken === false ? 'Revoked the profile token (there was none)' : 'Revoked the profile token';
    case 'settings.changed': {
      const parts = [];
      const change = isObject(details.requireAuthentication) ? details.requireAuthentication : {};
      if (change.to === true) parts.push('Turned Require Authentication on');
      if (change.to === false) parts.push('Turned Require Authentication off');
      if (isObject(details.profileRetentionDays)) {
        const days = details.profileRetentionDays.to;
        parts.push(
          days === null
            ? 'Set profile retention to keep forever'
            : `Set profile retention to ${count(Number(days), 'day')}`,
        );
      }
      return parts.length > 0 ? parts.join('; ') : 'Changed the settings';
    }
    case 'profiles.expired': {
      const days = Number(details.profileRetentionDays);
      const after = Number.isFinite(days) && days > 0 ? ` (not modified for ${count(days, 'day')})` : '';
      return `Deleted ${count(Number(details.count) || 0, 'expired profile')}${after}`;
    }
    case 'auth.denied': {
      const n = Number(details.count) || 0;
      const reasons = isObject(details.reasons)
        ? Object.entries(details.reasons)
            .map(
              ([reason, times]) =>
                `${Object.hasOwn(DENIAL_REASONS, reason) ? DENIAL_REASONS[reason] : reason.replace(/_/g, ' ')}: ${times}`,
            )
            .join(', ')
        : '';
      return `Refused ${count(n, 'profile request')}${reasons ? ` (${reasons})` : ''}`;
    }
    case 'profiles.exported': {
      const what = `${count(Number(details.count) || 0, 'profile')} as ${String(details.format ?? '').toUpperCase()}`;
      return details.complete === false
        ? `Started an export of the profiles (${what} sent, then stopped)`
        : `Exported ${what}`;
    }
    default:
      return String(event?.action ?? 'unknown event');
  }
}
