import type Database from 'better-sqlite3';
import { freePcId, nextProfileState, startTally, tallyRow, type BatchTally } from './apply-row';
import { MAX_REPORTED_FAILURES } from './types';
import { keptFailures } from './failure-log';
import { checkpointAfterBatch } from './sqlite-schema';
import { decodeBatchRows, scanBatchRow, type ScannedBatchRow } from './encoded-rows';
import { StagedKeys } from './staged-keys';
import {
  PROFILE_COLUMNS,
  encodeAttributes,
  encodeNewAttributes,
  fromBatch,
  newAttributesFromText,
  toBatch,
  toProfile,
  type BatchRowRecord,
  type FreshRow,
  type ProfileRow,
} from './sqlite-rows';
import type { ApplyBatchOptions, BatchRecord, BatchRow } from './types';

/** A profile written by something else than the batch since its stage began (see SqliteStore). */
export interface TouchedProfile {
  client: string;
  pcId: string;
  thirdPartyId: string | null;
}

/**
 * A batch worked out without the profile database's write lock, then merged in one short
 * transaction (docs/sqlite-batches.md):
 *
 * 1. Stage: a read transaction on the profile database (a WAL snapshot, which never blocks a
 *    writer) and the batch's results in TEMP tables of this connection: `staged`, the new state of
 *    every profile the batch changes, and `missed`, the keys of rows that changed nothing (profile
 *    not found, refused against the snapshot, or values already stored).
 * 2. Merge: the caller stops other profile writes and passes every profile written since the stage
 *    began. If none of them is a profile the batch read, the staged rows are copied into
 *    `profiles` and the batch marked `complete` in one IMMEDIATE transaction: the only time the
 *    batch holds the write lock. Otherwise the stage is thrown away and the caller applies the
 *    batch again under the lock (SqliteProfileWriter), so a single update made meanwhile is never
 *    overwritten by a result computed before it.
 *
 * Nothing reaches the profile database before the merge commits: a crash or an error in stage 1
 * leaves the batch `incomplete` with none of its rows stored.
 */
export class SqliteBatchStage {
  private readonly sql: ReturnType<typeof prepare>;
  private batch: BatchRecord | null = null;
  private tally: BatchTally | null = null;
  private options: ApplyBatchOptions | null = null;
  private client = '';
  /** Row ids of the staged profiles, by pcId and by thirdPartyId (no index on the TEMP table). */
  private readonly stagedByPcId: StagedKeys;
  private readonly stagedByThirdPartyId: StagedKeys;
  /**
   * The stored pcIds a pcId drawn by this batch could repeat: a drawn pcId starts with the batch's
   * `now` (newPcId), so only stored pcIds with that prefix can be equal to it. Read once from the
   * snapshot (almost always none), instead of one lookup per new profile.
   */
  private drawPrefix = '';
  private readonly storedDrawable = new Set<string>();

  /** `hash` is for tests, which make every key share one hash (see StagedKeys). */
  constructor(
    private readonly db: Database.Database,
    hash?: (key: string) => number,
  ) {
    const hashes = hash && (() => hash);
    db.exec(`
      CREATE TEMP TABLE IF NOT EXISTS staged (
        id INTEGER PRIMARY KEY, client TEXT NOT NULL, pc_id TEXT NOT NULL, third_party_id TEXT,
        attributes TEXT NOT NULL, modified_at INTEGER NOT NULL
      );
      CREATE TEMP TABLE IF NOT EXISTS missed (client TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS temp.missed_key ON missed (client, kind, id);
    `);
    this.sql = prepare(db);
    this.stagedByPcId = new StagedKeys(hashes);
    this.stagedByThirdPartyId = new StagedKeys(hashes);
  }

