import { systemClock, type Clock } from './clock';
import { ValidationError } from './errors';
import { maskToken } from '@profilegate/client';
import { OptionChecks } from './options';
import { storableText } from './storable-text';
import type { AuditEvent, Store } from './store/types';

/** Options of an AuditLog. */
export interface AuditLogOptions {
  store: Store;
  clock?: Clock;
  /** At most one `auth.denied` event per client per this many milliseconds (default 60,000). */
  denialSampleMs?: number;
}

/** Actions an admin (or the token service for one) records. `auth.denied` goes through recordDenial. */
export type RecordedAction = Exclude<AuditEvent['action'], 'auth.denied'>;

/** The actor of `auth.denied` events: profile requests have no authenticated actor. */
export const ANONYMOUS_ACTOR = 'anonymous';

/** Most audit events one `list` returns. */
export const MAX_AUDIT_LIMIT = 1000;

/** Distinct denial reasons counted per window; more are counted under `other`. */
const MAX_REASONS = 32;
const MAX_REASON_LENGTH = 64;

// Defence in depth: audit details must never hold a token. A JWT is three base64url parts joined
// by dots; ours start with `eyJ` (`{"`). Long generic triples are refused as well, but short dotted
// words (`1.2.3`, `api.example.com`) stay allowed.
const JWT_LIKE = [
  /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/,
  /[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/,
];

/** True when a text contains something shaped like a JWT. */
export function looksLikeJwt(text: string): boolean {
  return JWT_LIKE.some((pattern) => pattern.test(text));
}

const JWT_LIKE_GLOBAL = JWT_LIKE.map((pattern) => new RegExp(pattern.source, 'g'));

/**
 * `text` with everything shaped like a JWT masked to its first 6 and last 4 characters, and any
 * character a store cannot keep replaced (storableText).
 */
export function scrubJwts(text: string): string {
  let scrubbed = storableText(text);
  for (const pattern of JWT_LIKE_GLOBAL) scrubbed = scrubbed.replace(pattern, (match) => maskToken(match));
  return scrubbed;
}

/** A JSON value with every string (keys too) scrubbed of JWT-shaped text. */
function scrubValue(value: unknown): unknown {
  if (typeof value === 'string') return scrubJwts(value);
  if (Array.isArray(value)) return value.map(scrubValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[scrubJwts(key)] = scrubValue(inner);
    return out;
  }
  return value;
}

interface PendingDenials {
  count: number;
  reasons: Map<string, number>;
  /** Epoch milliseconds of the first denial not written yet. */
  since: number;
}

interface ClientDenials {
  /** When the last `auth.denied` event of this client was written (epoch ms), or -Infinity. */
  lastWrittenAt: number;
  pending: PendingDenials | null;
  timer: NodeJS.Timeout | null;
}

function cleanReason(reason: string): string {
  const text = String(reason)
    .replace(/[^A-Za-z0-9_.:-]/g, '_')
    .slice(0, MAX_REASON_LENGTH);
  return text === '' ? 'unknown' : text;
}

/**
 * The audit trail of token and settings changes (API.md 3.3). Denied profile requests are
 * counted, not logged one by one: the first denial of a quiet client is written at once, later
 * ones within `denialSampleMs` are summed into one event written when the window ends (by an
 * unref'd timer, the next denial after it, or `flush`). Call `flush` before shutting down.
 */
export class AuditLog {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly denialSampleMs: number;
  private readonly denials = new Map<string, ClientDenials>();
  private readonly writes = new Set<Promise<void>>();
  private writeError: unknown = undefined;

  /** Checks the options (OptionsError naming the option). */
  constructor(options: AuditLogOptions) {
    const check: OptionChecks = new OptionChecks('AuditLog');
    check.object(options);
    check.methods('store', options.store, ['appendAudit', 'listAudit'], 'must implement Store');
    this.store = options.store;
    this.clock = check.func('clock', options.clock, systemClock);
    this.denialSampleMs = check.number('denialSampleMs', options.denialSampleMs, {
      fallback: 60_000,
      whole: false,
      unit: 'milliseconds',
    });
  }

  /**
   * The event an admin action records, ready to be written in the same transaction as the change
   * it describes. Never throws for what it is given to record: anything shaped like a token, in
   * the details or in the actor id, is masked (first 6 and last 4 characters), not refused, so
   * that scrubbing can never stop a change from being audited.
   */
  event(actor: string, action: RecordedAction, details: Record<string, unknown>): AuditEvent {
    if (typeof actor !== 'string' || actor === '') throw new Error('An audit event needs an actor id');
    let plain: unknown;
    try {
      plain = JSON.parse(JSON.stringify(details ?? {}));
    } catch {
      throw new Error(`Audit details of ${action} must be plain JSON`);
    }
    return { at: this.clock(), actor: scrubJwts(actor), action, details: scrubValue(plain) as Record<string, unknown> };
  }

  /** Appends one event on its own (see `event` for how tokens in it are masked). */
  async record(client: string, actor: string, action: RecordedAction, details: Record<string, unknown>): Promise<void> {
    await this.store.appendAudit(client, this.event(actor, action, details));
  }

  /** Counts one refused profile request; never throws and never waits (it sits on the request path). */
  recordDenial(client: string, reason: string): void {
    const now = this.clock();
    let state = this.denials.get(client);
    if (!state) {
      state = { lastWrittenAt: -Infinity, pending: null, timer: null };
      this.denials.set(client, state);
    }
    const pending = (state.pending ??= { count: 0, reasons: new Map(), since: now });
    pending.count++;
    let key = cleanReason(reason);
    if (!pending.reasons.has(key) && pending.reasons.size >= MAX_REASONS) key = 'other';
    pending.reasons.set(key, (pending.reasons.get(key) ?? 0) + 1);

    const windowEnd = state.lastWrittenAt + this.denialSampleMs;
    if (now >= windowEnd) {
      this.writeDenials(client, state, now);
    } else if (state.timer === null) {
      state.timer = setTimeout(() => {
        const current = this.denials.get(client);
        if (current) {
          current.timer = null;
          this.writeDenials(client, current, Math.max(this.clock(), windowEnd));
        }
      }, windowEnd - now);
      state.timer.unref();
    }
  }

  /** Writes every pending denial count and waits for all writes; rejects if a background write failed. */
  async flush(): Promise<void> {
    for (const [client, state] of this.denials) {
      if (state.timer !== null) {
        clearTimeout(state.timer);
        state.timer = null;
      }
      if (state.pending) this.writeDenials(client, state, this.clock());
    }
    while (this.writes.size > 0) await Promise.all([...this.writes]);
    const error = this.writeError;
    this.writeError = undefined;
    if (error !== undefined) throw error;
  }

  /** The newest `limit` events of a client (1 to MAX_AUDIT_LIMIT), newest first. */
  async list(client: string, limit: number): Promise<AuditEvent[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_LIMIT) {
      throw new ValidationError(`limit must be a whole number from 1 to ${MAX_AUDIT_LIMIT}`);
    }
    return this.store.listAudit(client, limit);
  }

  private writeDenials(client: string, state: ClientDenials, now: number): void {
    const pending = state.pending;
    if (!pending) return;
    state.pending = null;
    state.lastWrittenAt = now;
    const event: AuditEvent = {
      at: now,
      actor: ANONYMOUS_ACTOR,
      action: 'auth.denied',
      details: {
        count: pending.count,
        reasons: Object.fromEntries(pending.reasons),
        since: new Date(pending.since).toISOString(),
      },
    };
    const write = this.store.appendAudit(client, event).then(
      () => undefined,
      (error: unknown) => {
        // Kept for flush(): recordDenial runs on the request path and must not throw.
        this.writeError ??= error;
      },
    );
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  }
}
