/**
 * Conformance of every store to the export of a client's profiles (issue 19, API.md 5): every
 * profile once, in pages no larger than asked, only the client's, and a page at a time.
 */
import assert from 'node:assert/strict';
import type { Profile } from '../src/profiles/types';
import type { BatchRow, Store } from '../src/store/types';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);

function row(kind: 'pcId' | 'thirdPartyId', id: string, attributes: Record<string, string>): BatchRow {
  return { key: { kind, id }, attributes };
}

async function collect(pages: AsyncIterable<Profile[]>): Promise<Profile[][]> {
  const out: Profile[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

/** `getStore` returns the store of the running test. */
export function describeProfileExport(getStore: () => Store): void {
  describe('exporting the profiles of a client (issue 19)', () => {
    let store: Store;
    const pcIds = Array.from({ length: 7 }, (_, i) => `pc-${String(i).padStart(2, '0')}`);
    beforeEach(async () => {
      store = getStore();
      for (const [i, pcId] of pcIds.entries()) {
        const attributes: Record<string, string> = { n: String(i), 'a, "quoted"\nname': `v${i}` };
        await store.updateProfile('acme', row('pcId', pcId, attributes), { createMissing: true, now: NOW + i });
      }
      await store.updateProfile('acme', row('thirdPartyId', 'crm-1', { tier: 'gold' }), {
        createMissing: true,
        now: NOW,
      });
      await store.updateProfile('other', row('pcId', 'pc-other', { n: 'x' }), { createMissing: true, now: NOW });
      await store.linkMarketingCloudVisitorId('acme', 'pc-00', '12345678901234567890123456789012345678');
    });

    it('yields every profile of the client once, with its attributes and ids, in pages of at most pageSize', async () => {
      const pages = await collect(store.exportProfiles('acme', 3));
      assert.ok(pages.length >= 3, `expected at least 3 pages, got ${pages.length}`);
      for (const page of pages) assert.ok(page.length >= 1 && page.length <= 3, `page of ${page.length}`);
      const all = pages.flat();
      assert.equal(all.length, 8);
      assert.equal(new Set(all.map((p) => p.pcId)).size, 8);
      for (const [i, pcId] of pcIds.entries()) {
        const profile = all.find((p) => p.pcId === pcId);
        assert.deepEqual(profile, await store.getProfile('acme', { kind: 'pcId', id: pcId }));
        assert.equal(profile?.attributes['a, "quoted"\nname']?.value, `v${i}`);
      }
      assert.equal(
        all.find((p) => p.pcId === 'pc-00')?.marketingCloudVisitorId,
        '12345678901234567890123456789012345678',
      );
      const crm = all.find((p) => p.thirdPartyId === 'crm-1');
      assert.equal(crm?.attributes['tier']?.value, 'gold');
      assert.ok(all.every((p) => p.pcId !== 'pc-other'));
    });

    it('yields the same profiles with the default page size, and nothing for a client without profiles', async () => {
      const all = (await collect(store.exportProfiles('acme'))).flat();
      assert.equal(all.length, 8);
      assert.deepEqual(await collect(store.exportProfiles('nobody')), []);
    });

    it('reads page by page: a profile deleted before its page is read is not exported', async () => {
      const seen: string[] = [];
      let deleted: string | null = null;
      for await (const page of store.exportProfiles('acme', 2)) {
        seen.push(...page.map((p) => p.pcId));
        if (deleted === null) {
          // The last pcId in every store's order (pc-* sort before the generated pcId of crm-1 or after it: take the rest).
          const rest = (await collect(store.exportProfiles('acme', 100))).flat().filter((p) => !seen.includes(p.pcId));
          deleted = rest[rest.length - 1]!.pcId;
          await store.deleteProfile('acme', { kind: 'pcId', id: deleted });
        }
      }
      assert.equal(seen.length, 7);
      assert.ok(!seen.includes(deleted!));
    });

    it('stops reading when the consumer stops', async () => {
      let pages = 0;
      for await (const _page of store.exportProfiles('acme', 1)) {
        if (++pages === 2) break;
      }
      assert.equal(pages, 2);
      // The store is still usable (no read left open that blocks it).
      await store.updateProfile('acme', row('pcId', 'pc-new', { n: 'y' }), { createMissing: true, now: NOW });
      assert.equal((await collect(store.exportProfiles('acme'))).flat().length, 9);
    });
  });
}
