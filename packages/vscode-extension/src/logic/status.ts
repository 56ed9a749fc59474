/**
 * What the status bar shows about the stored token, when to remind the user that it expires
 * (once a day inside the warning window), and the text of Show Token Status. Pure: the clock and
 * the stored token are arguments.
 */
import { daysLeft, describeTimeLeft, maskToken, type AuthenticationSettings } from '@profilegate/client';
import { isoDay } from './messages';
import { storedTokenState, type ServerToken } from './server-token';
import { readClaims } from './token-check';

/** How urgent the token's state is; decides the status bar colour. */
export type TokenLevel = 'none' | 'ok' | 'warning' | 'expired';

/** The status bar item's content. */
export interface StatusBarView {
  level: TokenLevel;
  /** The stored token is no longer the server's: regenerated or revoked elsewhere. */
  replaced: boolean;
  text: string;
  tooltip: string;
  /** Whether the item is shown at all. */
  visible: boolean;
  /** What a click does: Show Token Status, or open the Get Started walkthrough. */
  action: 'status' | 'walkthrough';
}

/**
 * The item where Profilegate is not set up yet (nothing stored, no workspace setting) or its
 * settings are invalid: shown right after install, it opens the Get Started walkthrough.
 */
export function setupView(problem?: string): StatusBarView {
  return {
    replaced: false,
    level: 'none',
    text: '$(rocket) Profilegate: set up',
    tooltip:
      problem === undefined
        ? 'Profilegate: set the server, the client and the admin key, or adopt a token found in this workspace. Click to get started.'
        : `Profilegate: fix the settings first (${problem}). Click to get started.`,
    visible: true,
    action: 'walkthrough',
  };
}

/** Inputs of statusBarView. */
export interface StatusInput {
  /** The stored token, if any. */
  token: string | undefined;
  /** Whether Profilegate is in use here without a token: an admin key stored, or settings in the workspace. */
  inUse: boolean;
  client: string;
  serverUrl: string;
  warningDays: number;
  now: number;
  /** The server's current token as last read (undefined or unknown: not read). */
  server?: ServerToken;
}

/** The level of a token expiring at `expiresAt` (ms) at `now`, warning `warningDays` ahead. */
export function tokenLevel(expiresAt: number | null, now: number, warningDays: number): TokenLevel {
  if (expiresAt === null) return 'warning';
  const left = expiresAt - now;
  if (left <= 0) return 'expired';
  // The days the status bar shows (one rounding rule, @profilegate/client's daysLeft).
  return daysLeft(left) <= warningDays ? 'warning' : 'ok';
}

/** The status bar item for the stored token; "set up" where Profilegate is not in use yet (no token, key or workspace setting). */
export function statusBarView(input: StatusInput): StatusBarView {
  const where = `client ${input.client} on ${input.serverUrl}`;
  if (input.token === undefined) {
    if (!input.inUse) return setupView();
    return {
      replaced: false,
      level: 'none',
      text: '$(key) No token',
      tooltip: `Profilegate: no profile token stored for ${where}. Click for the server's token status.`,
      visible: true,
      action: 'status',
    };
  }
  const { expiresAt } = readClaims(input.token);
  const level = tokenLevel(expiresAt, input.now, input.warningDays);
  const masked = maskToken(input.token);
  const server = input.server ?? { kind: 'unknown' };
  const state = storedTokenState(input.token, server);
  if (level !== 'expired' && (state === 'replaced' || state === 'revoked')) {
    const what =
      server.kind === 'token'
        ? `was replaced on the server on ${isoDay(server.issuedAt)} by ${server.createdBy}`
        : 'was revoked on the server';
    return {
      replaced: true,
      level: 'warning',
      text: state === 'revoked' ? '$(warning) Token revoked' : '$(warning) Token replaced',
      tooltip: `Profilegate: the stored token ${masked} of ${where} ${what}: it and its copies in this workspace no longer work. Click for the token status.`,
      visible: true,
      action: 'status',
    };
  }
  if (expiresAt === null) {
    return {
      replaced: false,
      level,
      text: '$(warning) Token: no expiry',
      tooltip: `Profilegate: the stored token ${masked} of ${where} has no expiry date.`,
      visible: true,
      action: 'status',
    };
  }
  if (level === 'expired') {
    return {
      replaced: false,
      level,
      text: '$(error) Token expired',
      tooltip: `Profilegate: the stored token ${masked} of ${where} expired on ${isoDay(expiresAt)}. Generate a new one.`,
      visible: true,
      action: 'status',
    };
  }
  const left = describeTimeLeft(expiresAt - input.now);
  return {
    replaced: false,
    level,
    text: `${level === 'warning' ? '$(warning)' : '$(key)'} Token: ${left}`,
    tooltip: `Profilegate: the stored token ${masked} of ${where} expires on ${isoDay(expiresAt)} (in ${left}). Click for its status.`,
    visible: true,
    action: 'status',
  };
}