  /**
   * Starts staging a stored `incomplete` batch. Throws for an unknown batch or one already applied.
   * With a null `batchId`, the batch is not recorded yet (its body is still parsed): its record is
   * read, and its counts added to the rows', at the merge.
   */
  begin(client: string, batchId: string | null, options: ApplyBatchOptions): void {
    this.discard();
    this.db.exec('BEGIN');
    if (batchId === null) {
      this.db.prepare('SELECT 1 FROM main.profiles LIMIT 1').get(); // takes the snapshot
      this.tally = emptyTally();
    } else {
      this.batch = this.readIncomplete(client, batchId); // takes the snapshot
      this.tally = startTally(this.batch);
    }
    this.options = options;
    this.client = client;
    // '.' follows '-': the range holds every pcId that starts with `${now}-`.
    this.drawPrefix = `${options.now}-`;
    for (const { pc_id } of this.sql.storedPcIdsBetween.all(client, this.drawPrefix, `${options.now}.`) as Array<{
      pc_id: string;
    }>)
      this.storedDrawable.add(pc_id);
  }

  private readIncomplete(client: string, batchId: string): BatchRecord {
    const stored = this.sql.readBatch.get(batchId) as BatchRowRecord | undefined;
    if (!stored || stored.client !== client) throw new Error(`Unknown batch ${batchId}`);
    if (stored.status !== 'incomplete') throw new Error(`Batch ${batchId} is already ${stored.status}`);
    return toBatch(stored);
  }

  /** Stages one row; `fresh` is its freshRowOf when worked out ahead (most rows of new visitors). */
  apply(row: BatchRow, fresh: FreshRow | null = null): void {
    this.applyRow(row, null, fresh);
  }

  /**
   * Stages rows in order, as `apply` would one by one; their stored profiles are read with one
   * query a kind of key instead of one a row. `fresh[i]` is row i's freshRowOf, when worked out ahead.
   */
  applyRows(rows: readonly BatchRow[], fresh: ReadonlyArray<FreshRow | null> | null = null): void {
    const stored = rows.length > 1 ? this.readStored(rows) : null;
    for (let i = 0; i < rows.length; i++) this.applyRow(rows[i]!, stored, fresh?.[i] ?? null);
  }

  /**
   * Stages rows still encoded (encodeBatchRow), as applyRows would stage them decoded. A row that
   * creates a profile is stored from the JSON text of its attributes as it is (most rows of a
   * batch of new visitors), so it is never decoded; any other row is decoded and applied as usual.
   */
  applyEncoded(lines: readonly string[]): void {
    // A batch that creates nothing (v1) decodes every row anyway: all of them at once.
    if (!this.options!.createMissing) return this.applyRows(decodeBatchRows(lines));
    const scanned = lines.map(scanBatchRow);
    const stored = scanned.length > 1 ? this.readStored(scanned) : null;
    for (let i = 0; i < scanned.length; i++) {
      const row = scanned[i]!;
      if (row.attributes !== null && this.stageNew(row, row.attributes, stored)) continue;
      this.applyRow(decodeBatchRows([lines[i]!])[0]!, stored, null);
    }
  }

  /**
   * Stages the new profile of a row whose profile is neither staged nor stored, from the JSON text
   * of its attributes; false (nothing done) when its profile exists, or when the text is not what
   * the profile would store (newAttributesFromText).
   */
  private stageNew(row: ScannedBatchRow, text: string, stored: StoredRows | null): boolean {
    const attributes = newAttributesFromText(text);
    if (attributes === null) return false;
    const { kind, id } = row.key;
    if (this.findStaged(kind, id) !== undefined) return false;
    if (stored ? stored[kind].has(id) : this.lookupStored(kind, id) !== undefined) return false;
    this.stageCreated(row, attributes);
    return true;
  }

  /**
   * Stages the profile a row creates, its attributes encoded, as nextProfileState makes it without
   * the objects in between: a pcId row creates that pcId; a thirdPartyId row a new random pcId
   * linked to it.
   */
  private stageCreated(row: { key: BatchRow['key'] }, attributes: string): void {
    const { kind, id } = row.key;
    const now = this.options!.now;
    const pcId = kind === 'pcId' ? id : freePcId(now, this.pcIdTaken);
    this.insertStaged(pcId, kind === 'pcId' ? null : id, attributes, now);
    this.count(row, { status: 'write' });
  }

