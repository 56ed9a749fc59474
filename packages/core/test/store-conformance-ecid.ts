/**
 * Conformance of every store to the Experience Cloud ID rules (issue 16.4, API.md 2.3/2.4): a
 * profile holds at most one ECID, an ECID names at most one profile of a client (the latest link
 * wins), an update by ECID never creates a profile, and batches leave links alone.
 */
import assert from 'node:assert/strict';
import { NotFoundError, ValidationError } from '../src/errors';
import { ProfileService } from '../src/profile-service';
import type { Profile } from '../src/profiles/types';
import type { BatchRow, Store } from '../src/store/types';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
const ECID = '12345678901234567890123456789012345678';
const OTHER_ECID = '98765432109876543210987654321098765432';

const ecidKey = (id: string) => ({ kind: 'marketingCloudVisitorId' as const, id });

function row(kind: 'pcId' | 'thirdPartyId', id: string, attributes: Record<string, string>): BatchRow {
  return { key: { kind, id }, attributes };
}

/** The attribute values of a profile, name → value. */
function values(profile: Profile | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(profile?.attributes ?? {})) out[name] = profile!.attributes[name]!.value;
  return out;
}

/**
 * `getStore` returns the store of the running test; `reopen`, for durable stores, closes it and
 * opens the same data again (and becomes what `getStore` returns).
 */
