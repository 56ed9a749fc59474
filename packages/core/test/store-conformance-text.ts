/**
 * Conformance of every store to the one text rule (issue 15.4) and to the bound on what is kept of
 * failed rows (issue 15.5): driven through ProfileService, so each store is checked with the
 * validation in front of it, as the routes use it.
 */
import assert from 'node:assert/strict';
import { ValidationError } from '../src/errors';
import { ProfileService } from '../src/profile-service';
import type { BatchFormat } from '../src/batch/types';
import type { Store } from '../src/store/types';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);

/** Text every store must keep exactly as given: controls, BOM, U+FFFD, astral characters, markup. */
const ALLOWED = [
  'tab\there',
  'controls \u0001\u001f\u007f\u0085',
  'bom \uFEFF and replacement \uFFFD',
  'pair 😀 and last plane \u{10FFFD}',
  'private \uE000, specials \uFFFC',
  `markup <a href="x">&amp;</a> 'quotes' \\ back`,
  '%00 literally',
];

export function describeTextRule(getStore: () => Store): void {
  describe('one text rule for every store (issue 15.4)', () => {
    let profiles: ProfileService;
    beforeEach(() => {
      profiles = new ProfileService({ store: getStore(), clock: () => NOW });
    });

    async function submit(body: string, format: BatchFormat) {
      const { batch, applied } = await profiles.submitBatch('acme', 'v2', source(body), format);
      await applied;
      return profiles.getBatch('acme', batch.batchId);
    }

    it('a CSV batch with NUL in an id or a value applies the good rows and fails only those, with their lines', async () => {
      const done = await submit(
        'thirdPartyId,tier\ngood1,gold\nbad\u0000id,gold\ngood2,a\u0000b\ngood3,silver\n',
        'csv',
      );
      assert.equal(done.status, 'complete');
      assert.equal(done.successfulUpdates, 2);
      assert.equal(done.failedUpdates, 2);
      assert.deepEqual(
        done.failures.map((f) => f.id),
        ['bad\uFFFDid', 'good2'],
      );
      assert.match(done.failures[0]!.message, /^Line 3: thirdPartyId contains NUL \(U\+0000\)/);
      assert.match(done.failures[1]!.message, /^Line 4: Value of attribute "tier" contains NUL \(U\+0000\)/);
      const store = getStore();
      assert.equal(
        (await store.getProfile('acme', { kind: 'thirdPartyId', id: 'good3' }))?.attributes['tier']?.value,
        'silver',
      );
      assert.equal(await store.getProfile('acme', { kind: 'thirdPartyId', id: 'good2' }), null);
    });

    it('a form batch with %00 fails only that row', async () => {
      const done = await submit('batch=thirdPartyId,tier\nf1,gold\nf%00,gold\nf2,x%00\n', 'form');
      assert.equal(done.status, 'complete');
      assert.equal(done.successfulUpdates, 1);
      assert.deepEqual(
        done.failures.map((f) => f.message.slice(0, 8)),
        ['Line 3: ', 'Line 4: '],
      );
    });

    it('a JSON batch with lone surrogates or noncharacters fails only those rows: two ids never collapse into one', async () => {
      const body = JSON.stringify({
        profiles: [
          { thirdPartyId: 'j1', attributes: { tier: 'gold' } },
          { thirdPartyId: 'x\ud800', attributes: { tier: 'a' } },
          { thirdPartyId: 'x\udc00', attributes: { tier: 'b' } },
          { thirdPartyId: 'j2', attributes: { tier: 'bad\uFFFE' } },
          { pcId: 'p\uFDD0', attributes: { tier: 'c' } },
          { thirdPartyId: 'j3', attributes: { tier: 'plane \u{1FFFF}' } },
          { thirdPartyId: 'x\uFFFD', attributes: { tier: 'kept' } },
        ],
      });
      const done = await submit(body, 'json');
      assert.equal(done.status, 'complete');
      assert.equal(done.successfulUpdates, 2);
      assert.equal(done.failedUpdates, 5);
      assert.deepEqual(
        done.failures.map((f) => [f.id, f.message.slice(0, 7)]),
        [
          ['x\uFFFD', 'Line 2:'],
          ['x\uFFFD', 'Line 3:'],
          ['j2', 'Line 4:'],
          ['p\uFFFD', 'Line 5:'],
          ['j3', 'Line 6:'],
        ],
      );
      assert.match(done.failures[0]!.message, /unpaired surrogate \(U\+D800\)/);
      assert.match(done.failures[2]!.message, /noncharacter U\+FFFE/);
      assert.match(done.failures[4]!.message, /noncharacter U\+1FFFF/);
      const kept = await getStore().getProfile('acme', { kind: 'thirdPartyId', id: 'x\uFFFD' });
      assert.equal(kept?.attributes['tier']?.value, 'kept');
    });

    it('keeps every allowed character exactly, in ids and values, by update and by batch', async () => {
      const attributes: Record<string, string> = {};
      ALLOWED.forEach((text, i) => (attributes[`a${i}`] = text));
      const id = 'ü😀\u0001 id \uFEFF';
      await profiles.updateProfile('acme', { kind: 'thirdPartyId', id }, attributes, { createMissing: true });
      const done = await submit(JSON.stringify({ profiles: [{ pcId: id, attributes }] }), 'json');
      assert.equal(done.successfulUpdates, 1);
      for (const key of [
        { kind: 'thirdPartyId' as const, id },
        { kind: 'pcId' as const, id },
      ]) {
        const profile = await profiles.getProfile('acme', key);
        assert.ok(profile, `${key.kind} profile found`);
        const values: Record<string, string> = {};
        for (const name of Object.keys(profile.attributes)) values[name] = profile.attributes[name]!.value;
        assert.deepEqual(values, attributes);
      }
    });

    it('refuses a looked-up id, an updated id or value, or a batchId holding such text with a ValidationError', async () => {
      for (const id of ['a\u0000', 'a\ud800', 'a\uFFFF']) {
        await assert.rejects(profiles.getProfile('acme', { kind: 'thirdPartyId', id }), ValidationError, id);
        await assert.rejects(profiles.getProfile('acme', { kind: 'pcId', id }), ValidationError, id);
        await assert.rejects(profiles.getBatch('acme', `acme-1-1${id}`), ValidationError, id);
        await assert.rejects(
          profiles.updateProfile('acme', { kind: 'pcId', id }, { tier: 'x' }, { createMissing: true }),
          ValidationError,
        );
        await assert.rejects(
          profiles.updateProfile('acme', { kind: 'pcId', id: 'p' }, { tier: id }, { createMissing: true }),
          ValidationError,
        );
      }
      assert.equal(await getStore().getProfile('acme', { kind: 'pcId', id: 'p' }), null);
    });

    it('keeps failures whose id or message holds text no store can keep, with U+FFFD in its place', async () => {
      const store = getStore();
      const parseFailures = [
        { line: 2, id: 'nul\u0000id', message: 'Value "\u0000" is refused' },
        { line: 3, id: '\ud800', message: 'a\uFFFE' },
      ];
      const batch = await store.createBatch({
        client: 'acme',
        version: 'v2',
        batchSize: 2,
        parseFailures,
        parseFailedCount: 2,
        now: NOW,
      });
      const read = await store.getBatch('acme', batch.batchId);
      assert.deepEqual(read?.failures, [
        { line: 2, id: 'nul\uFFFDid', message: 'Value "\uFFFD" is refused' },
        { line: 3, id: '\uFFFD', message: 'a\uFFFD' },
      ]);
    });
  });

  describe('what is kept of failed rows (issue 15.5)', () => {
    it('lists the first 1,000 failed rows of a batch with their lines and ids, and counts all 1,500', async () => {
      const profiles = new ProfileService({ store: getStore(), clock: () => NOW });
      let body = 'thirdPartyId,tier\n';
      for (let i = 0; i < 1500; i++) body += `u+${i},x\n`;
      const { batch, applied } = await profiles.submitBatch('acme', 'v2', source(body), 'csv');
      await applied;
      const done = await profiles.getBatch('acme', batch.batchId);
      assert.equal(done.failedUpdates, 1500);
      assert.equal(done.failures.length, 1000);
      assert.deepEqual(done.failures[999], {
        id: 'u+999',
        message: 'Line 1001: thirdPartyId must not contain "+" or "/"',
      });
    });

    it('cuts off long ids of failed rows', async () => {
      const profiles = new ProfileService({ store: getStore(), clock: () => NOW });
      const long = 'x'.repeat(300);
      const { batch, applied } = await profiles.submitBatch(
        'acme',
        'v2',
        source(`thirdPartyId,tier\n${long},x\n`),
        'csv',
      );
      await applied;
      const done = await profiles.getBatch('acme', batch.batchId);
      assert.deepEqual(done.failures, [
        { id: `${'x'.repeat(64)}…`, message: 'Line 2: thirdPartyId is 300 characters; the limit is 256' },
      ]);
    });
  });
}

/** A body as the one chunk of an async iterable (what submitBatch reads). */
async function* source(text: string): AsyncIterable<Buffer> {
  yield Buffer.from(text, 'utf8');
}
