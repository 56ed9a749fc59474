/**
 * Attack on the export and the retention sweep (issue 19, API.md 5), the day they ship: what a
 * hurried admin or a client with many attribute names does to them.
 */
import assert from 'node:assert/strict';
import { AuditLog } from '../src/audit';
import { MAX_CSV_ATTRIBUTES, csvExportProblem, exportAttributeNames } from '../src/profile-export';
import type { Profile } from '../src/profiles/types';
import { RetentionSweeper, type SweepTimers } from '../src/retention-sweeper';
import { MemoryStore } from '../src/store/memory';
import type { Store } from '../src/store/types';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
const DAY = 86_400_000;

/** A store whose export yields `pages` pages of 500 profiles, each with a name no other has. */
function manyNamesStore(pages: number): { store: Store; read: () => number } {
  let read = 0;
  const store = {
    async *exportProfiles(): AsyncIterable<Profile[]> {
      for (let p = 0; p < pages; p++) {
        read++;
        yield Array.from({ length: 500 }, (_, i) => {
          const n = p * 500 + i;
          return {
            pcId: `pc-${String(n).padStart(6, '0')}`,
            attributes: { [`name-${n}`]: { value: 'v', modifiedAt: NOW } },
            modifiedAt: NOW,
          } as unknown as Profile;
        });
      }
    },
  } as unknown as Store;
  return { store, read: () => read };
}

describe('attack 19: CSV export attribute names', () => {
  it('stops collecting names once the CSV is known to be impossible (memory stays flat, however many names)', async () => {
    const { store, read } = manyNamesStore(20);
    const names = await exportAttributeNames(store, 'acme', 'pcId');
    assert.ok(read() <= 3, `read ${read()} pages of 20; past ${MAX_CSV_ATTRIBUTES} names it should stop`);
    assert.ok(names.length <= MAX_CSV_ATTRIBUTES + 1, `held ${names.length} names`);
    const problem = csvExportProblem(names) ?? '';
    assert.match(problem, /more than 1023 attribute names/);
  });
});

class FakeTimers implements SweepTimers {
  setTimeout(): unknown {
    return 1;
  }
  clearTimeout(): void {}
}

async function profileAt(store: Store, client: string, id: string, now: number): Promise<void> {
  await store.updateProfile(
    client,
    { key: { kind: 'thirdPartyId', id }, attributes: { a: '1' } },
    { createMissing: true, now },
  );
}

async function countLeft(store: Store, client: string): Promise<number> {
  let n = 0;
  for await (const page of store.exportProfiles(client)) n += page.length;
  return n;
}

describe('attack 19: retention changed during a sweep', () => {
  for (const [what, change] of [
    ['turned off (null)', null],
    ['made longer', 100],
  ] as const) {
    it(`a retention ${what} while a sweep is under way stops the deletion of what it now keeps`, async () => {
      const store = new MemoryStore();
      await store.putSettings('acme', { profileRetentionDays: 1 });
      for (let i = 0; i < 10; i++) await profileAt(store, 'acme', `crm-${i}`, NOW - 10 * DAY);
      let transactions = 0;
      const sweeper = new RetentionSweeper({
        store,
        clients: ['acme'],
        clock: () => NOW,
        audit: new AuditLog({ store, clock: () => NOW }),
        timers: new FakeTimers(),
        batchSize: 2,
        // The admin fixes the mistake after the first transaction.
        yieldBetweenBatches: async () => {
          if (++transactions === 1) await store.putSettings('acme', { profileRetentionDays: change });
        },
      });
      const deleted = await sweeper.sweep();
      assert.equal(await countLeft(store, 'acme'), 8, 'only the first transaction deleted profiles');
      assert.deepEqual(deleted, { acme: 2 });
      const events = (await store.listAudit('acme', 10)).filter((e) => e.action === 'profiles.expired');
      assert.equal(events.length, 1);
      assert.equal(events[0]!.details['count'], 2);
    });
  }
});
