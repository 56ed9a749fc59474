import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Pool } from 'pg';
import type { PoolClient } from 'pg';
import type { Profile, ProfileKey, ProfileUpdate } from '../profiles/types';
import { formatBatchId } from './batch-ids';
import { newBatchFailures } from './failure-log';
import { ChangeEmitter } from './change-emitter';
import { ChangeListener, postgresChannel } from './postgres-listener';
import { applyBatchOnce } from './postgres-batches';
import { BatchLeases } from './postgres-leases';
import { PG_PROFILE_COLUMNS, linkMarketingCloudVisitorIdIn, resolveLinkedUpdate } from './postgres-links';
import { applyProfileRows } from './postgres-profiles';
import { BATCH_COLUMNS, batchParams, toBatch, toProfile, toTokenState } from './postgres-rows';
import type { PgAuditRow, PgBatchRow, PgProfileRow, PgTokenStateRow } from './postgres-rows';
import { DB_NOW_MS, migratePostgres, quoteSchema } from './postgres-schema';
import { SIGNING_KEYS_CHANGED, listSigningKeysIn, syncSigningKeysIn } from './postgres-signing-keys';
import { runTransaction } from './postgres-transaction';
import type {
  ApplyBatchOptions,
  AuditEvent,
  BatchRecord,
  BatchRows,
  DecideSigningKeys,
  LinkOutcome,
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
import { DEFAULT_SETTINGS, gracedAfterReplacing } from './types';

export { LISTEN_APPLICATION_NAME, postgresChannel } from './postgres-listener';

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
  private readonly changes = new ChangeEmitter();
  /** Clients whose token state or settings this instance has read or heard about. */
  private readonly seenClients = new Set<string>();
  /** Tells this instance's own notifications apart: it already emitted them locally. */
  private readonly origin = randomUUID();
  private readonly channel: string;
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
    this.owner = `${hostname()}/${process.pid}/${this.origin.slice(0, 8)}`;
    this.leases = new BatchLeases({ pool, schema: q, leaseMs: this.leaseMs });
    this.channel = postgresChannel(schema);
    this.listener = new ChangeListener({
      connectionString: url,
      channel: this.channel,
      onPayload: (payload) => this.heard(payload),
      onReconnect: () => this.everythingMayHaveChanged(),
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
    const { rows } = await this.query<PgProfileRow>(
      `SELECT ${PG_PROFILE_COLUMNS} FROM ${this.q}.profiles WHERE client = $1 AND ${column} = $2`,
      [client, key.id],
    );
    return rows[0] ? toProfile(rows[0]) : null;
  }

  updateProfile(client: string, update: ProfileUpdate, options: UpdateProfileOptions): Promise<UpdateOutcome> {
    return this.transaction(async (db): Promise<UpdateOutcome> => {
      const row = await resolveLinkedUpdate(db, this.q, client, update);
      if (row === null) return { status: 'notFound' };
      const [result] = await applyProfileRows(db, this.q, client, [row], { ...options, withProfiles: true });
      if (result!.status !== 'write') return result!;
      return { status: 'updated', profile: result!.profile!, created: result!.created };
    });
  }

  linkMarketingCloudVisitorId(client: string, pcId: string, marketingCloudVisitorId: string): Promise<LinkOutcome> {
    return this.transaction((db) => linkMarketingCloudVisitorIdIn(db, this.q, client, pcId, marketingCloudVisitorId));
  }

  async createBatch(batch: NewBatch): Promise<BatchRecord> {
    const { rows } = await this.query<{ n: string }>(`SELECT nextval('${this.q}.batch_seq') AS n`);
    const record: BatchRecord = {
      batchId: formatBatchId(batch.client, batch.now, Number(rows[0]!.n)),
      client: batch.client,
      version: batch.version,
      status: 'incomplete',
      batchSize: batch.batchSize,
      consumedCount: batch.parseFailedCount,
      successfulUpdates: 0,
      profilesNotFound: 0,
      failedUpdates: batch.parseFailedCount,
      ...newBatchFailures(batch),
      createdAt: batch.now,
    };
    await this.query(
      `INSERT INTO ${this.q}.batches (${BATCH_COLUMNS}, owner, lease_until)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, ${DB_NOW_MS} + $16)`,
      [...batchParams(record), this.owner, this.leaseMs],
    );
    this.leases.hold(record.batchId);
    return record;
  }

  async applyBatch(client: string, batchId: string, rows: BatchRows, options: ApplyBatchOptions): Promise<BatchRecord> {
    // Renewed while it is applied, even if another instance accepted it.
    this.leases.hold(batchId);
    try {
      // One transaction on one pooled connection; reads use the other connections and see the
      // last commit. After a deadlock it runs again from the first row.
      return await this.transaction((db) =>
        applyBatchOnce(db, this.q, this.chunkRows, { client, batchId, rows: rows(), options }),
      );
    } finally {
      this.leases.release(batchId);
    }
  }

  async markBatchStuck(client: string, batchId: string, message: string): Promise<void> {
    this.leases.release(batchId);
    await this.query(
      `UPDATE ${this.q}.batches SET status = 'stuck', message = $1
       WHERE batch_id = $2 AND client = $3 AND status = 'incomplete'`,
      [message, batchId, client],
    );
  }

  async getBatch(client: string, batchId: string): Promise<BatchRecord | null> {
    const { rows } = await this.query<PgBatchRow>(
      `SELECT * FROM ${this.q}.batches WHERE batch_id = $1 AND client = $2`,
      [batchId, client],
    );
    return rows[0] ? toBatch(rows[0]) : null;
  }

  recoverIncompleteBatches(): Promise<number> {
    if (this.closed) return Promise.reject(new Error('The PostgreSQL store is closed'));
    return this.leases.recover();
  }

  async pruneBatches(client: string, keepLast: number, olderThan: number): Promise<void> {
    await this.query(
      `DELETE FROM ${this.q}.batches WHERE client = $1 AND created_at < $2 AND batch_id NOT IN
         (SELECT batch_id FROM ${this.q}.batches WHERE client = $1 ORDER BY created_at DESC LIMIT $3)`,
      [client, olderThan, keepLast],
    );
  }

  async getSettings(client: string): Promise<Settings> {
    this.seenClients.add(client);
    const { rows } = await this.query<{ require_authentication: boolean }>(
      `SELECT require_authentication FROM ${this.q}.settings WHERE client = $1`,
      [client],
    );
    return rows[0] ? { requireAuthentication: rows[0].require_authentication } : { ...DEFAULT_SETTINGS };
  }

  async putSettings(client: string, settings: Settings, audit?: (before: Settings) => AuditEvent): Promise<Settings> {
    const before = await this.transaction(async (db) => {
      // Locks the client's settings row (creating it first), so `before` is the state replaced.
      await db.query(
        `INSERT INTO ${this.q}.settings (client, require_authentication) VALUES ($1, $2) ON CONFLICT (client) DO NOTHING`,
        [client, DEFAULT_SETTINGS.requireAuthentication],
      );
      const { rows } = await db.query<{ require_authentication: boolean }>(
        `SELECT require_authentication FROM ${this.q}.settings WHERE client = $1 FOR UPDATE`,
        [client],
      );
      const previous: Settings = { requireAuthentication: rows[0]!.require_authentication };
      await db.query(`UPDATE ${this.q}.settings SET require_authentication = $2 WHERE client = $1`, [
        client,
        settings.requireAuthentication,
      ]);
      if (audit) await this.insertAudit(db, client, audit(previous));
      await this.notify(db, { client, kind: 'settings' });
      return previous;
    });
    this.changed({ client, kind: 'settings' });
    return before;
  }

  async getTokenState(client: string): Promise<TokenState> {
    this.seenClients.add(client);
    const { rows } = await this.query<PgTokenStateRow>(
      `SELECT current, graced FROM ${this.q}.token_state WHERE client = $1`,
      [client],
    );
    return toTokenState(rows[0]);
  }

  async replaceToken(
    client: string,
    token: TokenRecord,
    graceUntil: number | null,
    now: number,
    audit?: AuditEvent,
  ): Promise<TokenState> {
    const next = await this.transaction(async (db) => {
      const previous = await this.lockTokenState(db, client);
      const state: TokenState = {
        current: { ...token },
        graced: gracedAfterReplacing(previous.current, graceUntil, now),
      };
      await this.writeTokenState(db, client, state);
      if (audit) await this.insertAudit(db, client, audit);
      await this.notify(db, { client, kind: 'token' });
      return state;
    });
    this.changed({ client, kind: 'token' });
    return next;
  }

  async revokeTokens(client: string, audit?: (hadToken: boolean) => AuditEvent): Promise<boolean> {
    const had = await this.transaction(async (db) => {
      const previous = await this.lockTokenState(db, client);
      await this.writeTokenState(db, client, { current: null, graced: [] });
      if (audit) await this.insertAudit(db, client, audit(previous.current !== null));
      await this.notify(db, { client, kind: 'token' });
      return previous.current !== null;
    });
    this.changed({ client, kind: 'token' });
    return had;
  }

  async appendAudit(client: string, event: AuditEvent): Promise<void> {
    if (this.closed) throw new Error('The PostgreSQL store is closed');
    await this.insertAudit(this.pool, client, event);
  }

  async listAudit(client: string, limit: number): Promise<AuditEvent[]> {
    const { rows } = await this.query<PgAuditRow>(
      `SELECT at, actor, action, details FROM ${this.q}.audit WHERE client = $1 ORDER BY id DESC LIMIT $2`,
      [client, limit],
    );
    return rows.map((r) => ({ at: Number(r.at), actor: r.actor, action: r.action, details: r.details }));
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    return this.changes.subscribe(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.leases.stop();
    await this.listener.stop();
    await this.pool.end();
  }

  /** One statement on any pooled connection; refuses once the store is closed. */
  private async query<R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []) {
    if (this.closed) throw new Error('The PostgreSQL store is closed');
    return this.pool.query<R>(sql, params);
  }

  /** Runs `work` in one transaction, again after a deadlock (see runTransaction). */
  private async transaction<T>(work: (db: PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('The PostgreSQL store is closed');
    return runTransaction(this.pool, work);
  }

  /** Locks a client's token state row (creating it first when missing) and reads it. */
  private async lockTokenState(db: PoolClient, client: string): Promise<TokenState> {
    await db.query(
      `INSERT INTO ${this.q}.token_state (client, current, graced) VALUES ($1, NULL, '[]') ON CONFLICT (client) DO NOTHING`,
      [client],
    );
    const { rows } = await db.query<PgTokenStateRow>(
      `SELECT current, graced FROM ${this.q}.token_state WHERE client = $1 FOR UPDATE`,
      [client],
    );
    return toTokenState(rows[0]);
  }

  private async writeTokenState(db: PoolClient, client: string, state: TokenState): Promise<void> {
    await db.query(`UPDATE ${this.q}.token_state SET current = $2, graced = $3 WHERE client = $1`, [
      client,
      state.current === null ? null : JSON.stringify(state.current),
      JSON.stringify(state.graced),
    ]);
  }

  private async insertAudit(db: Pick<PoolClient, 'query'>, client: string, event: AuditEvent): Promise<void> {
    await db.query(`INSERT INTO ${this.q}.audit (client, at, actor, action, details) VALUES ($1, $2, $3, $4, $5)`, [
      client,
      event.at,
      event.actor,
      event.action,
      JSON.stringify(event.details),
    ]);
  }

  /** Queues a NOTIFY in the caller's transaction: PostgreSQL delivers it on commit, never on rollback. */
  private async notify(db: PoolClient, change: StoreChange): Promise<void> {
    const payload = JSON.stringify({ client: change.client, kind: change.kind, origin: this.origin });
    await db.query('SELECT pg_notify($1, $2)', [this.channel, payload]);
  }

  /** A local change: subscribers hear it at once, without waiting for the notification. */
  private changed(change: StoreChange): void {
    this.seenClients.add(change.client);
    this.changes.emit(change);
  }

  /** A notification from the LISTEN connection. */
  private heard(payload: string): void {
    let message: { client?: unknown; kind?: unknown; origin?: unknown };
    try {
      message = JSON.parse(payload);
    } catch {
      return;
    }
    if (message.kind === SIGNING_KEYS_CHANGED && message.origin !== this.origin) this.signingKeyChanges.emit();
    if (message.origin === this.origin || typeof message.client !== 'string') return;
    if (message.kind !== 'token' && message.kind !== 'settings') return;
    this.changed({ client: message.client, kind: message.kind });
  }

  /**
   * After the LISTEN connection came back, notifications sent meanwhile are lost: tell
   * subscribers every client they may have cached changed, so they read the store again.
   */
  private everythingMayHaveChanged(): void {
    for (const client of [...this.seenClients]) {
      this.changes.emit({ client, kind: 'token' });
      this.changes.emit({ client, kind: 'settings' });
    }
    this.signingKeyChanges.emit();
  }

  // Signing key fingerprints (docs/multi-instance.md).
  private readonly signingKeyChanges = new ChangeEmitter<void>();

  listSigningKeys(): Promise<SigningKeyRecord[]> {
    if (this.closed) return Promise.reject(new Error('The PostgreSQL store is closed'));
    return listSigningKeysIn(this.pool, this.q);
  }

  async syncSigningKeys(decide: DecideSigningKeys, now: number): Promise<SigningKeyRecord[]> {
    const { records, changed } = await this.transaction(async (db) => {
      const result = await syncSigningKeysIn(db, this.q, decide, now);
      if (result.changed) {
        const payload = JSON.stringify({ kind: SIGNING_KEYS_CHANGED, origin: this.origin });
        await db.query('SELECT pg_notify($1, $2)', [this.channel, payload]);
      }
      return result;
    });
    if (changed) this.signingKeyChanges.emit();
    return records;
  }

  onSigningKeysChange(listener: () => void): () => void {
    return this.signingKeyChanges.subscribe(listener);
  }
}
