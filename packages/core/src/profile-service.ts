import { parseBatchSlices, type BatchFormat, type BatchLimits } from './batch/parse';
import { BatchProgress } from './batch/progress';
import { BatchSpool } from './batch/spool';
import { systemClock, type Clock } from './clock';
import { NotFoundError, ValidationError } from './errors';
import { exportAttributeNames, exportPages, type ExportKey } from './profile-export';
import {
  attributeNameProblem,
  attributeValueProblem,
  normalizeAttributeName,
  profileIdProblem,
  shownName,
} from './profiles/rules';
import type { Profile, ProfileKey } from './profiles/types';
import { textProblem } from './storable-text';
import { failedRowBytes, failureMessage } from './store/failure-log';
import type { AuditEvent, BatchFailure, BatchRecord, PrestagedBatch, Store } from './store/types';
import { MAX_REPORTED_FAILURES } from './store/types';

/** Options of the profile service. */
export interface ProfileServiceOptions {
  store: Store;
  clock?: Clock;
  /** Body size and row limits of a batch (defaults: 50 MB, 500,000 rows). */
  batchLimits?: Partial<BatchLimits>;
  /** Folder for the temporary row files of batches being applied (default: the OS temp folder). */
  spoolDir?: string;
  /** Batch statuses kept per client beyond 24 hours (default 100). */
  keepBatches?: number;
  /** Called when applying a batch fails (the batch is then `stuck`); for logs. */
  onBatchError?: (batchId: string, error: unknown) => void;
}

/** Options of `submitBatch`. */
export interface SubmitBatchOptions {
  /**
   * Runs once the whole body has been read and parsed, just before the batch is recorded; when it
   * throws, the batch is refused with that error and nothing of it is stored (API.md 3.1: the
   * token is checked again once a batch body has been received).
   */
  beforeAccept?: () => Promise<void>;
}

/** A batch accepted for processing. */
export interface SubmittedBatch {
  batch: BatchRecord;
  /** Settles when the batch is `complete` or `stuck` (as `getBatch` shows it); never rejects. */
  applied: Promise<BatchRecord>;
}

const DAY_MS = 86_400_000;

/** Rows handed at a time to a store that works a batch out while its body is parsed. */
const EARLY_CHUNK_ROWS = 1000;

/** The status message of a batch whose token stopped working while it was being recorded. */
const REFUSED_AT_ACCEPT =
  'The token was revoked or replaced before the batch was accepted; nothing of it was stored. Send it again with the new token.';

/** Profiles of every client: single updates, fetches and batches (API.md section 2). */
export class ProfileService {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Rows worked through so far of each batch this instance is applying. */
  private readonly progress = new BatchProgress();

  constructor(private readonly options: ProfileServiceOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
  }

  /** Finds a profile by pcId, thirdPartyId or linked Experience Cloud ID. */
  async getProfile(client: string, key: ProfileKey): Promise<Profile | null> {
    // The text rule (storable-text.ts): such an id names no profile in any store; say why at once.
    const problem = textProblem(key.kind, key.id);
    if (problem) throw new ValidationError(problem);
    return this.store.getProfile(client, key);
  }

  /**
   * Deletes a profile with its attributes and id links (API.md 5); `audit`, given the deleted
   * profile, makes the event written with the deletion. Throws ValidationError for an id no
   * profile can have, NotFoundError when there is no such profile (nothing is then audited).
   */
  async deleteProfile(client: string, key: ProfileKey, audit?: (deleted: Profile) => AuditEvent): Promise<Profile> {
    const problem = textProblem(key.kind, key.id);
    if (problem) throw new ValidationError(problem);
    const deleted = await this.store.deleteProfile(client, key, audit);
    if (!deleted) throw new NotFoundError(notFoundMessage(client, key), 'ProfileNotFound');
    return deleted;
  }

  /** The exported profiles of a client, a page at a time (API.md 5; profile-export.ts). */
  exportPages(client: string, key: ExportKey, signal?: AbortSignal): AsyncGenerator<Profile[]> {
    return exportPages(this.store, client, key, signal);
  }

  /** Every attribute name of the profiles `exportPages` yields, sorted: a first pass. */
  exportAttributeNames(client: string, key: ExportKey, signal?: AbortSignal): Promise<string[]> {
    return exportAttributeNames(this.store, client, key, signal);
  }

