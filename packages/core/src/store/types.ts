import type { BatchKey, Profile, ProfileKey, ProfileUpdate } from '../profiles/types';

/** Per-client settings (API.md 3.2). */
export interface Settings {
  requireAuthentication: boolean;
  /**
   * Days a profile is kept after it was last modified (1 to MAX_RETENTION_DAYS); null keeps it
   * forever (API.md 5). Expired profiles are deleted by the retention sweep (RetentionSweeper).
   */
  profileRetentionDays: number | null;
}

/** A change of settings: the fields given are changed, the others kept as they are. */
export type SettingsChange = Partial<Settings>;

/** The fields `change` gives (a field present but undefined is left out, not written). */
export function definedSettings(change: SettingsChange): SettingsChange {
  const out: SettingsChange = {};
  if (change.requireAuthentication !== undefined) out.requireAuthentication = change.requireAuthentication;
  if (change.profileRetentionDays !== undefined) out.profileRetentionDays = change.profileRetentionDays;
  return out;
}

/** Longest retention a client may set, in days (ten years). */
export const MAX_RETENTION_DAYS = 3650;

/** The settings a client has before anyone changes them: secure by default, profiles kept forever. */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  requireAuthentication: true,
  profileRetentionDays: null,
});

/** What the store keeps of an issued token: its id and times, never the token itself. */
export interface TokenRecord {
  jti: string;
  /** Id of the signing key that signed it. */
  kid: string;
  /** Epoch milliseconds; also the token's `iat` (in seconds, floored). */
  createdAt: number;
  /** Epoch milliseconds; also the token's `exp` (in seconds). */
  expiresAt: number;
  createdBy: string;
}

/** A replaced token that keeps working until `graceUntil` (epoch milliseconds). */
export interface GracedToken {
  jti: string;
  graceUntil: number;
  /** What the store kept of the replaced token, to list it masked (absent in states written before 0.2). */
  record?: TokenRecord;
}

/**
 * The graced tokens after `previous` is replaced at `now`: only `previous` itself, until
 * `graceUntil`, when a grace in the future was asked for; every older graced token ends (API.md 3.1).
 */
export function gracedAfterReplacing(
  previous: TokenRecord | null,
  graceUntil: number | null,
  now: number,
): GracedToken[] {
  if (previous === null || graceUntil === null || graceUntil <= now) return [];
  return [{ jti: previous.jti, graceUntil: Math.min(graceUntil, previous.expiresAt), record: { ...previous } }];
}

/** Token state of one client. Only `current` and unexpired `graced` tokens verify. */
export interface TokenState {
  current: TokenRecord | null;
  graced: GracedToken[];
}

/** One audit event (API.md 3.3). Never holds a token. */
export interface AuditEvent {
  /** Epoch milliseconds. */
  at: number;
  actor: string;
  action:
    | 'token.generated'
    | 'token.revoked'
    | 'settings.changed'
    | 'auth.denied'
    | 'profile.deleted'
    | 'profiles.expired'
    | 'profiles.exported';
  details: Record<string, unknown>;
}

/** Profiles per page of `Store.exportProfiles` when the caller gives no size. */
export const EXPORT_PAGE_SIZE = 500;

/** Status of a batch (API.md 2.2). */
export type BatchState = 'incomplete' | 'complete' | 'stuck';

/**
 * A row that failed, as shown by batchStatus `showDetails=true` (as `Line N: message`, see
 * `failureMessage`). Stores keep it cut down (`failure-log.ts`): the id cut off after 64
 * characters, text no store can keep replaced by U+FFFD.
 */
export interface BatchFailure {
  /** 1-based line of the row in the body; absent when not known (a row refused while being applied). */
  line?: number;
  id: string;
  /** Why the row failed, without its line. */
  message: string;
}

/** Everything batchStatus reports about one batch. */
export interface BatchRecord {
  batchId: string;
  client: string;
  /** v1 only updates existing profiles; v2 creates missing ones. */
  version: 'v1' | 'v2';
  status: BatchState;
  batchSize: number;
  consumedCount: number;
  successfulUpdates: number;
  profilesNotFound: number;
  failedUpdates: number;
  /** At most the first MAX_REPORTED_FAILURES failed rows (fewer when they would take more room than the rows did). */
  failures: BatchFailure[];
  /**
   * At least this many bytes of the body were failed rows (`failedRowBytes` of each); what a store
   * keeps of `failures` stays within it plus FAILURE_LOG_SLACK. Absent: worked out from `failures`.
   */
  failedRowBytes?: number;
  /** Why a stuck batch could not be applied. */
  message?: string;
  createdAt: number;
  completedAt?: number;
}

/** The message of a batch that recovery marked stuck: its process stopped before applying it. */
export const ABANDONED_BATCH_MESSAGE =
  'The server stopped before the batch was applied; nothing of it was stored. Send it again.';

/** How many failed rows a batch status lists. */
export const MAX_REPORTED_FAILURES = 1000;