export function describeMarketingCloudVisitorIds(getStore: () => Store, reopen?: () => Promise<Store>): void {
  describe('Experience Cloud IDs (issue 16.4)', () => {
    let store: Store;
    beforeEach(async () => {
      store = getStore();
      await store.updateProfile('acme', row('pcId', 'p1', { tier: 'gold' }), { createMissing: true, now: NOW });
      await store.updateProfile('acme', row('pcId', 'p2', { tier: 'silver' }), { createMissing: true, now: NOW });
    });

    const link = (pcId: string, ecid: string, client = 'acme') => store.linkMarketingCloudVisitorId(client, pcId, ecid);

    it('finds no profile by an unknown ECID; a profile never linked has no marketingCloudVisitorId', async () => {
      assert.equal(await store.getProfile('acme', ecidKey(ECID)), null);
      const p1 = await store.getProfile('acme', { kind: 'pcId', id: 'p1' });
      assert.ok(p1);
      assert.equal(Object.hasOwn(p1, 'marketingCloudVisitorId'), false);
    });

    it('links an ECID to a profile, which is then found by it, its attributes and times unchanged', async () => {
      const before = await store.getProfile('acme', { kind: 'pcId', id: 'p1' });
      const outcome = await link('p1', ECID);
      assert.deepEqual(outcome, {
        status: 'linked',
        profile: { ...before, marketingCloudVisitorId: ECID },
        movedFrom: null,
      });
      const byEcid = await store.getProfile('acme', ecidKey(ECID));
      assert.equal(byEcid?.pcId, 'p1');
      assert.equal(byEcid?.marketingCloudVisitorId, ECID);
      assert.deepEqual(values(byEcid), { tier: 'gold' });
      assert.equal(byEcid?.modifiedAt, NOW);
      assert.equal((await store.getProfile('acme', { kind: 'pcId', id: 'p1' }))?.marketingCloudVisitorId, ECID);
    });

    it('never links to a profile that does not exist', async () => {
      assert.deepEqual(await link('nobody', ECID), { status: 'notFound' });
      assert.equal(await store.getProfile('acme', ecidKey(ECID)), null);
      assert.equal(await store.getProfile('acme', { kind: 'pcId', id: 'nobody' }), null);
    });

    it('moves an ECID linked to another profile of the client: the latest link wins', async () => {
      await link('p1', ECID);
      const moved = await link('p2', ECID);
      assert.equal(moved.status, 'linked');
      assert.equal((moved as { movedFrom: string | null }).movedFrom, 'p1');
      assert.equal((await store.getProfile('acme', ecidKey(ECID)))?.pcId, 'p2');
      const p1 = await store.getProfile('acme', { kind: 'pcId', id: 'p1' });
      assert.equal(Object.hasOwn(p1!, 'marketingCloudVisitorId'), false);
      assert.deepEqual(values(p1), { tier: 'gold' });
      // And back again.
      await link('p1', ECID);
      assert.equal((await store.getProfile('acme', ecidKey(ECID)))?.pcId, 'p1');
      assert.equal(
        Object.hasOwn((await store.getProfile('acme', { kind: 'pcId', id: 'p2' }))!, 'marketingCloudVisitorId'),
        false,
      );
    });

    it('a profile holds one ECID: linking another replaces it', async () => {
      await link('p1', ECID);
      await link('p1', OTHER_ECID);
      assert.equal(await store.getProfile('acme', ecidKey(ECID)), null);
      assert.equal((await store.getProfile('acme', ecidKey(OTHER_ECID)))?.pcId, 'p1');
      // The ECID it held is free for another profile, which takes nothing from p1.
      assert.equal(((await link('p2', ECID)) as { movedFrom: string | null }).movedFrom, null);
      assert.equal((await store.getProfile('acme', { kind: 'pcId', id: 'p1' }))?.marketingCloudVisitorId, OTHER_ECID);
    });

    it('linking the ECID a profile already holds changes nothing', async () => {
      const first = await link('p1', ECID);
      const again = await link('p1', ECID);
      assert.deepEqual(again, first);
      assert.equal((await store.getProfile('acme', ecidKey(ECID)))?.pcId, 'p1');
    });

    it('keeps clients apart: one ECID may name a profile in each client', async () => {
      await store.updateProfile('other', row('pcId', 'p1', { a: 'x' }), { createMissing: true, now: NOW });
      await link('p1', ECID);
      assert.equal(((await link('p1', ECID, 'other')) as { movedFrom: string | null }).movedFrom, null);
      assert.deepEqual(values(await store.getProfile('acme', ecidKey(ECID))), { tier: 'gold' });
      assert.deepEqual(values(await store.getProfile('other', ecidKey(ECID))), { a: 'x' });
      assert.deepEqual(await link('p2', ECID, 'other'), { status: 'notFound' });
    });

    it('updates the profile an ECID names, and never creates a profile by ECID', async () => {
      const missing = await store.updateProfile(
        'acme',
        { key: ecidKey(ECID), attributes: { tier: 'new' } },
        { createMissing: true, now: NOW + 1000 },
      );
      assert.deepEqual(missing, { status: 'notFound' });
      assert.equal(await store.getProfile('acme', ecidKey(ECID)), null);
      assert.equal(await store.getProfile('acme', { kind: 'pcId', id: ECID }), null);

      await store.updateProfile('acme', row('thirdPartyId', 'u1', { a: '1' }), { createMissing: true, now: NOW });
      const u1 = (await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' }))!;
      await link(u1.pcId, ECID);
      const outcome = await store.updateProfile(
        'acme',
        { key: ecidKey(ECID), attributes: { a: '2', b: '3' } },
        { createMissing: false, now: NOW + 1000 },
      );
      assert.equal(outcome.status, 'updated');
      const { profile, created } = outcome as { profile: Profile; created: boolean };
      assert.equal(created, false);
      assert.equal(profile.pcId, u1.pcId);
      assert.equal(profile.thirdPartyId, 'u1');
      assert.equal(profile.marketingCloudVisitorId, ECID);
      assert.deepEqual(values(profile), { a: '2', b: '3' });
      assert.deepEqual(await store.getProfile('acme', { kind: 'thirdPartyId', id: 'u1' }), profile);

      const big: Record<string, string> = {};
      for (let i = 0; i < 14; i++) big[`n${i}`] = 'y'.repeat(5000);
      const refused = await store.updateProfile(
        'acme',
        { key: ecidKey(ECID), attributes: big },
        {
          createMissing: false,
          now: NOW,
        },
      );
      assert.equal(refused.status, 'rejected');
      assert.deepEqual(values(await store.getProfile('acme', ecidKey(ECID))), { a: '2', b: '3' });
    });

    it('single updates and batches keep the link, and return it with the profile', async () => {
      await link('p1', ECID);
      const updated = await store.updateProfile('acme', row('pcId', 'p1', { city: 'Oslo' }), {
        createMissing: false,
        now: NOW + 1,
      });
      assert.equal((updated as { profile: Profile }).profile.marketingCloudVisitorId, ECID);
      const batch = await store.createBatch({
        client: 'acme',
        version: 'v2',
        batchSize: 3,
        parseFailures: [],
        parseFailedCount: 0,
        now: NOW,
      });
      const rows = [
        row('pcId', 'p1', { tier: 'platinum' }),
        row('pcId', 'p3', { tier: 'new' }),
        row('thirdPartyId', 'u9', { a: '1' }),
      ];
      const done = await store.applyBatch(
        'acme',
        batch.batchId,
        async function* () {
          yield rows;
        },
        { createMissing: true, now: NOW + 2 },
      );
      assert.equal(done.successfulUpdates, 3);
      const byEcid = await store.getProfile('acme', ecidKey(ECID));
      assert.equal(byEcid?.pcId, 'p1');
      assert.deepEqual(values(byEcid), { tier: 'platinum', city: 'Oslo' });
      for (const key of [
        { kind: 'pcId' as const, id: 'p3' },
        { kind: 'thirdPartyId' as const, id: 'u9' },
      ]) {
        assert.equal(Object.hasOwn((await store.getProfile('acme', key))!, 'marketingCloudVisitorId'), false);
      }
    });

    it('a link made while a batch is being applied stays, with the batch values on top', async () => {
      const batch = await store.createBatch({
        client: 'acme',
        version: 'v2',
        batchSize: 2,
        parseFailures: [],
        parseFailedCount: 0,
        now: NOW,
      });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let firstTaken!: () => void;
      const taken = new Promise<void>((resolve) => (firstTaken = resolve));
      const applying = store.applyBatch(
        'acme',
        batch.batchId,
        async function* () {
          yield [row('pcId', 'p1', { tier: 'from batch' })];
          firstTaken();
          await gate;
          yield [row('pcId', 'p2', { tier: 'also' })];
        },
        { createMissing: true, now: NOW + 5 },
      );
      await taken;
      // A store may make the link wait for the batch, or take it at once: either way both stay.
      const linking = link('p1', ECID);
      release();
      assert.equal((await applying).successfulUpdates, 2);
      assert.equal((await linking).status, 'linked');
      const p1 = await store.getProfile('acme', ecidKey(ECID));
      assert.equal(p1?.pcId, 'p1');
      assert.deepEqual(values(p1), { tier: 'from batch' });
    });

    it('links one ECID to ten profiles at once without an error, leaving it on exactly one', async () => {
      const pcIds = Array.from({ length: 10 }, (_, i) => `c${i}`);
      for (const pcId of pcIds) {
        await store.updateProfile('acme', row('pcId', pcId, { n: pcId }), { createMissing: true, now: NOW });
      }
      const outcomes = await Promise.all(pcIds.map((pcId) => link(pcId, ECID)));
      assert.deepEqual(
        outcomes.map((o) => o.status),
        pcIds.map(() => 'linked'),
      );
      const owner = await store.getProfile('acme', ecidKey(ECID));
      assert.ok(owner && pcIds.includes(owner.pcId));
      const holders = [];
      for (const pcId of pcIds) {
        if ((await store.getProfile('acme', { kind: 'pcId', id: pcId }))?.marketingCloudVisitorId === ECID)
          holders.push(pcId);
      }
      assert.deepEqual(holders, [owner.pcId]);
    });

    if (reopen) {
      it('keeps links across a reopen', async () => {
        await link('p2', ECID);
        store = await reopen();
        assert.equal((await store.getProfile('acme', ecidKey(ECID)))?.pcId, 'p2');
        assert.equal(
          ((await store.linkMarketingCloudVisitorId('acme', 'p1', ECID)) as { movedFrom: string }).movedFrom,
          'p2',
        );
      });
    }

    describe('through ProfileService: the id rules', () => {
      let profiles: ProfileService;
      beforeEach(() => {
        profiles = new ProfileService({ store, clock: () => NOW });
      });

      it('refuses an ECID holding NUL, a lone surrogate or a noncharacter, before it reaches the store', async () => {
        for (const id of ['a\u0000', 'a\ud800', 'a\uFFFF', 'a\uFDD0']) {
          await assert.rejects(profiles.getProfile('acme', ecidKey(id)), /marketingCloudVisitorId contains/);
          await assert.rejects(
            profiles.updateProfile('acme', ecidKey(id), { tier: 'x' }),
            (e: unknown) => e instanceof ValidationError && /^marketingCloudVisitorId contains/.test(e.message),
          );
          await assert.rejects(
            profiles.linkMarketingCloudVisitorId('acme', 'p1', id),
            (e: unknown) => e instanceof ValidationError && /^marketingCloudVisitorId contains/.test(e.message),
          );
        }
        assert.equal(
          Object.hasOwn((await store.getProfile('acme', { kind: 'pcId', id: 'p1' }))!, 'marketingCloudVisitorId'),
          false,
        );
      });

      it('refuses an empty ECID or one over 256 characters', async () => {
        await assert.rejects(
          profiles.linkMarketingCloudVisitorId('acme', 'p1', ''),
          /^ValidationError: marketingCloudVisitorId is empty$/,
        );
        await assert.rejects(
          profiles.linkMarketingCloudVisitorId('acme', 'p1', 'e'.repeat(257)),
          /marketingCloudVisitorId is 257 characters; the limit is 256/,
        );
        await assert.rejects(
          profiles.updateProfile('acme', ecidKey(''), { tier: 'x' }),
          /marketingCloudVisitorId is empty/,
        );
      });

      it('says which profile is missing', async () => {
        await assert.rejects(
          profiles.updateProfile('acme', ecidKey(ECID), { tier: 'x' }, { createMissing: true }),
          (e: unknown) =>
            e instanceof NotFoundError &&
            e.message === `No profile found for client acme with marketingCloudVisitorId=${ECID}`,
        );
        await assert.rejects(
          profiles.linkMarketingCloudVisitorId('acme', 'nobody', ECID),
          (e: unknown) =>
            e instanceof NotFoundError && e.message === 'No profile found for client acme with mboxPC=nobody',
        );
      });

      it('keeps any other text of an ECID exactly, and finds the profile by it', async () => {
        const id = 'ü😀\u0001 id \uFEFF\uFFFD';
        const linked = await profiles.linkMarketingCloudVisitorId('acme', 'p1', id);
        assert.equal(linked.marketingCloudVisitorId, id);
        assert.equal((await profiles.getProfile('acme', ecidKey(id)))?.pcId, 'p1');
        assert.deepEqual(values(await profiles.updateProfile('acme', ecidKey(id), { tier: 'x' })), { tier: 'x' });
      });
    });
  });
}
