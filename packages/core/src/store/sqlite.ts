import { chmodSync, existsSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { Profile, ProfileKey, ProfileUpdate } from '../profiles/types';
import { formatBatchId } from './batch-ids';
import { ChangeEmitter } from './change-emitter';
import { Mutex } from './mutex';
import { SqliteBatchWorker } from './sqlite-batch';
import {
  PROFILE_COLUMNS,
  SqliteProfileWriter,
  fromBatch,
  toBatch,
  toProfile,
  type BatchRowRecord,
  type ProfileRow,
} from './sqlite-rows';
import { configureSqliteWriter, migrateSqlite } from './sqlite-schema';
import { SqliteSigningKeys } from './sqlite-signing-keys';
import type {
  ApplyBatchOptions,
  AuditEvent,
  BatchRecord,
  BatchRow,
  BatchRows,
  DecideSigningKeys,
  NewBatch,
  Settings,
  SigningKeyRecord,
  Store,
  StoreChange,
  TokenRecord,
  TokenState,
  UpdateOutcome,
  UpdateProfileOptions,
} from './types';
import { ABANDONED_BATCH_MESSAGE, DEFAULT_SETTINGS } from './types';

/** Options of the SQLite store. */
export interface SqliteStoreOptions {
  /** Most rows applied between two yields to the event loop while a batch is applied (default 2,000). */
  batchChunkRows?: number;
  /**
   * Longest stretch, in ms, a batch keeps the event loop before yielding (default 10), so that
   * fetches stay quick on a slow machine whatever the rows cost.
   */
  batchSliceMs?: number;
  /**
   * Apply batches in a worker thread with its own writer connection (default true): the event
   * loop then stays free while a large batch is written and committed. When false, or when the
   * worker script cannot be found (running from TypeScript sources), batches are applied here,
   * yielding every `batchSliceMs`.
   */
  batchWorker?: boolean;
}

/** Rows applied between two looks at the clock. */
const CLOCK_EVERY_ROWS = 32;

/**
 * The embedded store: one SQLite file through better-sqlite3 in WAL mode. Writes go through one
 * connection, one at a time; reads use a second connection, so they see the last committed
 * state and are answered while a large batch is being applied.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly writes = new Mutex();
  private readonly changes = new ChangeEmitter();
  private readonly chunkRows: number;
  private readonly sliceMs: number;
  private readonly useWorker: boolean;
  private worker: SqliteBatchWorker | null = null;
  private readonly rows: SqliteProfileWriter;
  private readonly sql: ReturnType<typeof prepare>;
  /** Batches this store created that are not finished yet: recovery leaves them alone. */
  private readonly created = new Set<string>();
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
    migrateSqlite(this.writer);
    this.reader = new Database(path, { readonly: true });
    this.reader.pragma('busy_timeout = 5000');
    this.chunkRows = options.batchChunkRows ?? 2000;
    this.sliceMs = options.batchSliceMs ?? 10;
    this.useWorker = options.batchWorker ?? true;
    this.sql = prepare(this.writer, this.reader);
    this.rows = new SqliteProfileWriter(this.writer);
  }

  async getProfile(client: string, key: ProfileKey): Promise<Profile | null> {
    const row = (key.kind === 'pcId' ? this.sql.readByPcId : this.sql.readByThirdPartyId).get(client, key.id) as
      ProfileRow | undefined;
    return row ? toProfile(row) : null;
  }

  updateProfile(client: string, update: ProfileUpdate, options: UpdateProfileOptions): Promise<UpdateOutcome> {
    return this.write(() =>
      this.writer
        .transaction((): UpdateOutcome => {
          const result = this.rows.applyRow(client, update, options.createMissing, options.now);
          if (result.status !== 'write') return result;
          return { status: 'updated', profile: result.profile, created: result.created };
        })
        .immediate(),
    );
  }

  createBatch(batch: NewBatch): Promise<BatchRecord> {
    return this.write(() =>
      this.writer
        .transaction((): BatchRecord => {
          const n = (this.sql.nextCounter.get('batch') as { value: number }).value;
          const record: BatchRecord = {
            batchId: formatBatchId(batch.client, batch.now, n),
            client: batch.client,
            version: batch.version,
            status: 'incomplete',
            batchSize: batch.batchSize,
            consumedCount: batch.parseFailedCount,
            successfulUpdates: 0,
            profilesNotFound: 0,
            failedUpdates: batch.parseFailedCount,
            failures: batch.parseFailures.slice(),
            createdAt: batch.now,
          };
          this.sql.insertBatch.run(fromBatch(record));
          this.created.add(record.batchId);
          return record;
        })
        .immediate(),
    );
  }

  applyBatch(client: string, batchId: string, rows: BatchRows, options: ApplyBatchOptions): Promise<BatchRecord> {
    return this.write(async () => {
      let done: BatchRecord;
      if (this.useWorker && !this.worker?.alive) this.worker = SqliteBatchWorker.start(this.path);
      if (this.useWorker && this.worker) done = await this.worker.apply(client, batchId, rows(), options);
      else done = await this.applyBatchHere(client, batchId, rows(), options);
      this.created.delete(batchId);
      return done;
    });
  }

  /**
   * Applies a batch on this thread's writer, in one transaction that yields to the event loop
   * between slices so other requests are answered (reads use the reader connection and see the
   * last commit).
   */
  private async applyBatchHere(
    client: string,
    batchId: string,
    rows: AsyncIterable<BatchRow[]>,
    options: ApplyBatchOptions,
  ): Promise<BatchRecord> {
    this.writer.exec('BEGIN IMMEDIATE');
    try {
      const batch = this.rows.startBatch(client, batchId, options);
      let sinceYield = 0;
      let sliceStart = performance.now();
      for await (const chunk of rows) {
        for (const row of chunk) {
          batch.apply(row);
          ++sinceYield;
          if (
            sinceYield >= this.chunkRows ||
            (sinceYield % CLOCK_EVERY_ROWS === 0 && performance.now() - sliceStart >= this.sliceMs)
          ) {
            await yieldToEventLoop();
            sinceYield = 0;
            sliceStart = performance.now();
          }
        }
      }
      const done = batch.finish();
      this.writer.exec('COMMIT');
      return done;
    } catch (error) {
      if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
      throw error;
    }
  }

  markBatchStuck(client: string, batchId: string, message: string): Promise<void> {
    return this.write(() => {
      this.sql.markStuck.run(message, batchId, client);
      this.created.delete(batchId);
    });
  }

  async getBatch(client: string, batchId: string): Promise<BatchRecord | null> {
    const row = this.sql.readBatch.get(batchId, client) as BatchRowRecord | undefined;
    return row ? toBatch(row) : null;
  }

  recoverIncompleteBatches(): Promise<number> {
    // One process owns the file: an incomplete batch this store did not create was left by an
    // earlier run that stopped before applying it.
    return this.write(
      () => this.sql.recoverStuck.run(ABANDONED_BATCH_MESSAGE, JSON.stringify([...this.created])).changes,
    );
  }

  pruneBatches(client: string, keepLast: number, olderThan: number): Promise<void> {
    return this.write(() => {
      this.sql.pruneBatches.run(client, olderThan, client, keepLast);
    });
  }

  async getSettings(client: string): Promise<Settings> {
    const row = this.sql.readSettings.get(client) as { require_authentication: number } | undefined;
    return row ? { requireAuthentication: row.require_authentication === 1 } : { ...DEFAULT_SETTINGS };
  }

  putSettings(client: string, settings: Settings): Promise<void> {
    return this.write(() => {
      this.sql.upsertSettings.run(client, settings.requireAuthentication ? 1 : 0);
      this.changes.emit({ client, kind: 'settings' });
    });
  }

  async getTokenState(client: string): Promise<TokenState> {
    return this.readTokenState(this.sql.readTokenState, client);
  }

  replaceToken(client: string, token: TokenRecord, graceUntil: number | null, now: number): Promise<TokenState> {
    return this.write(() => {
      const state = this.writer
        .transaction((): TokenState => {
          const previous = this.readTokenState(this.sql.writerTokenState, client);
          const graced = previous.graced.filter((g) => g.graceUntil > now);
          if (previous.current && graceUntil !== null && graceUntil > now) {
            graced.push({ jti: previous.current.jti, graceUntil });
          }
          const next: TokenState = { current: { ...token }, graced };
          this.sql.upsertTokenState.run(client, JSON.stringify(next.current), JSON.stringify(next.graced));
          return next;
        })
        .immediate();
      this.changes.emit({ client, kind: 'token' });
      return state;
    });
  }

  revokeTokens(client: string): Promise<boolean> {
    return this.write(() => {
      const previous = this.readTokenState(this.sql.writerTokenState, client);
      this.sql.upsertTokenState.run(client, null, '[]');
      this.changes.emit({ client, kind: 'token' });
      return previous.current !== null;
    });
  }

  appendAudit(client: string, event: AuditEvent): Promise<void> {
    return this.write(() => {
      this.sql.insertAudit.run(client, event.at, event.actor, event.action, JSON.stringify(event.details));
    });
  }

  async listAudit(client: string, limit: number): Promise<AuditEvent[]> {
    const rows = this.sql.readAudit.all(client, limit) as Array<{
      at: number;
      actor: string;
      action: AuditEvent['action'];
      details: string;
    }>;
    return rows.map((r) => ({ at: r.at, actor: r.actor, action: r.action, details: JSON.parse(r.details) }));
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    return this.changes.subscribe(listener);
  }

  async close(): Promise<void> {
    await this.writes.run(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.worker?.close();
      this.worker = null;
      this.reader.close();
      this.writer.close();
    });
  }

  /** Runs one write after every earlier one; refuses once the store is closed. */
  private write<T>(task: () => T | Promise<T>): Promise<T> {
    return this.writes.run(() => {
      if (this.closed) throw new Error('The SQLite store is closed');
      return task();
    });
  }

  private readTokenState(statement: Database.Statement, client: string): TokenState {
    const row = statement.get(client) as { current: string | null; graced: string } | undefined;
    if (!row) return { current: null, graced: [] };
    return { current: row.current ? JSON.parse(row.current) : null, graced: JSON.parse(row.graced) };
  }

  // Signing key fingerprints (docs/multi-instance.md).
  private signingKeyTable: SqliteSigningKeys | undefined;
  private readonly signingKeyChanges = new ChangeEmitter<void>();

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    if (this.closed) throw new Error('The SQLite store is closed');
    return this.signingKeys().list();
  }

  syncSigningKeys(decide: DecideSigningKeys, now: number): Promise<SigningKeyRecord[]> {
    return this.write(() => {
      const { records, changed } = this.signingKeys().sync(decide, now);
      if (changed) this.signingKeyChanges.emit();
      return records;
    });
  }

  onSigningKeysChange(listener: () => void): () => void {
    return this.signingKeyChanges.subscribe(listener);
  }

  private signingKeys(): SqliteSigningKeys {
    return (this.signingKeyTable ??= new SqliteSigningKeys(this.writer, this.reader));
  }
}