  /**
   * Updates one profile with raw `profile.`-style parameters. Throws ValidationError for a bad
   * name, value or id, NotFoundError when the profile does not exist and `createMissing` is off
   * (or the key is an Experience Cloud ID: no profile is created by one). Without attributes (and
   * `createMissing` off) nothing is written: the profile is answered as it is. `options.remove`
   * names attributes to remove (API.md 5; `profile.` prefix optional, the same name rules): a
   * name both removed and given a non-empty value is a ValidationError.
   */
  async updateProfile(
    client: string,
    key: ProfileKey,
    rawAttributes: Record<string, string>,
    options: { createMissing?: boolean; remove?: readonly string[] } = {},
  ): Promise<Profile> {
    const idProblem = profileIdProblem(key);
    if (idProblem) throw new ValidationError(idProblem);
    const attributes = validateAttributes(rawAttributes);
    const remove = validateRemovals(options.remove ?? [], attributes);
    if (!options.createMissing && Object.keys(attributes).length === 0 && remove.length === 0) {
      const profile = await this.store.getProfile(client, key);
      if (!profile) throw new NotFoundError(notFoundMessage(client, key), 'ProfileNotFound');
      return profile;
    }
    const outcome = await this.store.updateProfile(
      client,
      remove.length > 0 ? { key, attributes, remove } : { key, attributes },
      { createMissing: options.createMissing ?? false, now: this.clock() },
    );
    if (outcome.status === 'notFound') throw new NotFoundError(notFoundMessage(client, key), 'ProfileNotFound');
    if (outcome.status === 'rejected') throw new ValidationError(outcome.message);
    return outcome.profile;
  }

  /**
   * Links an Experience Cloud ID to the profile `pcId`, taking it from any other profile of the
   * client that held it (the latest link wins), and returns the profile. Throws ValidationError
   * for a bad id, NotFoundError when the profile does not exist (a link never creates one).
   */
  async linkMarketingCloudVisitorId(client: string, pcId: string, marketingCloudVisitorId: string): Promise<Profile> {
    const profileKey: ProfileKey = { kind: 'pcId', id: pcId };
    const problem =
      profileIdProblem({ kind: 'marketingCloudVisitorId', id: marketingCloudVisitorId }) ??
      profileIdProblem(profileKey);
    if (problem) throw new ValidationError(problem);
    const outcome = await this.store.linkMarketingCloudVisitorId(client, pcId, marketingCloudVisitorId);
    if (outcome.status === 'notFound') {
      throw new NotFoundError(notFoundMessage(client, profileKey), 'ProfileNotFound');
    }
    return outcome.profile;
  }

  /**
   * Parses a batch body completely (a refused body stores nothing and throws a typed 400/413),
   * runs `options.beforeAccept`, records the batch as `incomplete`, runs `beforeAccept` again (the
   * recording may have waited), and applies it in the background.
   */
  async submitBatch(
    client: string,
    version: 'v1' | 'v2',
    body: AsyncIterable<Buffer | string>,
    format: BatchFormat,
    options: SubmitBatchOptions = {},
  ): Promise<SubmittedBatch> {
    const spool = await BatchSpool.create(this.options.spoolDir);
    const failures: BatchFailure[] = [];
    let failedCount = 0;
    let failedBytes = 0;
    let batch: BatchRecord;
    // A store that can (SQLite) works the rows out while the body is still parsed, storing
    // nothing until the batch is accepted and applied: `early` gets each chunk of rows as spooled.
    const early = this.store.prestageBatch?.(client, { createMissing: version === 'v2', now: this.clock() }) ?? null;
    let lines: string[] = [];
    const handOver = async () => {
      if (early && lines.length > 0) await early.add({ lines });
      lines = [];
    };
    try {
      // A slice of rows at a time, each row spooled without a promise: awaits only where the
      // spool's file or the early store asks to wait (a batch has up to 500,000 rows).
      for await (const items of parseBatchSlices(body, { format, limits: this.options.batchLimits })) {
        for (const item of items) {
          if (item.type === 'row') {
            const line = spool.append(item.update);
            if (spool.full) await spool.flush();
            if (early) {
              lines.push(line);
              if (lines.length >= EARLY_CHUNK_ROWS) await handOver();
            }
          } else {
            failedCount++;
            failedBytes += failedRowBytes(item.id);
            if (failures.length < MAX_REPORTED_FAILURES)
              failures.push({ line: item.line, id: item.id, message: item.message });
          }
        }
      }
      await handOver();
      await spool.finish();
      await options.beforeAccept?.();
      const now = this.clock();
      batch = await this.store.createBatch({
        client,
        version,
        batchSize: spool.size + failedCount,
        parseFailures: failures,
        parseFailedCount: failedCount,
        parseFailedRowBytes: failedBytes,
        now,
      });
    } catch (error) {
      await early?.discard();
      await spool.dispose();
      throw error;
    }
    if (options.beforeAccept) {
      // Recording the batch may have waited (behind another batch's merge on SQLite): check again,
      // so a token revoked meanwhile never gets a batch accepted. The record stays, `stuck`.
      try {
        await options.beforeAccept();
      } catch (error) {
        await early?.discard();
        await spool.dispose();
        await this.store.markBatchStuck(client, batch.batchId, REFUSED_AT_ACCEPT).catch(() => undefined);
        throw error;
      }
    }
    const applied = this.apply(batch, spool, early ?? undefined);
    return { batch, applied };
  }