/** What to record when a batch is created. */
export interface NewBatch {
  client: string;
  version: 'v1' | 'v2';
  batchSize: number;
  /** Rows already refused while parsing (bad id, value too long); counted as failed. */
  parseFailures: BatchFailure[];
  parseFailedCount: number;
  /** `failedRowBytes` of every row refused while parsing, listed or not (absent: worked out from `parseFailures`). */
  parseFailedRowBytes?: number;
  now: number;
}

/** A valid row of a batch, in body order: keyed by pcId or thirdPartyId only. */
export type BatchRow = ProfileUpdate<BatchKey>;

/**
 * Opens a batch's valid rows, in body order and in chunks. A store may call it again to start
 * over (PostgreSQL retries a transaction that lost a deadlock), so every call must yield the
 * same rows from the first one.
 */
export type BatchRows = (() => AsyncIterable<BatchRow[]>) & {
  /**
   * The same rows still encoded (store/encoded-rows.ts), when the caller has them so: a store
   * that hands rows to another thread passes the text on and decodes it there, instead of
   * decoding it here and copying the objects.
   */
  encoded?: () => AsyncIterable<EncodedBatchRows>;
};

/** A batch being worked out while its body is parsed (Store.prestageBatch); nothing of it is stored yet. */
export interface PrestagedBatch {
  /** Hands over the next valid rows, encoded; resolves once more can be taken. Never rejects. */
  add(rows: EncodedBatchRows): Promise<void>;
  /** Drops what was worked out: the body or the batch was refused. */
  discard(): Promise<void>;
}

/** Batch rows encoded by encodeBatchRow, one text a row (decodeBatchRows reads them back). */
export interface EncodedBatchRows {
  lines: readonly string[];
}

/** Options of one batch application. */
export interface ApplyBatchOptions {
  /** v2 semantics: create profiles that are not found. */
  createMissing: boolean;
  now: number;
}

/** Result of a single-profile update. */
export type UpdateOutcome =
  | { status: 'updated'; profile: Profile; created: boolean }
  | { status: 'notFound' }
  | { status: 'rejected'; message: string };

/** Result of linking an Experience Cloud ID to a profile. */
export type LinkOutcome =
  | {
      status: 'linked';
      /** The profile as it is now, carrying the ECID. */
      profile: Profile;
      /** The pcId of the other profile of the client that held the ECID until now, or null. */
      movedFrom: string | null;
    }
  | { status: 'notFound' };

/** Options of a single-profile update. */
export interface UpdateProfileOptions {
  /**
   * Create the profile when it does not exist (the profile tracker does; the update route does
   * not). Never by Experience Cloud ID: an update naming an unlinked ECID is `notFound`.
   */
  createMissing: boolean;
  now: number;
}

/** A change another instance (or this one) made that caches must see. */
export interface StoreChange {
  client: string;
  kind: 'token' | 'settings';
}

/**
 * Everything Profilegate persists. Every implementation passes the conformance suite in
 * `packages/core/test/store-conformance.ts`.
 */
export interface Store {
  /** A short name for logs: `memory`, `sqlite`, `postgres`. */
  readonly kind: string;

  getProfile(client: string, key: ProfileKey): Promise<Profile | null>;
  /** Merges attributes into one profile (empty values ignored), atomically; the profile's ECID link stays. */
  updateProfile(client: string, update: ProfileUpdate, options: UpdateProfileOptions): Promise<UpdateOutcome>;
  /**
   * Links an Experience Cloud ID to the existing profile `pcId`, atomically: the ECID the profile
   * held before (if any) is dropped, and the ECID leaves any other profile of the client that held
   * it (the latest link wins). Never creates a profile; attributes and `modifiedAt` stay as they are.
   */
  linkMarketingCloudVisitorId(client: string, pcId: string, marketingCloudVisitorId: string): Promise<LinkOutcome>;

  /**
   * Deletes the profile `key` names, with its attributes and its id links (thirdPartyId, ECID), and
   * returns it as it was, or null when there is none (nothing is then written). `audit`, given the
   * deleted profile, makes the event written with the deletion: in the same transaction where the
   * store keeps both in one database. A batch applied meanwhile never brings the profile back.
   */
  deleteProfile(client: string, key: ProfileKey, audit?: (deleted: Profile) => AuditEvent): Promise<Profile | null>;
  /**
   * Deletes at most `limit` profiles of `client` last modified before `olderThan` (epoch ms), with
   * their attributes and id links, in one short transaction, and returns how many. Profiles another
   * writer holds at that moment are skipped, not waited for (a later call takes them if they are
   * still expired), so that several instances sweeping one database never wait on each other. A
   * batch applied meanwhile never brings a deleted profile back.
   */
  deleteExpiredProfiles(client: string, olderThan: number, limit: number): Promise<number>;

  /**
   * Every profile of a client, in pages of at most `pageSize` (default EXPORT_PAGE_SIZE), in pcId
   * order (keyset pages: each page is one short read, never a transaction held open across pages,
   * so memory stays at one page however many profiles there are). Not a snapshot: a profile written
   * or deleted while the pages are read may be seen in either state, or not at all when it is
   * created behind the cursor. Stop iterating (break or return) to stop reading.
   */
  exportProfiles(client: string, pageSize?: number): AsyncIterable<Profile[]>;

