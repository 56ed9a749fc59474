// Just over 300 lines: the in-memory Store in one class, each method a few lines under the write
// queue; its id links live in memory-links.ts.
import type { BatchKey, Profile, ProfileKey, ProfileUpdate } from '../profiles/types';
import { nextProfileState, startTally, tallyRow } from './apply-row';
import { keptFailures } from './failure-log';
import { MemoryProfileLinks } from './memory-links';
import { newBatchRecord } from './batch-ids';
import { ChangeEmitter } from './change-emitter';
import { Mutex } from './mutex';
import { applySigningKeyChanges, checkSigningKeyChanges, sortedSigningKeys } from './signing-key-records';
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
import { DEFAULT_SETTINGS, EXPORT_PAGE_SIZE, definedSettings, gracedAfterReplacing } from './types';

interface ClientData {
  profiles: Map<string, Profile>;
  byThirdPartyId: Map<string, string>;
  links: MemoryProfileLinks;
  batches: Map<string, BatchRecord>;
  settings: Settings;
  tokens: TokenState;
  audit: AuditEvent[];
}

/** Profiles written by an update or batch that is not committed yet. */
interface Staged {
  profiles: Map<string, Profile>;
  byThirdPartyId: Map<string, string>;
}

function newStaged(): Staged {
  return { profiles: new Map(), byThirdPartyId: new Map() };
}