  /**
   * A batch's status, with each failed row's message as batchStatus shows it (`Line N: why`), or
   * NotFoundError; ValidationError for a batchId that breaks the text rule.
   */
  async getBatch(client: string, batchId: string): Promise<BatchStatusRecord> {
    const problem = textProblem('batchId', batchId);
    if (problem) throw new ValidationError(problem);
    const applied = this.progress.get(client, batchId);
    const batch = await this.store.getBatch(client, batchId);
    if (!batch) throw new NotFoundError(`No batch ${batchId} for client ${client}`, 'BatchNotFound');
    // Read before the record: a batch that completes in between shows its final counters alone.
    return batch.status === 'incomplete' && applied !== undefined
      ? { ...shown(batch), appliedCount: applied }
      : shown(batch);
  }

  /**
   * Marks batches left `incomplete` by a process that stopped as `stuck`; call once at start-up.
   * (A shared store also does this periodically on its own: see PostgresStore.)
   */
  recover(): Promise<number> {
    return this.store.recoverIncompleteBatches();
  }

  /** Resolves when every batch being applied has finished. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private apply(batch: BatchRecord, spool: BatchSpool, early?: PrestagedBatch): Promise<BatchRecord> {
    const { client, batchId } = batch;
    // Rows staged while the body was parsed have been worked through: only their merge is left.
    this.progress.begin(client, batchId, early ? batch.batchSize : batch.consumedCount);
    const run = (async () => {
      try {
        // A function, not an iterator: the store may read the rows again to retry its transaction.
        // Counted as the store reads them: batchStatus's appliedCount while the batch is incomplete.
        // `encoded`: the same rows still as the spool's text, for a store that decodes them on another thread.
        const count = <C>(chunks: AsyncIterable<C>, rowsOf: (chunk: C) => number) =>
          this.progress.counted(client, batchId, batch.consumedCount, chunks, rowsOf);
        const rows = Object.assign(() => count(spool.chunks(), (chunk) => chunk.length), {
          encoded: () => count(spool.encodedChunks(), (chunk) => chunk.lines.length),
        });
        const applyOptions = { createMissing: batch.version === 'v2', now: this.clock() };
        const done = await this.store.applyBatch(batch.client, batch.batchId, rows, applyOptions, early);
        return shown(done);
      } catch (error) {
        this.options.onBatchError?.(batch.batchId, error);
        const message = 'The batch could not be applied; nothing of it was stored. Send it again.';
        await this.store.markBatchStuck(batch.client, batch.batchId, message).catch(() => undefined);
        return shown({ ...batch, status: 'stuck' as const, message });
      } finally {
        this.progress.end(client, batchId);
        await spool.dispose();
        await this.store
          .pruneBatches(batch.client, this.options.keepBatches ?? 100, this.clock() - DAY_MS)
          .catch(() => undefined);
      }
    })();
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    return run;
  }
}

/** A batch's status with, while this instance applies it, the rows worked through so far (API.md 2.2). */
export type BatchStatusRecord = BatchRecord & { appliedCount?: number };

/** A batch record as batchStatus shows it: each failed row's message built from its line and reason. */
function shown(batch: BatchRecord): BatchRecord {
  const { failedRowBytes: _kept, ...status } = batch;
  return { ...status, failures: batch.failures.map((f) => ({ id: f.id, message: failureMessage(f) })) };
}

/** Validates `profile.NAME=VALUE` style parameters; returns the names without the prefix. */
export function validateAttributes(raw: Record<string, string>): Record<string, string> {
  const attributes: Record<string, string> = Object.create(null);
  for (const rawName of Object.keys(raw)) {
    const name = normalizeAttributeName(rawName);
    const nameProblem = attributeNameProblem(name);
    if (nameProblem) throw new ValidationError(nameProblem);
    const value = raw[rawName]!;
    const valueProblem = attributeValueProblem(name, value);
    if (valueProblem) throw new ValidationError(valueProblem);
    if (value !== '') attributes[name] = value;
  }
  return attributes;
}

/**
 * Validates the names of attributes to remove (`profile.` prefix optional) under the rules of
 * attribute names; returns them without the prefix, each once. A name that `attributes` (already
 * validated, empty values left out) also sets is refused: the update would mean two things.
 */
export function validateRemovals(raw: readonly string[], attributes: Record<string, string>): string[] {
  const names = new Set<string>();
  for (const rawName of raw) {
    const name = normalizeAttributeName(rawName);
    const nameProblem = attributeNameProblem(name);
    if (nameProblem) throw new ValidationError(nameProblem);
    if (Object.hasOwn(attributes, name)) {
      throw new ValidationError(`Attribute "${shownName(name)}" is both set and removed; send one or the other`);
    }
    names.add(name);
  }
  return [...names];
}

/** The 404 message of the fetch and update routes, in Adobe's wording (API.md 2.4). */
export function notFoundMessage(client: string, key: ProfileKey): string {
  switch (key.kind) {
    case 'thirdPartyId':
      return `No profile found for client ${client} with third party id=${key.id}`;
    case 'marketingCloudVisitorId':
      return `No profile found for client ${client} with marketingCloudVisitorId=${key.id}`;
    case 'pcId':
      return `No profile found for client ${client} with mboxPC=${key.id}`;
  }
}