  /** The stored row (in the snapshot) of the profile with this key. */
  private lookupStored(kind: BatchRow['key']['kind'], id: string): ProfileRow | undefined {
    return (kind === 'pcId' ? this.sql.storedByPcId : this.sql.storedByThirdPartyId).get(this.client, id) as
      ProfileRow | undefined;
  }

  /** The stored rows (in the snapshot) of the profiles `rows` name, by kind of key and id. */
  private readStored(rows: ReadonlyArray<{ key: BatchRow['key'] }>): StoredRows {
    const pcIds: string[] = [];
    const thirdPartyIds: string[] = [];
    for (const row of rows) (row.key.kind === 'pcId' ? pcIds : thirdPartyIds).push(row.key.id);
    const byPcId = new Map<string, ProfileRow>();
    const byThirdPartyId = new Map<string, ProfileRow>();
    if (pcIds.length > 0)
      for (const row of this.sql.storedByPcIds.all(this.client, JSON.stringify(pcIds)) as ProfileRow[])
        byPcId.set(row.pc_id, row);
    if (thirdPartyIds.length > 0)
      for (const row of this.sql.storedByThirdPartyIds.all(this.client, JSON.stringify(thirdPartyIds)) as ProfileRow[])
        byThirdPartyId.set(row.third_party_id!, row);
    return { pcId: byPcId, thirdPartyId: byThirdPartyId };
  }

  /** Stages one row; `stored` holds its stored profile when read ahead (null: look it up). */
  private applyRow(row: BatchRow, stored: StoredRows | null, fresh: FreshRow | null): void {
    const options = this.options!;
    const client = this.client;
    const kind = row.key.kind;
    const stagedRow = this.findStaged(kind, row.key.id);
    const current = stagedRow ?? (stored ? stored[kind].get(row.key.id) : this.lookupStored(kind, row.key.id));
    const taken = this.pcIdTaken;

    if (current === undefined && fresh !== null && options.createMissing) {
      if ('rejected' in fresh) return this.count(row, { status: 'rejected', message: fresh.rejected });
      if (kind === 'pcId' || !taken(fresh.pcId)) {
        this.insertStaged(fresh.pcId, fresh.thirdPartyId, fresh.attributes, fresh.modifiedAt);
        return this.count(row, { status: 'write' });
      }
      // Its random pcId is taken (a draw repeated within the millisecond): worked out again below.
    }
    if (current === undefined && options.createMissing) {
      const attributes = encodeNewAttributes(row.attributes);
      if (attributes !== null) return this.stageCreated(row, attributes);
    }
    const existing = current ? toProfile(current) : null;
    const result = nextProfileState(existing, row, options.createMissing, options.now, taken);
    if (result.status === 'write' && result.changed) {
      const p = result.profile;
      const attributes = encodeAttributes(p.attributes, p.modifiedAt);
      if (stagedRow) this.sql.restage.run(attributes, p.modifiedAt, stagedRow.id);
      else this.insertStaged(p.pcId, p.thirdPartyId ?? null, attributes, p.modifiedAt);
    } else if (stagedRow === undefined) {
      // The row wrote nothing (profile not found, refused, or every value already stored): its
      // key is kept all the same, so a single update made meanwhile sends the batch to the direct
      // apply, which puts the row's values on top of it.
      this.sql.miss.run(client, kind, row.key.id);
    }
    return this.count(row, result);
  }

