import { createHash } from 'node:crypto';
import { Client } from 'pg';
import type { Notification } from 'pg';

/** The `application_name` of the LISTEN connection, so operators (and tests) can find it. */
export const LISTEN_APPLICATION_NAME = 'profilegate-listen';

/** The NOTIFY channel of one schema, so instances on different schemas never hear each other. */
export function postgresChannel(schema: string): string {
  if (schema === 'public') return 'profilegate_changes';
  const channel = `profilegate_changes_${schema}`;
  // Channel names are identifiers: at most 63 bytes.
  return channel.length <= 63
    ? channel
    : `profilegate_changes_${createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
}

/** Options of a {@link ChangeListener}. */
export interface ChangeListenerOptions {
  connectionString: string;
  /** The NOTIFY channel (used verbatim, quoted). */
  channel: string;
  /** Called with each notification's payload. */
  onPayload(payload: string): void;
  /** Called after a lost connection is back and listening again: notifications may have been missed. */
  onReconnect(): void;
  /** First reconnect delay (default 100 ms), doubled after each failure up to `maxBackoffMs`. */
  minBackoffMs?: number;
  /** Longest reconnect delay (default 2 s). */
  maxBackoffMs?: number;
}

/**
 * One dedicated connection doing `LISTEN`. A pool cannot do this: notifications arrive only on
 * the session that listens. When the connection errors or ends, it reconnects with backoff and
 * listens again.
 */
export class ChangeListener {
  private client: Client | null = null;
  private connected = false;
  private backendPid: number | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private backoffMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly options: ChangeListenerOptions) {
    this.minBackoffMs = options.minBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 2000;
    this.backoffMs = this.minBackoffMs;
  }

  /** Whether the LISTEN connection is up and subscribed. */
  get isConnected(): boolean {
    return this.connected;
  }

  /** Connects and listens; rejects when the first attempt fails. */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** The server process id of the LISTEN connection while it is up (to find it in `pg_stat_activity`). */
  get pid(): number | null {
    return this.connected ? this.backendPid : null;
  }

  /** Stops listening for good and closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.connected = false;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.options.connectionString,
      application_name: LISTEN_APPLICATION_NAME,
      connectionTimeoutMillis: 10_000,
      // Detect a silently dropped connection (no FIN) in tens of seconds, not hours.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    let ready = false;
    let lost = false;
    const onLost = () => {
      if (!ready || lost) return;
      lost = true;
      this.connected = false;
      if (this.client === client) this.client = null;
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    // An 'error' without a listener would crash the process; a lost connection is expected.
    client.on('error', onLost);
    client.on('notification', (message: Notification) => {
      if (message.channel === this.options.channel && message.payload !== undefined) {
        this.options.onPayload(message.payload);
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.options.channel.replaceAll('"', '""')}"`);
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      this.backendPid = rows[0]!.pid;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    ready = true;
    client.on('end', onLost);
    this.client = client;
    this.connected = true;
    this.backoffMs = this.minBackoffMs;
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retry) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.stopped) return;
      this.connect().then(
        () => {
          if (!this.stopped) this.options.onReconnect();
        },
        () => this.scheduleReconnect(),
      );
    }, delay);
    // A pending reconnect must not keep a finished process alive.
    this.retry.unref();
  }
}
