import { hostname } from 'node:os';
import { systemClock, type Clock } from '../clock';
import type { SigningKeyRecord, Store } from '../store/types';
import { agreeOnSigningKeys, lackingKeysWarning } from './key-agreement';
import { describeKeyOrigin, parseSigningKeys, type SigningKeyOrigin, type SigningKeySet } from './key-file';
import { readKeyFileText, readStartingKeys } from './key-source';
import { KeyRing, type SigningKey } from './keys';

/** Options of {@link openSigningKeys}: exactly one of `file` and `variable`. */
export interface OpenSigningKeysOptions {
  /** The store shared by the instances: it records the keys' fingerprints, never the keys. */
  store: Store;
  /**
   * The key file. Created with one new key when missing, unless the store already records keys
   * in use (this instance must then get a copy of them). Read again every `pollMs`.
   */
  file?: string;
  /** The key file's JSON, from an environment variable, instead of a file: `{ name, value }`. */
  variable?: { name: string; value: string };
  clock?: Clock;
  /** One-line messages: a reload, a refused reload, a key this instance lacks. Never given a key. */
  log?: (line: string) => void;
  /** How often the key file is read for changes, in ms (default 1000; 0: only when `reload()` is called). */
  pollMs?: number;
  /** This instance, as recorded with the keys it registers (default `host/pid`). */
  instance?: string;
}

/** What one reload did. */
export type ReloadOutcome = 'unchanged' | 'reloaded' | 'refused';

/** A summary for logs: ids and roles only. */
function describeKeys(keys: SigningKey[], active: SigningKey): string {
  const kids = keys.map((k) => (k.pending === true ? `${k.kid} (pending)` : k.kid));
  return `${kids.join(', ')}; signing with ${active.kid}`;
}

