import { chmodSync, existsSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { AttributeValue, Profile, ProfileKey, ProfileUpdate } from '../profiles/types';
import { nextProfileState, startTally, tallyRow } from './apply-row';
import { formatBatchId } from './batch-ids';
import { ChangeEmitter } from './change-emitter';
import { Mutex } from './mutex';
import { migrateSqlite } from './sqlite-schema';
import type {
  ApplyBatchOptions,
  AuditEvent,
  BatchRecord,
  BatchRow,
  NewBatch,
  Settings,
  Store,
  StoreChange,
  TokenRecord,
  TokenState,
  UpdateOutcome,
  UpdateProfileOptions,
} from './types';
import { DEFAULT_SETTINGS } from './types';

interface ProfileRow {
  pc_id: string;
  third_party_id: string | null;
  attributes: string;
  modified_at: number;
}

interface BatchRowRecord {
  batch_id: string;
  client: string;
  version: 'v1' | 'v2';
  status: BatchRecord['status'];
  batch_size: number;
  consumed_count: number;
  successful_updates: number;
  profiles_not_found: number;
  failed_updates: number;
  failures: string;
  message: string | null;
  created_at: number;
  completed_at: number | null;
}

/** Options of the SQLite store. */
export interface SqliteStoreOptions {
  /** Rows applied between two yields to the event loop while a batch is applied (default 2,000). */
  batchChunkRows?: number;
}

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
    this.writer.pragma('journal_mode = WAL');
    // FULL: once a batch reads `complete`, it survives a power cut, not only a crash.
    this.writer.pragma('synchronous = FULL');
    this.writer.pragma('busy_timeout = 5000');
    migrateSqlite(this.writer);
    this.reader = new Database(path, { readonly: true });
    this.reader.pragma('busy_timeout = 5000');
    this.chunkRows = options.batchChunkRows ?? 2000;
    this.sql = prepare(this.writer, this.reader);
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
          const result = this.applyRow(client, update, options.createMissing, options.now);
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
          return record;
        })
        .immediate(),
    );
  }

  applyBatch(
    client: string,
    batchId: string,
    rows: AsyncIterable<BatchRow[]>,
    options: ApplyBatchOptions,
  ): Promise<BatchRecord> {
    return this.write(async () => {
      const stored = this.sql.writerBatch.get(batchId) as BatchRowRecord | undefined;
      if (!stored || stored.client !== client) throw new Error(`Unknown batch ${batchId}`);
      if (stored.status !== 'incomplete') throw new Error(`Batch ${batchId} is already ${stored.status}`);
      const batch = toBatch(stored);
      const tally = startTally(batch);
      // One transaction for the whole batch; it yields to the event loop between chunks so
      // other requests are answered (reads use the reader connection and see the last commit).
      this.writer.exec('BEGIN IMMEDIATE');
      try {
        let sinceYield = 0;
        for await (const chunk of rows) {
          for (const row of chunk) {
            tallyRow(tally, row, this.applyRow(client, row, options.createMissing, options.now));
            if (++sinceYield >= this.chunkRows) {
              sinceYield = 0;
              await yieldToEventLoop();
            }
          }
        }
        const done: BatchRecord = { ...batch, ...tally, status: 'complete', completedAt: options.now };
        this.sql.updateBatch.run(fromBatch(done));
        this.writer.exec('COMMIT');
        return done;
      } catch (error) {
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
        throw error;
      }
    });
  }

  markBatchStuck(client: string, batchId: string, message: string): Promise<void> {
    return this.write(() => {
      this.sql.markStuck.run(message, batchId, client);
    });
  }

  async getBatch(client: string, batchId: string): Promise<BatchRecord | null> {
    const row = this.sql.readBatch.get(batchId, client) as BatchRowRecord | undefined;
    return row ? toBatch(row) : null;
  }

  recoverIncompleteBatches(before: number): Promise<number> {
    return this.write(() => this.sql.recoverStuck.run(before).changes);
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
    await this.writes.run(() => {
      if (this.closed) return;
      this.closed = true;
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

  /** Applies one update on the writer connection (inside the caller's transaction). */
  private applyRow(client: string, update: ProfileUpdate, createMissing: boolean, now: number) {
    const row = (update.key.kind === 'pcId' ? this.sql.writerByPcId : this.sql.writerByThirdPartyId).get(
      client,
      update.key.id,
    ) as ProfileRow | undefined;
    const result = nextProfileState(
      row ? toProfile(row) : null,
      update,
      createMissing,
      now,
      (pcId) => this.sql.writerByPcId.get(client, pcId) !== undefined,
    );
    if (result.status === 'write' && result.changed) {
      const p = result.profile;
      this.sql.upsertProfile.run(client, p.pcId, p.thirdPartyId ?? null, encodeAttributes(p.attributes), p.modifiedAt);
    }
    return result;
  }
}

function prepare(writer: Database.Database, reader: Database.Database) {
  const profileColumns = 'pc_id, third_party_id, attributes, modified_at';
  return {
    readByPcId: reader.prepare(`SELECT ${profileColumns} FROM profiles WHERE client = ? AND pc_id = ?`),
    readByThirdPartyId: reader.prepare(
      `SELECT ${profileColumns} FROM profiles WHERE client = ? AND third_party_id = ?`,
    ),
    writerByPcId: writer.prepare(`SELECT ${profileColumns} FROM profiles WHERE client = ? AND pc_id = ?`),
    writerByThirdPartyId: writer.prepare(
      `SELECT ${profileColumns} FROM profiles WHERE client = ? AND third_party_id = ?`,
    ),
    upsertProfile: writer.prepare(
      `INSERT INTO profiles (client, pc_id, third_party_id, attributes, modified_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (client, pc_id) DO UPDATE SET attributes = excluded.attributes, modified_at = excluded.modified_at`,
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
    updateBatch: writer.prepare(
      `UPDATE batches SET status = @status, consumed_count = @consumed_count, successful_updates = @successful_updates,
         profiles_not_found = @profiles_not_found, failed_updates = @failed_updates, failures = @failures,
         message = @message, completed_at = @completed_at
       WHERE batch_id = @batch_id`,
    ),
    writerBatch: writer.prepare('SELECT * FROM batches WHERE batch_id = ?'),
    readBatch: reader.prepare('SELECT * FROM batches WHERE batch_id = ? AND client = ?'),
    markStuck: writer.prepare(
      `UPDATE batches SET status = 'stuck', message = ? WHERE batch_id = ? AND client = ? AND status = 'incomplete'`,
    ),
    recoverStuck: writer.prepare(
      `UPDATE batches SET status = 'stuck', message = 'The server stopped before the batch was applied'
       WHERE status = 'incomplete' AND created_at < ?`,
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

/** Attributes are stored as `{"name":["value",modifiedAt]}`: compact and quick to parse. */
function encodeAttributes(attributes: Record<string, AttributeValue>): string {
  const out: Record<string, [string, number]> = {};
  for (const name of Object.keys(attributes)) {
    const a = attributes[name]!;
    out[name] = [a.value, a.modifiedAt];
  }
  return JSON.stringify(out);
}

function toProfile(row: ProfileRow): Profile {
  const stored = JSON.parse(row.attributes) as Record<string, [string, number]>;
  const attributes: Record<string, AttributeValue> = Object.create(null);
  for (const name of Object.keys(stored)) {
    const [value, modifiedAt] = stored[name]!;
    attributes[name] = { value, modifiedAt };
  }
  const profile: Profile = { pcId: row.pc_id, attributes, modifiedAt: row.modified_at };
  if (row.third_party_id !== null) profile.thirdPartyId = row.third_party_id;
  return profile;
}

function toBatch(row: BatchRowRecord): BatchRecord {
  const batch: BatchRecord = {
    batchId: row.batch_id,
    client: row.client,
    version: row.version,
    status: row.status,
    batchSize: row.batch_size,
    consumedCount: row.consumed_count,
    successfulUpdates: row.successful_updates,
    profilesNotFound: row.profiles_not_found,
    failedUpdates: row.failed_updates,
    failures: JSON.parse(row.failures),
    createdAt: row.created_at,
  };
  if (row.message !== null) batch.message = row.message;
  if (row.completed_at !== null) batch.completedAt = row.completed_at;
  return batch;
}

function fromBatch(batch: BatchRecord): BatchRowRecord {
  return {
    batch_id: batch.batchId,
    client: batch.client,
    version: batch.version,
    status: batch.status,
    batch_size: batch.batchSize,
    consumed_count: batch.consumedCount,
    successful_updates: batch.successfulUpdates,
    profiles_not_found: batch.profilesNotFound,
    failed_updates: batch.failedUpdates,
    failures: JSON.stringify(batch.failures),
    message: batch.message ?? null,
    created_at: batch.createdAt,
    completed_at: batch.completedAt ?? null,
  };
}
