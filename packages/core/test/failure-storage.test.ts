/** Issue 15.5: failed rows cost less to keep than to send, on the stores that write to disk. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ProfileService } from '../src/profile-service';
import { PostgresStore } from '../src/store/postgres';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres-schema';
import { SqliteStore } from '../src/store/sqlite';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite-schema';
import type { Store } from '../src/store/types';
import { URL, adminQuery, dropSchemas, newSchema, requirePostgres } from './postgres-harness';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
const HEADER = 'thirdPartyId,tier\n';

/** The hostile batch: 1,000 rows that each fail (about 7 bytes a row, as in the report). */
function hostileBody(): { body: string; failingRowBytes: number } {
  let rows = '';
  for (let i = 0; i < 1000; i++) rows += `u+${i},x\n`;
  return { body: HEADER + rows, failingRowBytes: Buffer.byteLength(rows) };
}

async function submitHostile(store: Store): Promise<{ batchId: string; failingRowBytes: number }> {
  const profiles = new ProfileService({ store, clock: () => NOW });
  const { body, failingRowBytes } = hostileBody();
  const { batch, applied } = await profiles.submitBatch('acme', 'v2', source(body), 'csv');
  await applied;
  const done = await profiles.getBatch('acme', batch.batchId);
  assert.equal(done.failedUpdates, 1000);
  assert.equal(done.failures.length, 1000);
  assert.deepEqual(done.failures[0], { id: 'u+0', message: 'Line 2: thirdPartyId must not contain "+" or "/"' });
  return { batchId: batch.batchId, failingRowBytes };
}

const LEGACY_FAILURES = [
  { id: 'bad+id', message: 'Line 2: thirdPartyId must not contain "+" or "/"' },
  { id: 'p2', message: 'Profile would hold 70000 bytes of attributes; the limit is 65536' },
];

describe('what the stores keep of failed rows (issue 15.5)', function () {
  this.timeout(30_000);

  describe('SqliteStore', () => {
    const dir = mkdtempSync(join(tmpdir(), 'profilegate-failures-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('keeps 1,000 failed rows in fewer bytes than the failing rows of the body', async () => {
      const path = join(dir, 'size.db');
      const store = new SqliteStore(path);
      const { batchId, failingRowBytes } = await submitHostile(store);
      await store.close();
      const db = new Database(path, { readonly: true });
      const row = db.prepare('SELECT * FROM batches WHERE batch_id = ?').get(batchId) as Record<string, unknown>;
      db.close();
      const kept = byteSize(row['failures']) + byteSize(row['failure_log']);
      assert.ok(kept <= failingRowBytes, `kept ${kept} bytes of failures for ${failingRowBytes} bytes of failing rows`);
    });

    it('reads the failures of a batch written before the upgrade', async () => {
      const path = join(dir, 'legacy.db');
      const legacy = new Database(path);
      legacy.exec(SQLITE_MIGRATIONS[0]!);
      legacy.exec(SQLITE_MIGRATIONS[1]!);
      legacy.pragma('user_version = 2');
      legacy
        .prepare(`INSERT INTO batches VALUES ('acme-1-1', 'acme', 'v2', 'complete', 3, 3, 1, 0, 2, ?, NULL, ?, ?)`)
        .run(JSON.stringify(LEGACY_FAILURES), NOW, NOW);
      legacy.close();
      const store = new SqliteStore(path);
      const profiles = new ProfileService({ store, clock: () => NOW });
      const batch = await profiles.getBatch('acme', 'acme-1-1');
      await store.close();
      assert.deepEqual(batch.failures, LEGACY_FAILURES);
      assert.equal(batch.failedUpdates, 2);
    });
  });

  describe('PostgresStore', () => {
    before(requirePostgres);
    after(dropSchemas);

    it('keeps 1,000 failed rows in fewer bytes than the failing rows of the body', async () => {
      const schema = newSchema();
      const store = await PostgresStore.open(URL, { schema });
      try {
        const { batchId, failingRowBytes } = await submitHostile(store);
        const columns = await adminQuery<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns
           WHERE table_schema = $1 AND table_name = 'batches' AND column_name IN ('failures', 'failure_log')`,
          [schema],
        );
        const sizes = columns.map((c) => `coalesce(pg_column_size(${c.column_name}), 0)`).join(' + ');
        const [row] = await adminQuery<{ kept: number }>(
          `SELECT (${sizes})::int AS kept FROM "${schema}".batches WHERE batch_id = $1`,
          [batchId],
        );
        assert.ok(
          row!.kept <= failingRowBytes,
          `kept ${row!.kept} bytes of failures for ${failingRowBytes} bytes of failing rows`,
        );
      } finally {
        await store.close();
      }
    });

    it('reads the failures of a batch written before the upgrade', async () => {
      const schema = newSchema();
      const q = `"${schema}"`;
      await adminQuery(`CREATE SCHEMA ${q}`);
      await adminQuery(
        `CREATE TABLE ${q}.profilegate_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      for (let version = 0; version < 3; version++) {
        await adminQuery(POSTGRES_MIGRATIONS[version]!.replaceAll('{schema}', q));
        await adminQuery(`INSERT INTO ${q}.profilegate_migrations (version) VALUES ($1)`, [version + 1]);
      }
      await adminQuery(
        `INSERT INTO ${q}.batches (batch_id, client, version, status, batch_size, consumed_count, successful_updates,
           profiles_not_found, failed_updates, failures, created_at, completed_at)
         VALUES ('acme-1-1', 'acme', 'v2', 'complete', 3, 3, 1, 0, 2, $1, $2, $2)`,
        [JSON.stringify(LEGACY_FAILURES), NOW],
      );
      const store = await PostgresStore.open(URL, { schema });
      try {
        const batch = await new ProfileService({ store, clock: () => NOW }).getBatch('acme', 'acme-1-1');
        assert.deepEqual(batch.failures, LEGACY_FAILURES);
      } finally {
        await store.close();
      }
    });
  });
});

function byteSize(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (Buffer.isBuffer(value)) return value.length;
  return Buffer.byteLength(String(value));
}

/** A body as the one chunk of an async iterable (what submitBatch reads). */
async function* source(text: string): AsyncIterable<Buffer> {
  yield Buffer.from(text, 'utf8');
}
