// Over 300 lines on purpose: this is the Store interface's one entry point for SQLite; each method
// only takes the write lock and delegates to a sibling module (sqlite-*.ts), and splitting the class
// would scatter the lock discipline that keeps admin writes from waiting behind batches.
import { chmodSync, existsSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { Profile, ProfileKey, ProfileUpdate } from '../profiles/types';
import { ChangeEmitter } from './change-emitter';
import { Mutex } from './mutex';
import { SqliteBatchEngines } from './sqlite-batch';
import { SqliteBatchRecords } from './sqlite-batch-records';
import { SqliteProfileDeletion } from './sqlite-delete';
import { SqliteProfileLinks } from './sqlite-links';
import { LINKED_PROFILE_COLUMNS, SqliteProfileWriter, toProfile, type ProfileRow } from './sqlite-rows';
import { SqliteControl, controlPathOf } from './sqlite-control';
import { configureSqliteWriter, migrateSqlite } from './sqlite-schema';
import { SqliteBatchRuns } from './sqlite-batch-runs';
import type {
  ApplyBatchOptions,
  AuditEvent,
  BatchRecord,
  BatchRows,
  DecideSigningKeys,
  LinkOutcome,
  NewBatch,
  PrestagedBatch,
  Settings,
  SettingsChange,
  SigningKeyRecord,
  Store,
  StoreChange,
  TokenRecord,
  TokenState,
  UpdateOutcome,
  UpdateProfileOptions,
} from './types';
import { EXPORT_PAGE_SIZE } from './types';

/** Options of the SQLite store. */
export interface SqliteStoreOptions {
  /**
   * The control database (settings, token state, audit): default beside `path`, `profiles.db` →
   * `profiles.control.db`. Keep and back up both files together.
   */
  controlPath?: string;
  /** Most rows applied between two yields to the event loop while a batch is applied (default 2,000). */
  batchChunkRows?: number;
  /**
   * Longest stretch, in ms, a batch keeps the event loop before yielding (default 10), so that
   * fetches stay quick on a slow machine whatever the rows cost.
   */
  batchSliceMs?: number;
  /**
   * Stage and merge batches in a worker thread with its own connection (default true): the event
   * loop then stays free while a large batch is worked out and committed. When false, or when the
   * worker script cannot be found (running from TypeScript sources), that is done on this thread
   * on a connection of its own, yielding every `batchSliceMs`.
   */
  batchWorker?: boolean;
}

/**
 * The embedded store: two SQLite files through better-sqlite3 in WAL mode (docs/sqlite-batches.md).
 * The profile file's writes go through one connection, one at a time; reads use a second
 * connection, so they see the last committed state and are answered while a batch is applied. A
 * batch is staged on its own connection without the write lock and merged under it. Settings,
 * token state and audit live in the control file, whose writes never wait for a batch.
 */
/**
 * After a deletion: secure_delete zeroes the row in the database file, but the WAL still holds
 * the pages as they were until it is checkpointed and truncated (docs/disk-use.md). A reader in
 * the middle of a snapshot (a batch being staged) puts the truncation off to a later deletion or
 * to close: the checkpoint does not wait for it (busy_timeout 0 for this call), since waiting
 * would stop the whole process (better-sqlite3 is synchronous) for up to the 5 s busy timeout.
 */
function truncateWal(db: Database.Database): void {
  db.pragma('busy_timeout = 0');
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } catch {
    // Busy: the deletion is committed all the same; a later checkpoint truncates the WAL.
  } finally {
    db.pragma('busy_timeout = 5000');
  }
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly writes = new Mutex();
  private readonly changes = new ChangeEmitter();
  /** Batches, one at a time: staged outside `writes`, merged inside (sqlite-batch-runs.ts). */
  private readonly runs: SqliteBatchRuns;
  private readonly rows: SqliteProfileWriter;
  private readonly links: SqliteProfileLinks;
  private readonly deletion: SqliteProfileDeletion;
  private readonly control: SqliteControl;
  private readonly batches: SqliteBatchRecords;
  private readonly sql: ReturnType<typeof prepare>;
  private closed = false;

  /** Opens (creating if needed) the database file and runs pending migrations. */
  constructor(
    readonly path: string,
    options: SqliteStoreOptions = {},
  ) {
    if (path === ':memory:' || path === '')
      throw new Error('SqliteStore needs a file path (readers use their own connection)');
    const isNew = !existsSync(path);
    this.writer = new Database(path);
    if (isNew) chmodSync(path, 0o600);
    configureSqliteWriter(this.writer);
    // The control file is migrated first: a new one takes over the control tables that an earlier
    // Profilegate kept in the profile database, which then drops them.
    this.control = new SqliteControl(options.controlPath ?? controlPathOf(path), this.writer);
    migrateSqlite(this.writer);
    this.reader = new Database(path, { readonly: true });
    this.reader.pragma('busy_timeout = 5000');
    const engines = new SqliteBatchEngines(path, {
      useWorker: options.batchWorker ?? true,
      chunkRows: options.batchChunkRows ?? 2000,
      sliceMs: options.batchSliceMs ?? 10,
    });
    this.sql = prepare(this.reader);
    this.rows = new SqliteProfileWriter(this.writer);
    this.links = new SqliteProfileLinks(this.writer);
    this.deletion = new SqliteProfileDeletion(this.writer);
    this.batches = new SqliteBatchRecords(this.writer, this.reader);
    this.runs = new SqliteBatchRuns(engines, {
      checkOpen: () => this.checkOpen(),
      write: (task) => this.write(task),
      finished: (batchId) => this.batches.finished(batchId),
    });
  }

  async getProfile(client: string, key: ProfileKey): Promise<Profile | null> {
    const read = {
      pcId: this.sql.readByPcId,
      thirdPartyId: this.sql.readByThirdPartyId,
      marketingCloudVisitorId: this.sql.readByMarketingCloudVisitorId,
    }[key.kind];
    const row = read.get(client, key.id) as ProfileRow | undefined;
    return row ? toProfile(row) : null;
  }

  updateProfile(client: string, update: ProfileUpdate, options: UpdateProfileOptions): Promise<UpdateOutcome> {
    return this.write(() => {
      const outcome = this.writer
        .transaction((): UpdateOutcome => {
          const result = this.rows.applyRow(client, update, options.createMissing, options.now);
          if (result.status !== 'write') return result;
          return { status: 'updated', profile: result.profile, created: result.created };
        })
        .immediate();
      if (outcome.status === 'updated') {
        const { pcId, thirdPartyId } = outcome.profile;
        this.runs.touch({ client, pcId, thirdPartyId: thirdPartyId ?? null });
      }
      return outcome;
    });
  }

  linkMarketingCloudVisitorId(client: string, pcId: string, marketingCloudVisitorId: string): Promise<LinkOutcome> {
    return this.write(() =>
      this.writer
        .transaction(() => this.links.linkMarketingCloudVisitorId(client, pcId, marketingCloudVisitorId))
        .immediate(),
    );
  }

  /**
   * Deletes on the writer connection, then writes the audit event to the control file: two files,
   * so two transactions (the deletion commits first; an audit write that fails is thrown). A batch
   * being staged learns of it as of any write (`touched`) and, if it read the profile, is applied
   * again under the lock, where the profile is gone.
   */
  deleteProfile(client: string, key: ProfileKey, audit?: (deleted: Profile) => AuditEvent): Promise<Profile | null> {
    return this.write(() => {
      const deleted = this.writer.transaction(() => this.deletion.deleteProfile(client, key)).immediate();
      if (deleted === null) return null;
      this.runs.touch({ client, pcId: deleted.pcId, thirdPartyId: deleted.thirdPartyId ?? null });
      if (audit) this.control.appendAudit(client, audit(deleted));
      truncateWal(this.writer);
      return deleted;
    });
  }

  /** One short transaction under the write lock; a batch being staged learns of each deletion (`touched`). */
  deleteExpiredProfiles(client: string, olderThan: number, limit: number): Promise<number> {
    return this.write(() => {
      const deleted = this.writer.transaction(() => this.deletion.deleteExpired(client, olderThan, limit)).immediate();
      this.runs.touch(...deleted);
      return deleted.length;
    });
  }

  /**
   * Keyset pages by pcId on the reader connection (in the order of the (client, pc_id) index): each page is one
   * `all()`, its own short read transaction, so no read stays open between pages. One read held
   * for a whole export of millions of profiles (an `iterate()` cursor) would keep the WAL from
   * being checkpointed past its start for minutes, and the file would grow under the batches
   * written meanwhile. The event loop gets a turn between pages.
   */
  async *exportProfiles(client: string, pageSize = EXPORT_PAGE_SIZE): AsyncIterable<Profile[]> {
    let after: string | null = null;
    for (;;) {
      this.checkOpen();
      const rows = (
        after === null ? this.sql.firstPage.all(client, pageSize) : this.sql.nextPage.all(client, after, pageSize)
      ) as ProfileRow[];
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.pc_id;
      yield rows.map(toProfile);
      if (rows.length < pageSize) return;
      await nextTurn();
    }
  }

  createBatch(batch: NewBatch): Promise<BatchRecord> {
    return this.write(() => this.batches.create(batch));
  }

  /**
   * Stages the batch without the profile write lock, then merges it holding the lock only for
   * that (SqliteBatchRuns); `prestaged`, when given, is the batch staged while its body was parsed.
   */
  applyBatch(
    client: string,
    batchId: string,
    rows: BatchRows,
    options: ApplyBatchOptions,
    prestaged?: PrestagedBatch,
  ): Promise<BatchRecord> {
    return this.runs.apply(client, batchId, rows, options, prestaged);
  }

  /** Starts staging a batch while its body is parsed, or null (see SqliteBatchRuns.prestage). */
  prestageBatch(client: string, options: ApplyBatchOptions): PrestagedBatch | null {
    return this.closed ? null : this.runs.prestage(client, options);
  }

  /** Rows of the batch being staged while its body is parsed that the stage has taken so far (0 when none). */
  stagedRows(): number {
    return this.runs.stagedRows();
  }

  markBatchStuck(client: string, batchId: string, message: string): Promise<void> {
    return this.write(() => this.batches.markStuck(client, batchId, message));
  }

  async getBatch(client: string, batchId: string): Promise<BatchRecord | null> {
    return this.batches.get(client, batchId);
  }

  recoverIncompleteBatches(): Promise<number> {
    return this.write(() => this.batches.recoverAbandoned());
  }

  pruneBatches(client: string, keepLast: number, olderThan: number): Promise<void> {
    return this.write(() => this.batches.prune(client, keepLast, olderThan));
  }

  async getSettings(client: string): Promise<Settings> {
    return this.control.getSettings(client);
  }

  async putSettings(
    client: string,
    change: SettingsChange,
    audit?: (before: Settings) => AuditEvent,
  ): Promise<Settings> {
    this.checkOpen();
    const before = this.control.putSettings(client, change, audit);
    this.changes.emit({ client, kind: 'settings' });
    return before;
  }

  async getTokenState(client: string): Promise<TokenState> {
    return this.control.getTokenState(client);
  }

  async replaceToken(
    client: string,
    token: TokenRecord,
    graceUntil: number | null,
    now: number,
    audit?: AuditEvent,
  ): Promise<TokenState> {
    this.checkOpen();
    const state = this.control.replaceToken(client, token, graceUntil, now, audit);
    this.changes.emit({ client, kind: 'token' });
    return state;
  }

  async revokeTokens(client: string, audit?: (hadToken: boolean) => AuditEvent): Promise<boolean> {
    this.checkOpen();
    const had = this.control.revokeTokens(client, audit);
    this.changes.emit({ client, kind: 'token' });
    return had;
  }

  async appendAudit(client: string, event: AuditEvent): Promise<void> {
    this.checkOpen();
    this.control.appendAudit(client, event);
  }

  async listAudit(client: string, limit: number): Promise<AuditEvent[]> {
    return this.control.listAudit(client, limit);
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    return this.changes.subscribe(listener);
  }

  /** Closes the store once the batch being applied (if any) and every queued write are done. */
  async close(): Promise<void> {
    await this.runs.afterBatches(() => this.closeNow());
  }

  private closeNow(): Promise<void> {
    return this.writes.run(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.runs.closeEngines();
      this.reader.close();
      this.writer.close();
      this.control.close();
    });
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('The SQLite store is closed');
  }

  /** Runs one write after every earlier one; refuses once the store is closed. */
  private write<T>(task: () => T | Promise<T>): Promise<T> {
    return this.writes.run(() => {
      if (this.closed) throw new Error('The SQLite store is closed');
      return task();
    });
  }

  // Signing key fingerprints (docs/multi-instance.md), in the control database.
  private readonly signingKeyChanges = new ChangeEmitter<void>();

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    this.checkOpen();
    return this.control.signingKeys.list();
  }

  async syncSigningKeys(decide: DecideSigningKeys, now: number): Promise<SigningKeyRecord[]> {
    this.checkOpen();
    const { records, changed } = this.control.signingKeys.sync(decide, now);
    if (changed) this.signingKeyChanges.emit();
    return records;
  }

  onSigningKeysChange(listener: () => void): () => void {
    return this.signingKeyChanges.subscribe(listener);
  }
}

/** The profile reads, on the reader connection: they see the last commit, never wait for a write. */
function prepare(reader: Database.Database) {
  const profileColumns = LINKED_PROFILE_COLUMNS;
  return {
    readByPcId: reader.prepare(`SELECT ${profileColumns} FROM profiles WHERE client = ? AND pc_id = ?`),
    readByThirdPartyId: reader.prepare(
      `SELECT ${profileColumns} FROM profiles WHERE client = ? AND third_party_id = ?`,
    ),
    readByMarketingCloudVisitorId: reader.prepare(
      `SELECT ${profileColumns} FROM profiles WHERE client = ? AND marketing_cloud_visitor_id = ?`,
    ),
    firstPage: reader.prepare(`SELECT ${profileColumns} FROM profiles WHERE client = ? ORDER BY pc_id LIMIT ?`),
    nextPage: reader.prepare(
      `SELECT ${profileColumns} FROM profiles WHERE client = ? AND pc_id > ? ORDER BY pc_id LIMIT ?`,
    ),
  };
}