  /** The staged row of the profile with this key, if the batch has staged it. */
  private findStaged(kind: BatchRow['key']['kind'], id: string): StagedRow | undefined {
    let found: StagedRow | undefined;
    // A candidate may be another key's row (the same hash): it is read and its key compared.
    (kind === 'pcId' ? this.stagedByPcId : this.stagedByThirdPartyId).find(id, (rowId) => {
      const row = this.sql.stagedById.get(rowId) as StagedRow | undefined;
      if (row === undefined || (kind === 'pcId' ? row.pc_id : row.third_party_id) !== id) return false;
      found = row;
      return true;
    });
    return found;
  }

  /** Whether a profile staged or stored (in the snapshot) has this pcId: one function for every row. */
  private readonly pcIdTaken = (pcId: string): boolean =>
    this.findStaged('pcId', pcId) !== undefined || this.storedPcIdTaken(pcId);

  /** Whether a stored profile (in the snapshot) has this pcId. */
  private storedPcIdTaken(pcId: string): boolean {
    if (pcId.startsWith(this.drawPrefix)) return this.storedDrawable.has(pcId);
    return this.sql.storedByPcId.get(this.client, pcId) !== undefined;
  }

  /** Stages a profile the batch has not staged yet (by either of its keys). */
  private insertStaged(pcId: string, thirdPartyId: string | null, attributes: string, modifiedAt: number): void {
    const id = Number(this.sql.stage.run(this.client, pcId, thirdPartyId, attributes, modifiedAt).lastInsertRowid);
    this.stagedByPcId.add(pcId, id);
    if (thirdPartyId !== null) this.stagedByThirdPartyId.add(thirdPartyId, id);
  }

  /**
   * Ends the stage and merges it, unless one of `touched` is a profile the batch read: then
   * returns null, stores nothing, and the caller applies the batch under the lock instead. Call it
   * with every other profile write stopped.
   */
  merge(touched: readonly TouchedProfile[], record?: { batchId: string; now: number }): BatchRecord | null {
    this.db.exec('COMMIT'); // ends the snapshot; the TEMP tables keep the stage
    for (const t of touched) {
      if (t.client !== this.client) continue;
      const hit =
        this.findStaged('pcId', t.pcId) !== undefined ||
        this.sql.missedKey.get(t.client, 'pcId', t.pcId) !== undefined ||
        (t.thirdPartyId !== null &&
          (this.findStaged('thirdPartyId', t.thirdPartyId) !== undefined ||
            this.sql.missedKey.get(t.client, 'thirdPartyId', t.thirdPartyId) !== undefined));
      if (hit) {
        this.discard();
        return null;
      }
    }
    let batch = this.batch;
    let tally = this.tally!;
    if (batch === null) {
      // Staged before the batch was recorded: its record counts the rows refused while parsing.
      if (!record) throw new Error('A batch staged before it was recorded needs its record to merge');
      batch = this.readIncomplete(this.client, record.batchId);
      tally = addTally(startTally(batch), tally);
    }
    const kept = keptFailures(tally.failures, tally.failedRowBytes);
    const completedAt = record?.now ?? this.options!.now;
    const done: BatchRecord = { ...batch, ...tally, ...kept, status: 'complete', completedAt };
    this.db
      .transaction(() => {
        this.sql.mergeStaged.run();
        this.sql.updateBatch.run(fromBatch(done));
      })
      .immediate();
    this.discard();
    checkpointAfterBatch(this.db);
    return done;
  }

  /** Drops the stage (and ends its snapshot), storing nothing. */
  discard(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.sql.clearStaged.run();
    this.sql.clearMissed.run();
    this.stagedByPcId.clear();
    this.stagedByThirdPartyId.clear();
    this.storedDrawable.clear();
    this.batch = null;
    this.tally = null;
    this.options = null;
  }

  private count(row: { key: { id: string } }, result: Parameters<typeof tallyRow>[2]): void {
    tallyRow(this.tally!, row, result);
  }
}

/** A staged profile and its row id in `temp.staged`. */
type StagedRow = ProfileRow & { id: number };

/** Stored rows of a chunk's profiles, read ahead, by the kind of key the rows name them by. */
interface StoredRows {
  pcId: Map<string, ProfileRow>;
  thirdPartyId: Map<string, ProfileRow>;
}