  /** Records a new batch with status `incomplete` and returns it with its new `batchId`. */
  createBatch(batch: NewBatch): Promise<BatchRecord>;
  /**
   * Applies every row in one transaction and marks the batch `complete` in that same
   * transaction: after a crash either all of it is applied or none. Rows arrive in chunks.
   */
  applyBatch(
    client: string,
    batchId: string,
    rows: BatchRows,
    options: ApplyBatchOptions,
    prestaged?: PrestagedBatch,
  ): Promise<BatchRecord>;
  /**
   * Optional (SQLite): starts working out a batch of `client` while its body is still parsed,
   * storing nothing; null when it cannot start now (another batch is being applied). Its handle
   * goes to `applyBatch` once the batch is recorded, which merges what was worked out (or, when
   * that failed, applies `rows` as usual); or to `discard` when the batch is not accepted.
   */
  prestageBatch?(client: string, options: ApplyBatchOptions): PrestagedBatch | null;
  /** Marks a batch `stuck` (nothing of it stored) with the reason. */
  markBatchStuck(client: string, batchId: string, message: string): Promise<void>;
  getBatch(client: string, batchId: string): Promise<BatchRecord | null>;
  /**
   * Marks `stuck` the `incomplete` batches that no live process will finish (left behind by a
   * crash) and returns how many. A batch this store created is never taken, nor, for a store
   * shared by several instances, one whose instance still renews its lease.
   */
  recoverIncompleteBatches(): Promise<number>;
  /** Deletes a client's batch statuses older than `olderThan` beyond its newest `keepLast`. */
  pruneBatches(client: string, keepLast: number, olderThan: number): Promise<void>;

  getSettings(client: string): Promise<Settings>;
  /**
   * Changes the fields of a client's settings that `change` gives (the others stay as they are)
   * and returns the settings replaced. `audit`, when given, makes the event written in the same
   * transaction: the change and its audit record commit together or not at all.
   */
  putSettings(client: string, change: SettingsChange, audit?: (before: Settings) => AuditEvent): Promise<Settings>;

  getTokenState(client: string): Promise<TokenState>;
  /**
   * Makes `token` the current token atomically. The previous current token keeps working until
   * `graceUntil` when given (it becomes the only graced token), otherwise it stops at once; every
   * older graced token stops at once either way. `audit` is written in the same transaction.
   */
  replaceToken(
    client: string,
    token: TokenRecord,
    graceUntil: number | null,
    now: number,
    audit?: AuditEvent,
  ): Promise<TokenState>;
  /**
   * Removes the current token and every graced one; returns whether there was a current token.
   * `audit` is written in the same transaction.
   */
  revokeTokens(client: string, audit?: (hadToken: boolean) => AuditEvent): Promise<boolean>;

  appendAudit(client: string, event: AuditEvent): Promise<void>;
  /** Newest first. */
  listAudit(client: string, limit: number): Promise<AuditEvent[]>;

  /** Subscribes to token and settings changes (all instances sharing the store, where supported). */
  onChange(listener: (change: StoreChange) => void): () => void;

  close(): Promise<void>;

  /** Every recorded signing key (retired ones too), by kid. */
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /**
   * Reads the recorded signing keys, asks `decide` what to write and writes it, stamped `now`: one
   * call at a time across every instance sharing the store, so two instances never both register
   * conflicting keys. When `decide` throws, nothing is written and its error is thrown. Returns
   * the records afterwards; a change is announced to `onSigningKeysChange` listeners.
   */
  syncSigningKeys(decide: DecideSigningKeys, now: number): Promise<SigningKeyRecord[]>;
  /** Subscribes to changes of the recorded signing keys (by any instance sharing the store, where supported). */
  onSigningKeysChange(listener: () => void): () => void;
}

/**
 * What a store keeps of a signing key, so that instances sharing it can tell whether they hold
 * the same keys: its id and a fingerprint, never the key (docs/multi-instance.md).
 */
export interface SigningKeyRecord {
  kid: string;
  /** A keyed hash of a fixed label under the key (`signingKeyFingerprint`); empty for a key recorded only as retired. */
  fingerprint: string;
  /** The instance that recorded it, and where its keys came from. */
  registeredBy: string;
  /** Epoch milliseconds. */
  registeredAt: number;
  /** Epoch milliseconds, once retired: the key then verifies nothing on any instance, for good. */
  retiredAt: number | null;
}

/** What one `Store.syncSigningKeys` writes. */
export interface SigningKeyChanges {
  /** Recorded as `registeredBy` of new records. */
  by: string;
  /** Keys to record; a kid already recorded is left as it is. */
  register: Array<{ kid: string; fingerprint: string }>;
  /** Kids to mark retired (unless they already are); a kid not recorded yet is recorded retired, with no fingerprint. */
  retire: string[];
}

/** Decides, from the recorded signing keys, what to write; throws to write nothing. Must be synchronous and pure. */
export type DecideSigningKeys = (recorded: SigningKeyRecord[]) => SigningKeyChanges;