/** A store in process memory, for tests and the testing entry point. Nothing survives a restart. */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  private readonly clients = new Map<string, ClientData>();
  private readonly writes = new Mutex();
  private readonly changes = new ChangeEmitter();
  private batchSeq = 0;

  async getProfile(client: string, key: ProfileKey): Promise<Profile | null> {
    const profile = this.find(this.data(client), key);
    return profile ? structuredClone(profile) : null;
  }

  updateProfile(client: string, update: ProfileUpdate, options: UpdateProfileOptions): Promise<UpdateOutcome> {
    return this.writes.run(() => {
      const data = this.data(client);
      const row = data.links.resolve(update);
      if (row === null) return { status: 'notFound' };
      const staged = newStaged();
      const outcome = this.applyOne(data, staged, row, options.createMissing, options.now);
      this.commit(data, staged);
      if (outcome.status !== 'write') return outcome;
      return { status: 'updated', profile: structuredClone(outcome.profile), created: outcome.created };
    });
  }

  linkMarketingCloudVisitorId(client: string, pcId: string, marketingCloudVisitorId: string): Promise<LinkOutcome> {
    return this.writes.run(() => {
      const data = this.data(client);
      return data.links.link(data.profiles, pcId, marketingCloudVisitorId);
    });
  }

  deleteProfile(client: string, key: ProfileKey, audit?: (deleted: Profile) => AuditEvent): Promise<Profile | null> {
    // In the write queue: a batch being applied holds it, so its rows never see half a deletion.
    return this.writes.run(() => {
      const data = this.data(client);
      const profile = this.find(data, key);
      if (profile === null) return null;
      const event = audit?.(structuredClone(profile));
      this.remove(data, profile);
      if (event) data.audit.push(structuredClone(event));
      return structuredClone(profile);
    });
  }

  deleteExpiredProfiles(client: string, olderThan: number, limit: number): Promise<number> {
    // In the write queue, like deleteProfile: a batch applied meanwhile commits first or after.
    return this.writes.run(() => {
      const data = this.data(client);
      let deleted = 0;
      for (const profile of data.profiles.values()) {
        if (deleted >= limit) break;
        if (profile.modifiedAt >= olderThan) continue;
        this.remove(data, profile);
        deleted++;
      }
      return deleted;
    });
  }

  /** The pcIds are listed once (the profiles are in memory anyway); each page is read when asked for. */
  async *exportProfiles(client: string, pageSize = EXPORT_PAGE_SIZE): AsyncIterable<Profile[]> {
    const data = this.data(client);
    const pcIds = [...data.profiles.keys()].sort();
    for (let at = 0; at < pcIds.length; at += pageSize) {
      const page = pcIds.slice(at, at + pageSize).flatMap((pcId) => {
        const profile = data.profiles.get(pcId);
        return profile ? [structuredClone(profile)] : [];
      });
      if (page.length > 0) yield page;
    }
  }

  createBatch(batch: NewBatch): Promise<BatchRecord> {
    return this.writes.run(() => {
      const record = newBatchRecord(batch, ++this.batchSeq);
      this.data(batch.client).batches.set(record.batchId, record);
      return structuredClone(record);
    });
  }

  applyBatch(client: string, batchId: string, rows: BatchRows, options: ApplyBatchOptions): Promise<BatchRecord> {
    return this.writes.run(async () => {
      const data = this.data(client);
      const batch = this.requireIncomplete(data, batchId);
      const tally = startTally(batch);
      // Rows go to a private overlay first: nothing is visible until every chunk is applied.
      const staged = newStaged();
      for await (const chunk of rows()) {
        for (const row of chunk) {
          tallyRow(tally, row, this.applyOne(data, staged, row, options.createMissing, options.now));
        }
      }
      this.commit(data, staged);
      // Kept as the other stores keep them: cut down, within the bound of failure-log.ts.
      const kept = keptFailures(tally.failures, tally.failedRowBytes);
      Object.assign(batch, tally, kept, { status: 'complete', completedAt: options.now });
      return structuredClone(batch);
    });
  }

  markBatchStuck(client: string, batchId: string, message: string): Promise<void> {
    return this.writes.run(() => {
      const batch = this.data(client).batches.get(batchId);
      if (batch && batch.status === 'incomplete') Object.assign(batch, { status: 'stuck', message });
    });
  }

  async getBatch(client: string, batchId: string): Promise<BatchRecord | null> {
    const batch = this.data(client).batches.get(batchId);
    return batch ? structuredClone(batch) : null;
  }

  async recoverIncompleteBatches(): Promise<number> {
    // Nothing in memory outlives its process: every incomplete batch here is one this process
    // created and is still applying.
    return 0;
  }

  pruneBatches(client: string, keepLast: number, olderThan: number): Promise<void> {
    return this.writes.run(() => {
      const batches = this.data(client).batches;
      const newestFirst = [...batches.values()].sort((a, b) => b.createdAt - a.createdAt);
      for (const batch of newestFirst.slice(keepLast)) {
        if (batch.createdAt < olderThan) batches.delete(batch.batchId);
      }
    });
  }

  async getSettings(client: string): Promise<Settings> {
    return { ...this.data(client).settings };
  }

  // Control state (settings, token state, audit) is changed synchronously, outside the write queue
  // a batch holds while it is applied: an admin write never waits for a batch (issue 14).
  async putSettings(
    client: string,
    change: SettingsChange,
    audit?: (before: Settings) => AuditEvent,
  ): Promise<Settings> {
    const data = this.data(client);
    const before = data.settings;
    const event = audit?.({ ...before });
    data.settings = { ...before, ...definedSettings(change) };
    if (event) data.audit.push(structuredClone(event));
    this.changed({ client, kind: 'settings' });
    return { ...before };
  }

  async getTokenState(client: string): Promise<TokenState> {
    // A copy (the caller may keep it), made by hand: structuredClone costs more than a verify's HMAC.
    const { current, graced } = this.data(client).tokens;
    return {
      current: current === null ? null : { ...current },
      graced: graced.map((g) => (g.record === undefined ? { ...g } : { ...g, record: { ...g.record } })),
    };
  }

  async replaceToken(
    client: string,
    token: TokenRecord,
    graceUntil: number | null,
    now: number,
    audit?: AuditEvent,
  ): Promise<TokenState> {
    const data = this.data(client);
    data.tokens = { current: { ...token }, graced: gracedAfterReplacing(data.tokens.current, graceUntil, now) };
    if (audit) data.audit.push(structuredClone(audit));
    this.changed({ client, kind: 'token' });
    return structuredClone(data.tokens);
  }

  async revokeTokens(client: string, audit?: (hadToken: boolean) => AuditEvent): Promise<boolean> {
    const data = this.data(client);
    const had = data.tokens.current !== null;
    const event = audit?.(had);
    data.tokens = { current: null, graced: [] };
    if (event) data.audit.push(structuredClone(event));
    this.changed({ client, kind: 'token' });
    return had;
  }

  async appendAudit(client: string, event: AuditEvent): Promise<void> {
    this.data(client).audit.push(structuredClone(event));
  }

  async listAudit(client: string, limit: number): Promise<AuditEvent[]> {
    return structuredClone(this.data(client).audit.slice(-limit).reverse());
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    return this.changes.subscribe(listener);
  }

  async close(): Promise<void> {
    await this.writes.run(() => undefined);
  }

  private changed(change: StoreChange): void {
    this.changes.emit(change);
  }

  private data(client: string): ClientData {
    let data = this.clients.get(client);
    if (!data) {
      data = {
        profiles: new Map(),
        byThirdPartyId: new Map(),
        links: new MemoryProfileLinks(),
        batches: new Map(),
        settings: { ...DEFAULT_SETTINGS },
        tokens: { current: null, graced: [] },
        audit: [],
      };
      this.clients.set(client, data);
    }
    return data;
  }

  /** Drops a profile with its id links. */
  private remove(data: ClientData, profile: Profile): void {
    data.profiles.delete(profile.pcId);
    if (profile.thirdPartyId !== undefined) data.byThirdPartyId.delete(profile.thirdPartyId);
    data.links.unlink(profile);
  }

  private find(data: ClientData, key: ProfileKey, staged?: Staged): Profile | null {
    let pcId: string | undefined;
    if (key.kind === 'pcId') pcId = key.id;
    else if (key.kind === 'thirdPartyId') pcId = staged?.byThirdPartyId.get(key.id) ?? data.byThirdPartyId.get(key.id);
    else pcId = data.links.pcIdOf(key.id);
    if (pcId === undefined) return null;
    return staged?.profiles.get(pcId) ?? data.profiles.get(pcId) ?? null;
  }

  private applyOne(
    data: ClientData,
    staged: Staged,
    update: ProfileUpdate<BatchKey>,
    createMissing: boolean,
    now: number,
  ) {
    const existing = this.find(data, update.key, staged);
    const taken = (pcId: string) => staged.profiles.has(pcId) || data.profiles.has(pcId);
    const result = nextProfileState(existing, update, createMissing, now, taken);
    if (result.status === 'write') {
      staged.profiles.set(result.profile.pcId, result.profile);
      if (result.profile.thirdPartyId !== undefined) {
        staged.byThirdPartyId.set(result.profile.thirdPartyId, result.profile.pcId);
      }
    }
    return result;
  }

  private commit(data: ClientData, staged: Staged): void {
    for (const profile of staged.profiles.values()) {
      data.profiles.set(profile.pcId, profile);
      if (profile.thirdPartyId !== undefined) data.byThirdPartyId.set(profile.thirdPartyId, profile.pcId);
    }
  }

  private requireIncomplete(data: ClientData, batchId: string): BatchRecord {
    const batch = data.batches.get(batchId);
    if (!batch) throw new Error(`Unknown batch ${batchId}`);
    if (batch.status !== 'incomplete') throw new Error(`Batch ${batchId} is already ${batch.status}`);
    return batch;
  }

  // Signing key fingerprints (docs/multi-instance.md).
  private readonly signingKeys = new Map<string, SigningKeyRecord>();
  private readonly signingKeyChanges = new ChangeEmitter<void>();

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return sortedSigningKeys(this.signingKeys.values());
  }

  syncSigningKeys(decide: DecideSigningKeys, now: number): Promise<SigningKeyRecord[]> {
    return this.writes.run(() => {
      const changes = checkSigningKeyChanges(decide(sortedSigningKeys(this.signingKeys.values())));
      if (applySigningKeyChanges(this.signingKeys, changes, now)) this.signingKeyChanges.emit();
      return sortedSigningKeys(this.signingKeys.values());
    });
  }

  onSigningKeysChange(listener: () => void): () => void {
    return this.signingKeyChanges.subscribe(listener);
  }
}
