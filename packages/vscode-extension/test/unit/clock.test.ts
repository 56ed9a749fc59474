/**
 * No unit test may depend on today's date: the token fixture and the command harness take their
 * time from one fixed clock, so moving the machine's clock (a year ahead, say) changes nothing.
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { readClaims } from '../../src/logic/token-check';
import { fakeToken } from '../fixtures/jwt';
import { Harness, NOW } from './command-harness';

const YEAR = 365 * 86_400_000;

describe('the test clock', () => {
  let clock: sinon.SinonFakeTimers | undefined;
  afterEach(() => clock?.restore());

  for (const [name, shift] of [
    ['a year ahead', YEAR],
    ['ten years behind', -10 * YEAR],
  ] as const) {
    it(`fakeToken() and the harness read the fixed NOW, not the machine's clock (clock moved ${name})`, () => {
      clock = sinon.useFakeTimers({ now: NOW + shift, toFake: ['Date'] });
      const claims = readClaims(fakeToken());
      assert.equal(claims.issuedAt, NOW);
      assert.equal(claims.expiresAt, NOW + 90 * 86_400_000);
      assert.equal(new Harness().services().now(), NOW);
    });
  }
});
