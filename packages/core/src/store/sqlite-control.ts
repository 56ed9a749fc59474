import { chmodSync, existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { configureSqliteWriter, migrateSqliteControl } from './sqlite-schema';
import { SqliteSigningKeys } from './sqlite-signing-keys';
import type { AuditEvent, Settings, SettingsChange, TokenRecord, TokenState } from './types';
import { DEFAULT_SETTINGS, definedSettings, gracedAfterReplacing } from './types';

/** The control database's file beside a profile database file: `profiles.db` → `profiles.control.db`. */
export function controlPathOf(profilePath: string): string {
  const match = /^(.*?)(\.[A-Za-z0-9]{1,10})?$/.exec(profilePath)!;
  const [, stem, extension] = match;
  return `${stem}.control${extension ?? '.db'}`;
}

/**
 * The control state of the SQLite store: settings, token state and audit, in a file of its own
 * with its own connection. A batch holds the profile database's write lock while it merges; it
 * never holds this file's, so an admin's regeneration, revocation or settings change (and its
 * audit event, in the same transaction) commits in milliseconds whatever a batch is doing.
 * better-sqlite3 is synchronous, so each method is one transaction that nothing interleaves with.
 */
export class SqliteControl {
  private readonly db: Database.Database;
  private readonly sql: ReturnType<typeof prepare>;
  /** Fingerprints of the signing keys (never the keys themselves). */
  readonly signingKeys: SqliteSigningKeys;

  /** Opens (creating if needed) the control file; a new one takes over `legacy`'s control tables. */
  constructor(
    readonly path: string,
    legacy: Database.Database,
  ) {
    const isNew = !existsSync(path);
    this.db = new Database(path);
    if (isNew) chmodSync(path, 0o600);
    configureSqliteWriter(this.db);
    migrateSqliteControl(this.db, legacy);
    this.sql = prepare(this.db);
    this.signingKeys = new SqliteSigningKeys(this.db, this.db);
  }

  getSettings(client: string): Settings {
    const row = this.sql.readSettings.get(client) as
      { require_authentication: number; profile_retention_days: number | null } | undefined;
    if (!row) return { ...DEFAULT_SETTINGS };
    return {
      requireAuthentication: row.require_authentication === 1,
      profileRetentionDays: row.profile_retention_days,
    };
  }

  putSettings(client: string, change: SettingsChange, audit?: (before: Settings) => AuditEvent): Settings {
    return this.db
      .transaction((): Settings => {
        const before = this.getSettings(client);
        const after: Settings = { ...before, ...definedSettings(change) };
        this.sql.upsertSettings.run(client, after.requireAuthentication ? 1 : 0, after.profileRetentionDays);
        if (audit) this.insertAudit(client, audit(before));
        return before;
      })
      .immediate();
  }

  getTokenState(client: string): TokenState {
    const row = this.sql.readTokenState.get(client) as { current: string | null; graced: string } | undefined;
    if (!row) return { current: null, graced: [] };
    return { current: row.current ? JSON.parse(row.current) : null, graced: JSON.parse(row.graced) };
  }

  replaceToken(
    client: string,
    token: TokenRecord,
    graceUntil: number | null,
    now: number,
    audit?: AuditEvent,
  ): TokenState {
    return this.db
      .transaction((): TokenState => {
        const previous = this.getTokenState(client);
        const next: TokenState = {
          current: { ...token },
          graced: gracedAfterReplacing(previous.current, graceUntil, now),
        };
        this.sql.upsertTokenState.run(client, JSON.stringify(next.current), JSON.stringify(next.graced));
        if (audit) this.insertAudit(client, audit);
        return next;
      })
      .immediate();
  }

  revokeTokens(client: string, audit?: (hadToken: boolean) => AuditEvent): boolean {
    return this.db
      .transaction((): boolean => {
        const had = this.getTokenState(client).current !== null;
        this.sql.upsertTokenState.run(client, null, '[]');
        if (audit) this.insertAudit(client, audit(had));
        return had;
      })
      .immediate();
  }

  appendAudit(client: string, event: AuditEvent): void {
    this.insertAudit(client, event);
  }

  listAudit(client: string, limit: number): AuditEvent[] {
    const rows = this.sql.readAudit.all(client, limit) as Array<{
      at: number;
      actor: string;
      action: AuditEvent['action'];
      details: string;
    }>;
    return rows.map((r) => ({ at: r.at, actor: r.actor, action: r.action, details: JSON.parse(r.details) }));
  }

  close(): void {
    this.db.close();
  }

  private insertAudit(client: string, event: AuditEvent): void {
    this.sql.insertAudit.run(client, event.at, event.actor, event.action, JSON.stringify(event.details));
  }
}

function prepare(db: Database.Database) {
  return {
    readSettings: db.prepare('SELECT require_authentication, profile_retention_days FROM settings WHERE client = ?'),
    upsertSettings: db.prepare(
      `INSERT INTO settings (client, require_authentication, profile_retention_days) VALUES (?, ?, ?)
       ON CONFLICT (client) DO UPDATE SET require_authentication = excluded.require_authentication,
         profile_retention_days = excluded.profile_retention_days`,
    ),
    readTokenState: db.prepare('SELECT current, graced FROM token_state WHERE client = ?'),
    upsertTokenState: db.prepare(
      `INSERT INTO token_state (client, current, graced) VALUES (?, ?, ?)
       ON CONFLICT (client) DO UPDATE SET current = excluded.current, graced = excluded.graced`,
    ),
    insertAudit: db.prepare('INSERT INTO audit (client, at, actor, action, details) VALUES (?, ?, ?, ?, ?)'),
    readAudit: db.prepare('SELECT at, actor, action, details FROM audit WHERE client = ? ORDER BY id DESC LIMIT ?'),
  };
}