/** Whether two key lists are the same keys, with the same roles, in the same order. */
function sameKeys(a: SigningKey[], b: SigningKey[]): boolean {
  return (
    a.length === b.length &&
    a.every((key, i) => {
      const other = b[i]!;
      return (
        key.kid === other.kid &&
        key.createdAt === other.createdAt &&
        (key.pending === true) === (other.pending === true) &&
        key.key.equals(other.key)
      );
    })
  );
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The signing keys of a running instance, kept in agreement with the other instances sharing
 * the store. `ring` is the KeyRing to give the router: it is updated in place when the key file
 * changes (polled) or another instance changes the recorded keys (announced by the store), so
 * adding, activating or retiring a key needs no restart. A reload that is not valid keeps the
 * keys in use and logs one line saying why.
 */
export class LiveSigningKeys {
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;
  /** The file's text as last read, so an unchanged file is not parsed again. */
  private lastText: string | undefined;
  /** The last set read without error, used when the file cannot be read while the store changed. */
  private lastSet: SigningKeySet;
  private lastRecords: string;
  /** The last warning or error logged, so a poll does not repeat it every second. */
  private lastLogged = '';
  private closed = false;
  private pollQueued = false;

  private constructor(
    readonly ring: KeyRing,
    private readonly origin: SigningKeyOrigin,
    private readonly options: Required<Pick<OpenSigningKeysOptions, 'store' | 'clock' | 'log'>> & {
      registeredBy: string;
      variableValue?: string;
    },
    set: SigningKeySet,
    records: SigningKeyRecord[],
    text: string | undefined,
    pollMs: number,
  ) {
    this.lastSet = set;
    this.lastText = text;
    this.lastRecords = JSON.stringify(records);
    this.unsubscribe = options.store.onSigningKeysChange(() => this.recordsChanged());
    if (pollMs > 0 && 'file' in origin) {
      this.timer = setInterval(() => this.poll(), pollMs);
      this.timer.unref();
    }
  }

  /**
   * Reads the keys, checks them against the store and registers new ones. Throws
   * SigningKeyMismatchError when they do not match the keys of the other instances (naming the
   * key file or variable and what to do), or an Error when the file or variable is not valid.
   */
  static async open(options: OpenSigningKeysOptions): Promise<LiveSigningKeys> {
    const { store } = options;
    if ((options.file === undefined) === (options.variable === undefined)) {
      throw new TypeError('openSigningKeys: give exactly one of file and variable');
    }
    const clock = options.clock ?? systemClock;
    const log = options.log ?? ((line: string) => console.error(`profilegate: ${line}`));
    const origin: SigningKeyOrigin =
      options.file !== undefined ? { file: options.file } : { variable: options.variable!.name };
    const registeredBy = `${options.instance ?? `${hostname()}/${process.pid}`} with the ${describeKeyOrigin(origin)}`;
    const { set, text } = await readStartingKeys(origin, { store, clock, variableValue: options.variable?.value });
    const agreed = await agreeOnSigningKeys(store, set, { origin, registeredBy, now: clock() });
    const ring = new KeyRing(agreed.keys);
    const keys = new LiveSigningKeys(
      ring,
      origin,
      { store, clock, log, registeredBy, ...(options.variable ? { variableValue: options.variable.value } : {}) },
      set,
      agreed.records,
      text,
      options.pollMs ?? 1000,
    );
    keys.warn(agreed.retiredInStore, []);
    return keys;
  }

  /**
   * Reads the keys again and checks them against the store; applies them when they are valid.
   * Never throws: a refused reload keeps the keys in use and logs why. Reloads run one at a time.
   */
  reload(): Promise<ReloadOutcome> {
    return this.enqueue(() => this.reloadNow());
  }

  /** Stops watching the file and the store; waits for a reload under way. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe();
    await this.queue;
  }

  /** Reloads when the key file's text changed; queued behind any reload under way. */
  private poll(): void {
    // A slow reload (a busy database) must not pile up one poll per interval behind it.
    if (this.pollQueued) return;
    this.pollQueued = true;
    this.enqueue(async () => {
      this.pollQueued = false;
      if (this.closed || !('file' in this.origin)) return;
      let text: string | undefined;
      try {
        text = await readKeyFileText(this.origin.file);
      } catch (error) {
        this.once(`Signing keys not reloaded (${this.still()}): ${describe(error)}`);
        return;
      }
      if (text !== this.lastText) await this.reloadNow();
    });
  }

  /** Reloads when the recorded keys changed (another instance, or a notification of our own change). */
  private recordsChanged(): void {
    this.enqueue(async () => {
      if (this.closed) return;
      try {
        if (JSON.stringify(await this.options.store.listSigningKeys()) === this.lastRecords) return;
      } catch {
        // The store is unreachable: a reload would fail the same way; the next change or poll retries.
        return;
      }
      await this.reloadNow();
    });
  }

  /** Runs `task` after every earlier one: reloads never overlap. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private still(): string {
    return `still using ${describeKeys(this.ring.all(), this.ring.active())}`;
  }

  private async reloadNow(): Promise<ReloadOutcome> {
    if (this.closed) return 'unchanged';
    const { store, clock, registeredBy } = this.options;
    const before = this.ring.all();
    const still = this.still();
    let set = this.lastSet;
    let readError: string | undefined;
    try {
      if ('file' in this.origin) {
        const text = await readKeyFileText(this.origin.file);
        this.lastText = text;
        if (text === undefined) throw new Error(`Signing key file ${this.origin.file} does not exist`);
        set = parseSigningKeys(text, this.origin);
      } else {
        set = parseSigningKeys(this.options.variableValue ?? '', this.origin);
      }
    } catch (error) {
      // Keep checking the keys in use against the store: a key retired elsewhere must still go.
      readError = describe(error);
    }
    let agreed;
    try {
      agreed = await agreeOnSigningKeys(store, set, {
        origin: this.origin,
        registeredBy,
        now: clock(),
        held: new Set(before.map((k) => k.kid)),
      });
      if (!sameKeys(agreed.keys, before)) this.ring.replace(agreed.keys);
    } catch (error) {
      this.once(`Signing keys not reloaded (${still}): ${describe(error)}`);
      await this.dropRetired();
      return 'refused';
    }
    this.lastRecords = JSON.stringify(agreed.records);
    if (readError === undefined) this.lastSet = set;
    const changed = !sameKeys(this.ring.all(), before);
    if (changed) {
      this.lastLogged = '';
      this.options.log(
        `Signing keys reloaded from the ${describeKeyOrigin(this.origin)}: ${describeKeys(this.ring.all(), this.ring.active())}`,
      );
    }
    if (readError !== undefined) this.once(`Signing keys not reloaded (${still}): ${readError}`);
    else this.warn(agreed.retiredInStore, agreed.missing);
    return readError !== undefined ? 'refused' : changed ? 'reloaded' : 'unchanged';
  }

  /** After a refused reload: a key retired in the database stops verifying here all the same. */
  private async dropRetired(): Promise<void> {
    let records: SigningKeyRecord[];
    try {
      records = await this.options.store.listSigningKeys();
    } catch {
      return; // the next change or poll tries again
    }
    const retired = new Set(records.filter((r) => r.retiredAt !== null).map((r) => r.kid));
    const before = this.ring.all();
    const keep = before.filter((key) => !retired.has(key.kid));
    if (keep.length === before.length || keep.length === 0) return;
    this.ring.replace(keep);
    const gone = before.filter((key) => retired.has(key.kid)).map((key) => key.kid);
    this.options.log(
      `Signing key ${gone.join(', ')} is retired in the database: no longer verifying it; now using ${describeKeys(keep, this.ring.active())}`,
    );
  }

  /** Says which keys this instance lacks or still lists though they are retired. */
  private warn(retired: string[], missing: SigningKeyRecord[]): void {
    const lines: string[] = [];
    if (retired.length > 0) {
      lines.push(
        `Signing key ${retired.join(', ')} of the ${describeKeyOrigin(this.origin)} is retired in the database: ` +
          'it verifies no token here; mark it retired there too ({"kid":"<kid>","retiredAt":<epoch ms>}).',
      );
    }
    if (missing.length > 0) lines.push(lackingKeysWarning(this.origin, missing));
    if (lines.length > 0) this.once(lines.join(' '));
  }

  /** Logs `line` unless it is the last line logged (a poll must not repeat it every second). */
  private once(line: string): void {
    if (line === this.lastLogged) return;
    this.lastLogged = line;
    this.options.log(line);
  }
}

/**
 * Opens the signing keys of an instance sharing `store` with others: reads them (from the key
 * file, created when missing and no instance uses keys yet, or from a variable), checks them
 * against the fingerprints recorded in the store, registers new ones, and keeps them up to date
 * while the instance runs. Throws SigningKeyMismatchError when they do not match.
 */
export function openSigningKeys(options: OpenSigningKeysOptions): Promise<LiveSigningKeys> {
  return LiveSigningKeys.open(options);
}