/** The local calendar day (`YYYY-MM-DD`) of `now`, for once-a-day decisions. */
export function localDay(now: number): string {
  const date = new Date(now);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Whether to show the expiry reminder: inside the warning window, and not yet today. */
export function shouldNotifyExpiry(level: TokenLevel, lastNotifiedDay: string | undefined, now: number): boolean {
  if (level !== 'warning' && level !== 'expired') return false;
  return lastNotifiedDay !== localDay(now);
}

/** The reminder shown once a day when the stored token expires soon or has expired. */
export function expiryReminder(token: string, client: string, now: number): string {
  const { expiresAt } = readClaims(token);
  if (expiresAt === null) return `The stored profile token of client ${client} has no expiry date.`;
  if (expiresAt <= now) {
    return `The profile token of client ${client} expired on ${isoDay(expiresAt)}: requests that use it get 401. Generate a new one.`;
  }
  return `The profile token of client ${client} expires in ${describeTimeLeft(expiresAt - now)} (${isoDay(expiresAt)}). Generate a new one before then.`;
}

/** The text of Show Token Status: the server's view, and how the stored token relates to it. */
export function describeTokenStatus(input: {
  settings: AuthenticationSettings;
  storedToken: string | undefined;
  client: string;
  serverUrl: string;
  now: number;
}): string {
  const { settings, storedToken, client, serverUrl, now } = input;
  const parts: string[] = [];
  const auth = settings.requireAuthentication
    ? 'Require Authentication is on: profile requests need the token.'
    : 'Require Authentication is off: profile requests work without a token.';
  const server = settings.token;
  if (server === null) {
    parts.push(`Client ${client} on ${serverUrl} has no profile token.`, auth);
    if (storedToken !== undefined)
      parts.push(`The token stored in VS Code (${maskToken(storedToken)}) no longer works.`);
    return parts.join(' ');
  }
  const expiresAt = Date.parse(server.expiresAt);
  const expiry =
    expiresAt <= now
      ? `expired on ${isoDay(expiresAt)}`
      : `expires in ${describeTimeLeft(expiresAt - now)} (${isoDay(expiresAt)})`;
  parts.push(
    `The profile token of client ${client} on ${serverUrl} ${expiry}; generated by ${server.createdBy} on ${isoDay(Date.parse(server.createdAt))}.`,
    auth,
  );
  if (storedToken === undefined) {
    parts.push('No token is stored in VS Code: run Profilegate: Update Stored Token… to store it.');
  } else {
    const storedExpiry = readClaims(storedToken).expiresAt;
    // The server does not show its token here (reading it needs more rights than the status);
    // the same expiry to the second identifies it.
    const same = storedExpiry !== null && Math.floor(storedExpiry / 1000) === Math.floor(expiresAt / 1000);
    parts.push(
      same
        ? `The token stored in VS Code (${maskToken(storedToken)}) is the current one.`
        : `The token stored in VS Code (${maskToken(storedToken)}) is not the current one: run Profilegate: Update Stored Token….`,
    );
  }
  return parts.join(' ');
}
