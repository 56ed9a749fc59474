import type { PoolClient } from 'pg';
import type { PostgresChanges } from './postgres-changes';
import { toTokenState } from './postgres-rows';
import type { PgAuditRow, PgTokenStateRow } from './postgres-rows';
import type { PostgresAccess } from './postgres-transaction';
import type { AuditEvent, Settings, SettingsChange, TokenRecord, TokenState } from './types';
import { DEFAULT_SETTINGS, definedSettings, gracedAfterReplacing } from './types';

/** A transaction's connection, or the store's pool. */
type Queryable = { query(sql: string, params: unknown[]): Promise<unknown> };

/**
 * Settings, token state and audit of the PostgreSQL store (what SqliteControl is for SQLite). A
 * write locks the client's row, writes its audit event and queues its NOTIFY in one transaction,
 * then tells this instance's subscribers.
 */
export class PostgresControl {
  /** `q`: the schema name, quoted for SQL. */
  constructor(
    private readonly db: PostgresAccess,
    private readonly q: string,
    private readonly changes: PostgresChanges,
  ) {}

  async getSettings(client: string): Promise<Settings> {
    this.changes.seen(client);
    const { rows } = await this.db.query<PgSettingsRow>(
      `SELECT require_authentication, profile_retention_days FROM ${this.q}.settings WHERE client = $1`,
      [client],
    );
    return rows[0] ? toSettings(rows[0]) : { ...DEFAULT_SETTINGS };
  }

  async putSettings(
    client: string,
    change: SettingsChange,
    audit?: (before: Settings) => AuditEvent,
  ): Promise<Settings> {
    const before = await this.db.transaction(async (db) => {
      // Locks the client's settings row (creating it first), so `before` is the state replaced.
      await db.query(
        `INSERT INTO ${this.q}.settings (client, require_authentication, profile_retention_days) VALUES ($1, $2, $3)
         ON CONFLICT (client) DO NOTHING`,
        [client, DEFAULT_SETTINGS.requireAuthentication, DEFAULT_SETTINGS.profileRetentionDays],
      );
      const { rows } = await db.query<PgSettingsRow>(
        `SELECT require_authentication, profile_retention_days FROM ${this.q}.settings WHERE client = $1 FOR UPDATE`,
        [client],
      );
      const previous = toSettings(rows[0]!);
      const after: Settings = { ...previous, ...definedSettings(change) };
      await db.query(
        `UPDATE ${this.q}.settings SET require_authentication = $2, profile_retention_days = $3 WHERE client = $1`,
        [client, after.requireAuthentication, after.profileRetentionDays],
      );
      if (audit) await this.insertAudit(db, client, audit(previous));
      await this.changes.notify(db, { client, kind: 'settings' });
      return previous;
    });
    this.changes.changed({ client, kind: 'settings' });
    return before;
  }

  async getTokenState(client: string): Promise<TokenState> {
    this.changes.seen(client);
    const { rows } = await this.db.query<PgTokenStateRow>(
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
    const next = await this.db.transaction(async (db) => {
      const previous = await this.lockTokenState(db, client);
      const state: TokenState = {
        current: { ...token },
        graced: gracedAfterReplacing(previous.current, graceUntil, now),
      };
      await this.writeTokenState(db, client, state);
      if (audit) await this.insertAudit(db, client, audit);
      await this.changes.notify(db, { client, kind: 'token' });
      return state;
    });
    this.changes.changed({ client, kind: 'token' });
    return next;
  }

  async revokeTokens(client: string, audit?: (hadToken: boolean) => AuditEvent): Promise<boolean> {
    const had = await this.db.transaction(async (db) => {
      const previous = await this.lockTokenState(db, client);
      await this.writeTokenState(db, client, { current: null, graced: [] });
      if (audit) await this.insertAudit(db, client, audit(previous.current !== null));
      await this.changes.notify(db, { client, kind: 'token' });
      return previous.current !== null;
    });
    this.changes.changed({ client, kind: 'token' });
    return had;
  }

  async appendAudit(client: string, event: AuditEvent): Promise<void> {
    await this.insertAudit(this.db, client, event);
  }

  async listAudit(client: string, limit: number): Promise<AuditEvent[]> {
    const { rows } = await this.db.query<PgAuditRow>(
      `SELECT at, actor, action, details FROM ${this.q}.audit WHERE client = $1 ORDER BY id DESC LIMIT $2`,
      [client, limit],
    );
    return rows.map((r) => ({ at: Number(r.at), actor: r.actor, action: r.action, details: r.details }));
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

  /** Writes one audit event on `db` (a transaction's connection, to commit with it). */
  async insertAudit(db: Queryable, client: string, event: AuditEvent): Promise<void> {
    await db.query(`INSERT INTO ${this.q}.audit (client, at, actor, action, details) VALUES ($1, $2, $3, $4, $5)`, [
      client,
      event.at,
      event.actor,
      event.action,
      JSON.stringify(event.details),
    ]);
  }
}

interface PgSettingsRow {
  require_authentication: boolean;
  profile_retention_days: number | null;
}

function toSettings(row: PgSettingsRow): Settings {
  return { requireAuthentication: row.require_authentication, profileRetentionDays: row.profile_retention_days };
}