function prepare(writer: Database.Database, reader: Database.Database) {
  const profileColumns = PROFILE_COLUMNS;
  return {
    readByPcId: reader.prepare(`SELECT ${profileColumns} FROM profiles WHERE client = ? AND pc_id = ?`),
    readByThirdPartyId: reader.prepare(
      `SELECT ${profileColumns} FROM profiles WHERE client = ? AND third_party_id = ?`,
    ),
    nextCounter: writer.prepare(
      `INSERT INTO counters (name, value) VALUES (?, 1)
       ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`,
    ),
    insertBatch: writer.prepare(
      `INSERT INTO batches (batch_id, client, version, status, batch_size, consumed_count, successful_updates,
         profiles_not_found, failed_updates, failures, message, created_at, completed_at)
       VALUES (@batch_id, @client, @version, @status, @batch_size, @consumed_count, @successful_updates,
         @profiles_not_found, @failed_updates, @failures, @message, @created_at, @completed_at)`,
    ),
    readBatch: reader.prepare('SELECT * FROM batches WHERE batch_id = ? AND client = ?'),
    markStuck: writer.prepare(
      `UPDATE batches SET status = 'stuck', message = ? WHERE batch_id = ? AND client = ? AND status = 'incomplete'`,
    ),
    recoverStuck: writer.prepare(
      `UPDATE batches SET status = 'stuck', message = ?
       WHERE status = 'incomplete' AND batch_id NOT IN (SELECT value FROM json_each(?))`,
    ),
    pruneBatches: writer.prepare(
      `DELETE FROM batches WHERE client = ? AND created_at < ? AND batch_id NOT IN
         (SELECT batch_id FROM batches WHERE client = ? ORDER BY created_at DESC LIMIT ?)`,
    ),
    readSettings: reader.prepare('SELECT require_authentication FROM settings WHERE client = ?'),
    upsertSettings: writer.prepare(
      `INSERT INTO settings (client, require_authentication) VALUES (?, ?)
       ON CONFLICT (client) DO UPDATE SET require_authentication = excluded.require_authentication`,
    ),
    readTokenState: reader.prepare('SELECT current, graced FROM token_state WHERE client = ?'),
    writerTokenState: writer.prepare('SELECT current, graced FROM token_state WHERE client = ?'),
    upsertTokenState: writer.prepare(
      `INSERT INTO token_state (client, current, graced) VALUES (?, ?, ?)
       ON CONFLICT (client) DO UPDATE SET current = excluded.current, graced = excluded.graced`,
    ),
    insertAudit: writer.prepare('INSERT INTO audit (client, at, actor, action, details) VALUES (?, ?, ?, ?, ?)'),
    readAudit: reader.prepare('SELECT at, actor, action, details FROM audit WHERE client = ? ORDER BY id DESC LIMIT ?'),
  };
}
