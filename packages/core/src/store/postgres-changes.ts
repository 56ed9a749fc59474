import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { ChangeEmitter } from './change-emitter';
import { SIGNING_KEYS_CHANGED } from './postgres-signing-keys';
import type { StoreChange } from './types';

/**
 * What one PostgreSQL store instance tells its subscribers, and how it tells the other instances:
 * a write queues a NOTIFY in its own transaction and tells local subscribers at once; what the
 * LISTEN connection hears from other instances is passed on, this instance's own echo dropped.
 */
export class PostgresChanges {
  /** Tells this instance's own notifications apart: it already emitted them locally. */
  readonly origin = randomUUID();
  private readonly changes = new ChangeEmitter();
  private readonly signingKeyChanges = new ChangeEmitter<void>();
  /** Clients whose token state or settings this instance has read or heard about. */
  private readonly seenClients = new Set<string>();

  /** `channel`: the NOTIFY channel of the store's schema (postgresChannel). */
  constructor(readonly channel: string) {}

  /** Remembers a client whose token state or settings were read, for everythingMayHaveChanged. */
  seen(client: string): void {
    this.seenClients.add(client);
  }

  /** Queues a NOTIFY in the caller's transaction: PostgreSQL delivers it on commit, never on rollback. */
  async notify(db: PoolClient, change: StoreChange): Promise<void> {
    const payload = JSON.stringify({ client: change.client, kind: change.kind, origin: this.origin });
    await db.query('SELECT pg_notify($1, $2)', [this.channel, payload]);
  }

  /** Queues the NOTIFY that the recorded signing keys changed, in the caller's transaction. */
  async notifySigningKeys(db: PoolClient): Promise<void> {
    const payload = JSON.stringify({ kind: SIGNING_KEYS_CHANGED, origin: this.origin });
    await db.query('SELECT pg_notify($1, $2)', [this.channel, payload]);
  }

  /** A local change: subscribers hear it at once, without waiting for the notification. */
  changed(change: StoreChange): void {
    this.seenClients.add(change.client);
    this.changes.emit(change);
  }

  /** A local change of the recorded signing keys. */
  signingKeysChanged(): void {
    this.signingKeyChanges.emit();
  }

  /** A notification from the LISTEN connection. */
  heard(payload: string): void {
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
  everythingMayHaveChanged(): void {
    for (const client of [...this.seenClients]) {
      this.changes.emit({ client, kind: 'token' });
      this.changes.emit({ client, kind: 'settings' });
    }
    this.signingKeyChanges.emit();
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    return this.changes.subscribe(listener);
  }

  onSigningKeysChange(listener: () => void): () => void {
    return this.signingKeyChanges.subscribe(listener);
  }
}
