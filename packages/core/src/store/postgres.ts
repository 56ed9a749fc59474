// Over 300 lines on purpose: this is the Store interface's one entry point for PostgreSQL; each
// method picks its transaction and retry rule and delegates to a sibling module (postgres-*.ts).
import { hostname } from 'node:os';
import { Pool } from 'pg';
import type { Profile, ProfileKey, ProfileUpdate } from '../profiles/types';
import { ChangeListener, postgresChannel } from './postgres-listener';
import { applyBatchOnce, insertBatch, markBatchStuckIn, pruneBatchesIn, readBatch } from './postgres-batches';
import { PostgresChanges } from './postgres-changes';
import { PostgresControl } from './postgres-control';
import { deletePostgresProfile } from './postgres-delete';
import { BatchLeases } from './postgres-leases';
import { PG_PROFILE_COLUMNS, linkMarketingCloudVisitorIdIn, resolveLinkedUpdate } from './postgres-links';
import { applyProfileRows } from './postgres-profiles';
import { toProfile } from './postgres-rows';
import type { PgProfileRow } from './postgres-rows';
import { migratePostgres, quoteSchema } from './postgres-schema';
import { listSigningKeysIn, syncSigningKeysIn } from './postgres-signing-keys';
import { poolAccess, type PostgresAccess } from './postgres-transaction';
import type {
  ApplyBatchOptions,
  AuditEvent,
  BatchRecord,
  BatchRows,
  DecideSigningKeys,
  LinkOutcome,
  NewBatch,
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

/** Options of {@link PostgresStore.open}. */
export interface PostgresStoreOptions {
  /** The schema holding every table (default `public`); created when missing. */
  schema?: string;
  /** Most connections in the pool (default 10); the LISTEN connection comes on top. */
  poolSize?: number;
  /** Rows merged and written per SQL round trip while a batch is applied (default 1,000). */
  batchChunkRows?: number;
  /**
   * How long a batch accepted by this instance stays reserved for it without a renewal (default
   * 30 s). The instance renews its batches' leases six times per period; once a lease runs out
   * (the instance died), any instance marks the batch `stuck`.
   */
  batchLeaseMs?: number;
}

/** The default of {@link PostgresStoreOptions.batchLeaseMs}. */
export const DEFAULT_BATCH_LEASE_MS = 30_000;

/**
 * The shared store: PostgreSQL through a `pg` pool, for several app instances on one database.
 * Attributes are merged in SQL, from the locked, latest committed profile, so concurrent
 * instances lose nothing; a batch is one transaction on one pooled connection (run again after
 * a deadlock) while reads use the others. Batches carry a lease so that instances only recover
 * those of dead instances. Token and settings changes are announced with NOTIFY and heard by
 * every instance on a dedicated LISTEN connection.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  /** Statements and transactions on the pool, refused once the store is closed. */
  private readonly db: PostgresAccess;
  private readonly changes: PostgresChanges;
  /** Settings, token state and audit. */
  private readonly control: PostgresControl;
  private readonly listener: ChangeListener;
  private readonly chunkRows: number;
  private readonly leases: BatchLeases;
  private readonly leaseMs: number;
  /** This instance in the `owner` column of its batches: host, process id, instance. */
  readonly owner: string;
  private closed = false;

  private constructor(
    private readonly pool: Pool,
    url: string,
    /** The schema name, quoted for SQL. */
    private readonly q: string,
    readonly schema: string,
    options: PostgresStoreOptions,
  ) {
    this.chunkRows = Math.max(1, options.batchChunkRows ?? 1000);
    this.leaseMs = options.batchLeaseMs ?? DEFAULT_BATCH_LEASE_MS;
    this.changes = new PostgresChanges(postgresChannel(schema));
    this.owner = `${hostname()}/${process.pid}/${this.changes.origin.slice(0, 8)}`;
    this.leases = new BatchLeases({ pool, schema: q, leaseMs: this.leaseMs });
    this.db = poolAccess(pool, () => this.closed);
    this.control = new PostgresControl(this.db, q, this.changes);
    this.listener = new ChangeListener({
      connectionString: url,
      channel: this.changes.channel,
      onPayload: (payload) => this.changes.heard(payload),
      onReconnect: () => this.changes.everythingMayHaveChanged(),
    });
  }

  /** Connects, runs pending migrations (safe when several instances start at once) and starts listening. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const schema = options.schema ?? 'public';
    const q = quoteSchema(schema);
    const leaseMs = options.batchLeaseMs ?? DEFAULT_BATCH_LEASE_MS;
    if (!Number.isSafeInteger(leaseMs) || leaseMs < 100) {
      throw new Error(`batchLeaseMs must be a whole number of milliseconds, at least 100 (got ${leaseMs})`);
    }
    const pool = new Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      application_name: 'profilegate',
      connectionTimeoutMillis: 10_000,
    });
    // An idle pooled connection that dies emits 'error' on the pool; the pool drops it and
    // opens a new one when needed. Without a listener the process would crash.
    pool.on('error', () => undefined);
    let store: PostgresStore | undefined;
    try {
      const client = await pool.connect();
      try {
        await migratePostgres(client, schema);
      } finally {
        client.release();
      }
      store = new PostgresStore(pool, url, q, schema, options);
      await store.listener.start();
      store.leases.start();
      return store;
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw new Error(`Could not open the PostgreSQL store (schema ${schema}): ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** Whether the LISTEN connection is up: while it is down, other instances' changes are only seen when caches expire. */
  listenerConnected(): boolean {
    return this.listener.isConnected;
  }

  /** The server process id of the LISTEN connection, or null while it is down. */
  listenerBackendPid(): number | null {
    return this.listener.pid;
  }

  async getProfile(client: string, key: ProfileKey): Promise<Profile | null> {
    const column = {
      pcId: 'pc_id',
      thirdPartyId: 'third_party_id',
      marketingCloudVisitorId: 'marketing_cloud_visitor_id',
    }[key.kind];
    const { rows } = await this.db.query<PgProfileRow>(
      `SELECT ${PG_PROFILE_COLUMNS} FROM ${this.q}.profiles WHERE client = $1 AND ${column} = $2`,
      [client, key.id],
    );
    return rows[0] ? toProfile(rows[0]) : null;
  }

  updateProfile(client: string, update: ProfileUpdate, options: UpdateProfileOptions): Promise<UpdateOutcome> {
    return this.db.transaction(async (db): Promise<UpdateOutcome> => {
      const row = await resolveLinkedUpdate(db, this.q, client, update);
      if (row === null) return { status: 'notFound' };
      const [result] = await applyProfileRows(db, this.q, client, [row], { ...options, withProfiles: true });
      if (result!.status !== 'write') return result!;
      return { status: 'updated', profile: result!.profile!, created: result!.created };
    });
  }

  linkMarketingCloudVisitorId(client: string, pcId: string, marketingCloudVisitorId: string): Promise<LinkOutcome> {
    return this.db.transaction((db) =>
      linkMarketingCloudVisitorIdIn(db, this.q, client, pcId, marketingCloudVisitorId),
    );
  }

  /** Deletes the profile and writes its audit event in one transaction (deletePostgresProfile). */
  deleteProfile(client: string, key: ProfileKey, audit?: (deleted: Profile) => AuditEvent): Promise<Profile | null> {
    return deletePostgresProfile(this.db, this.q, this.control, { client, key, audit });
  }

  /**
   * One short transaction: the rows are locked `FOR UPDATE SKIP LOCKED`, so a row a batch (or
   * another instance's sweep) holds is skipped, never waited for, and each expired row is deleted
   * by one instance only. A row a batch updated and committed meanwhile is checked again against
   * its new `modified_at` (READ COMMITTED) and kept.
   */
  deleteExpiredProfiles(client: string, olderThan: number, limit: number): Promise<number> {
    return this.db.transaction(async (db) => {
      const { rowCount } = await db.query(
        // Materialized: as an IN subquery, PostgreSQL may run it again per row, taking more than $3.
        `WITH doomed AS MATERIALIZED (
           SELECT pc_id FROM ${this.q}.profiles WHERE client = $1 AND modified_at < $2
           LIMIT $3 FOR UPDATE SKIP LOCKED
         )
         DELETE FROM ${this.q}.profiles p USING doomed
         WHERE p.client = $1 AND p.pc_id = doomed.pc_id`,
        [client, olderThan, limit],
      );
      return rowCount ?? 0;
    });
  }

  /**
   * Keyset pages by pcId along the primary key (client, pc_id), one statement each on any pooled
   * connection: no transaction or cursor is held between pages, so an export of millions of
   * profiles holds no connection and no snapshot (which would keep VACUUM from cleaning) while
   * the client reads slowly.
   */
  async *exportProfiles(client: string, pageSize = EXPORT_PAGE_SIZE): AsyncIterable<Profile[]> {
    let after: string | null = null;
    for (;;) {
      const from = `SELECT ${PG_PROFILE_COLUMNS} FROM ${this.q}.profiles WHERE client = $1`;
      const result =
        after === null
          ? await this.db.query<PgProfileRow>(`${from} ORDER BY pc_id LIMIT $2`, [client, pageSize])
          : await this.db.query<PgProfileRow>(`${from} AND pc_id > $3 ORDER BY pc_id LIMIT $2`, [
              client,
              pageSize,
              after,
            ]);
      const rows: PgProfileRow[] = result.rows;
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.pc_id;
      yield rows.map(toProfile);
      if (rows.length < pageSize) return;
    }
  }

  async createBatch(batch: NewBatch): Promise<BatchRecord> {
    const record = await insertBatch(this.db, this.q, batch, this.owner, this.leaseMs);
    this.leases.hold(record.batchId);
    return record;
  }

  async applyBatch(client: string, batchId: string, rows: BatchRows, options: ApplyBatchOptions): Promise<BatchRecord> {
    // Renewed while it is applied, even if another instance accepted it.
    this.leases.hold(batchId);
    try {
      // One transaction on one pooled connection; reads use the other connections and see the
      // last commit. After a deadlock it runs again from the first row.
      return await this.db.transaction((db) =>
        applyBatchOnce(db, this.q, this.chunkRows, { client, batchId, rows: rows(), options }),
      );
    } finally {
      this.leases.release(batchId);
    }
  }

  async markBatchStuck(client: string, batchId: string, message: string): Promise<void> {
    this.leases.release(batchId);
    await markBatchStuckIn(this.db, this.q, client, batchId, message);
  }

  getBatch(client: string, batchId: string): Promise<BatchRecord | null> {
    return readBatch(this.db, this.q, client, batchId);
  }

  recoverIncompleteBatches(): Promise<number> {
    if (this.closed) return Promise.reject(new Error('The PostgreSQL store is closed'));
    return this.leases.recover();
  }

  pruneBatches(client: string, keepLast: number, olderThan: number): Promise<void> {
    return pruneBatchesIn(this.db, this.q, client, keepLast, olderThan);
  }

  getSettings(client: string): Promise<Settings> {
    return this.control.getSettings(client);
  }

  putSettings(client: string, change: SettingsChange, audit?: (before: Settings) => AuditEvent): Promise<Settings> {
    return this.control.putSettings(client, change, audit);
  }

  getTokenState(client: string): Promise<TokenState> {
    return this.control.getTokenState(client);
  }

  replaceToken(
    client: string,
    token: TokenRecord,
    graceUntil: number | null,
    now: number,
    audit?: AuditEvent,
  ): Promise<TokenState> {
    return this.control.replaceToken(client, token, graceUntil, now, audit);
  }

  revokeTokens(client: string, audit?: (hadToken: boolean) => AuditEvent): Promise<boolean> {
    return this.control.revokeTokens(client, audit);
  }

  appendAudit(client: string, event: AuditEvent): Promise<void> {
    return this.control.appendAudit(client, event);
  }

  listAudit(client: string, limit: number): Promise<AuditEvent[]> {
    return this.control.listAudit(client, limit);
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    return this.changes.onChange(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.leases.stop();
    await this.listener.stop();
    await this.pool.end();
  }

  // Signing key fingerprints (docs/multi-instance.md).
  listSigningKeys(): Promise<SigningKeyRecord[]> {
    if (this.closed) return Promise.reject(new Error('The PostgreSQL store is closed'));
    return listSigningKeysIn(this.pool, this.q);
  }

  async syncSigningKeys(decide: DecideSigningKeys, now: number): Promise<SigningKeyRecord[]> {
    const { records, changed } = await this.db.transaction(async (db) => {
      const result = await syncSigningKeysIn(db, this.q, decide, now);
      if (result.changed) await this.changes.notifySigningKeys(db);
      return result;
    });
    if (changed) this.changes.signingKeysChanged();
    return records;
  }

  onSigningKeysChange(listener: () => void): () => void {
    return this.changes.onSigningKeysChange(listener);
  }
}