function emptyTally(): BatchTally {
  return {
    consumedCount: 0,
    successfulUpdates: 0,
    profilesNotFound: 0,
    failedUpdates: 0,
    failures: [],
    failedRowBytes: 0,
  };
}

/** The counts of `rows` added to those `base` started from (the batch record's). */
function addTally(base: BatchTally, rows: BatchTally): BatchTally {
  return {
    consumedCount: base.consumedCount + rows.consumedCount,
    successfulUpdates: base.successfulUpdates + rows.successfulUpdates,
    profilesNotFound: base.profilesNotFound + rows.profilesNotFound,
    failedUpdates: base.failedUpdates + rows.failedUpdates,
    failures: [...base.failures, ...rows.failures].slice(0, MAX_REPORTED_FAILURES),
    failedRowBytes: base.failedRowBytes + rows.failedRowBytes,
  };
}

function prepare(db: Database.Database) {
  return {
    readBatch: db.prepare('SELECT * FROM main.batches WHERE batch_id = ?'),
    storedByPcId: db.prepare(`SELECT ${PROFILE_COLUMNS} FROM main.profiles WHERE client = ? AND pc_id = ?`),
    storedByThirdPartyId: db.prepare(
      `SELECT ${PROFILE_COLUMNS} FROM main.profiles WHERE client = ? AND third_party_id = ?`,
    ),
    // The stored profiles of a chunk's keys (a JSON array), one index lookup each, in one call.
    storedByPcIds: db.prepare(
      `SELECT ${PROFILE_COLUMNS} FROM main.profiles WHERE client = ? AND pc_id IN (SELECT value FROM json_each(?))`,
    ),
    storedByThirdPartyIds: db.prepare(
      `SELECT ${PROFILE_COLUMNS} FROM main.profiles
       WHERE client = ? AND third_party_id IN (SELECT value FROM json_each(?))`,
    ),
    storedPcIdsBetween: db.prepare('SELECT pc_id FROM main.profiles WHERE client = ? AND pc_id >= ? AND pc_id < ?'),
    stagedById: db.prepare(`SELECT id, ${PROFILE_COLUMNS} FROM temp.staged WHERE id = ?`),
    stage: db.prepare(
      'INSERT INTO temp.staged (client, pc_id, third_party_id, attributes, modified_at) VALUES (?, ?, ?, ?, ?)',
    ),
    restage: db.prepare('UPDATE temp.staged SET attributes = ?, modified_at = ? WHERE id = ?'),
    miss: db.prepare('INSERT INTO temp.missed (client, kind, id) VALUES (?, ?, ?)'),
    missedKey: db.prepare('SELECT 1 FROM temp.missed WHERE client = ? AND kind = ? AND id = ? LIMIT 1'),
    // Staged rows are appended in the order of the batch, as profiles' rows are: the merge reads
    // and appends them in that order, and only the index entries go to random places. The stage
    // holds one row a profile.
    mergeStaged: db.prepare(
      `INSERT INTO main.profiles (client, pc_id, third_party_id, attributes, modified_at)
       SELECT client, pc_id, third_party_id, attributes, modified_at FROM temp.staged WHERE true ORDER BY id
       ON CONFLICT (client, pc_id) DO UPDATE SET attributes = excluded.attributes, modified_at = excluded.modified_at`,
    ),
    updateBatch: db.prepare(
      `UPDATE main.batches SET status = @status, consumed_count = @consumed_count,
         successful_updates = @successful_updates, profiles_not_found = @profiles_not_found,
         failed_updates = @failed_updates, failures = @failures, failure_log = @failure_log, message = @message,
         completed_at = @completed_at
       WHERE batch_id = @batch_id`,
    ),
    clearStaged: db.prepare('DELETE FROM temp.staged'),
    clearMissed: db.prepare('DELETE FROM temp.missed'),
  };
}
