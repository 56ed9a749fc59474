import type Database from 'better-sqlite3';
import { nextProfileState, startTally, tallyRow, type BatchTally } from './apply-row';
import { MAX_REPORTED_FAILURES } from './types';
import { keptFailures } from './failure-log';
import {
  PROFILE_COLUMNS,
  encodeAttributes,
  fromBatch,
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

  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TEMP TABLE IF NOT EXISTS staged (
        id INTEGER PRIMARY KEY, client TEXT NOT NULL, pc_id TEXT NOT NULL, third_party_id TEXT,
        attributes TEXT NOT NULL, modified_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS temp.staged_pc_id ON staged (client, pc_id);
      CREATE UNIQUE INDEX IF NOT EXISTS temp.staged_third_party ON staged (client, third_party_id)
        WHERE third_party_id IS NOT NULL;
      CREATE TEMP TABLE IF NOT EXISTS missed (client TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS temp.missed_key ON missed (client, kind, id);
    `);
    this.sql = prepare(db);
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
  }

  private readIncomplete(client: string, batchId: string): BatchRecord {
    const stored = this.sql.readBatch.get(batchId) as BatchRowRecord | undefined;
    if (!stored || stored.client !== client) throw new Error(`Unknown batch ${batchId}`);
    if (stored.status !== 'incomplete') throw new Error(`Batch ${batchId} is already ${stored.status}`);
    return toBatch(stored);
  }

  /** Stages one row; `fresh` is its freshRowOf when worked out ahead (most rows of new visitors). */
  apply(row: BatchRow, fresh: FreshRow | null = null): void {
    const options = this.options!;
    const client = this.client;
    const byPcId = row.key.kind === 'pcId';
    const stagedRow = (byPcId ? this.sql.stagedByPcId : this.sql.stagedByThirdPartyId).get(client, row.key.id) as
      ProfileRow | undefined;
    const stored =
      stagedRow ??
      ((byPcId ? this.sql.storedByPcId : this.sql.storedByThirdPartyId).get(client, row.key.id) as
        ProfileRow | undefined);
    const taken = (pcId: string) =>
      this.sql.stagedByPcId.get(client, pcId) !== undefined || this.sql.storedByPcId.get(client, pcId) !== undefined;

    if (stored === undefined && fresh !== null && options.createMissing) {
      if ('rejected' in fresh) return this.count(row, { status: 'rejected', message: fresh.rejected });
      if (byPcId || !taken(fresh.pcId)) {
        this.sql.stage.run(client, fresh.pcId, fresh.thirdPartyId, fresh.attributes, fresh.modifiedAt);
        return this.count(row, { status: 'write' });
      }
      // Its random pcId is taken (a draw repeated within the millisecond): worked out again below.
    }
    const existing = stored ? toProfile(stored) : null;
    const result = nextProfileState(existing, row, options.createMissing, options.now, taken);
    if (result.status === 'write' && result.changed) {
      const p = result.profile;
      this.sql.stage.run(client, p.pcId, p.thirdPartyId ?? null, encodeAttributes(p.attributes), p.modifiedAt);
    } else if (stagedRow === undefined) {
      // The row wrote nothing (profile not found, refused, or every value already stored): its
      // key is kept all the same, so a single update made meanwhile sends the batch to the direct
      // apply, which puts the row's values on top of it.
      this.sql.miss.run(client, row.key.kind, row.key.id);
    }
    return this.count(row, result);
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
        this.sql.stagedByPcId.get(t.client, t.pcId) !== undefined ||
        this.sql.missedKey.get(t.client, 'pcId', t.pcId) !== undefined ||
        (t.thirdPartyId !== null &&
          (this.sql.stagedByThirdPartyId.get(t.client, t.thirdPartyId) !== undefined ||
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
    return done;
  }

  /** Drops the stage (and ends its snapshot), storing nothing. */
  discard(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.sql.clearStaged.run();
    this.sql.clearMissed.run();
    this.batch = null;
    this.tally = null;
    this.options = null;
  }

  private count(row: BatchRow, result: Parameters<typeof tallyRow>[2]): void {
    tallyRow(this.tally!, row, result);
  }
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
    stagedByPcId: db.prepare(`SELECT ${PROFILE_COLUMNS} FROM temp.staged WHERE client = ? AND pc_id = ?`),
    stagedByThirdPartyId: db.prepare(
      `SELECT ${PROFILE_COLUMNS} FROM temp.staged WHERE client = ? AND third_party_id = ?`,
    ),
    stage: db.prepare(
      `INSERT INTO temp.staged (client, pc_id, third_party_id, attributes, modified_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (client, pc_id) DO UPDATE SET attributes = excluded.attributes, modified_at = excluded.modified_at`,
    ),
    miss: db.prepare('INSERT INTO temp.missed (client, kind, id) VALUES (?, ?, ?)'),
    missedKey: db.prepare('SELECT 1 FROM temp.missed WHERE client = ? AND kind = ? AND id = ? LIMIT 1'),
    // Staged rows are appended in the order of the batch, as profiles' rows are: the merge reads
    // and appends them in that order, and only the index entries go to random places.
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
