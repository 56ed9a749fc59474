import assert from 'node:assert/strict';
import { adoptionCandidates, adoptionOffer, describeFiles } from '../../src/logic/adoption';
import { NOW } from '../fixtures/clock';
import { fakeToken } from '../fixtures/jwt';

const DAY = 86_400;

describe('adopting a token found in the workspace', () => {
  it('offers the client’s usable tokens, newest first, masked, with expiry and files', () => {
    const older = fakeToken({ iat: NOW / 1000 - 10 * DAY, exp: NOW / 1000 + 20 * DAY });
    const newer = fakeToken({ iat: NOW / 1000 - DAY, exp: NOW / 1000 + 89 * DAY });
    const { candidates, leftOut } = adoptionCandidates(
      [
        { token: older, files: ['scripts/deploy.sh'] },
        { token: newer, files: ['.env', 'config/app.json', 'config/app.yaml'] },
      ],
      'demo',
      NOW,
    );
    assert.deepEqual(leftOut, []);
    assert.deepEqual(
      candidates.map((c) => [c.token, c.label, c.description, c.detail]),
      [
        [
          newer,
          `$(key) ${newer.slice(0, 6)}…${newer.slice(-4)}`,
          'expires in 89 days (2027-02-19)',
          'In .env and 2 more files',
        ],
        [
          older,
          `$(key) ${older.slice(0, 6)}…${older.slice(-4)}`,
          'expires in 20 days (2026-12-12)',
          'In scripts/deploy.sh',
        ],
      ],
    );
  });

  it('leaves out expired tokens and says why, masked', () => {
    const expired = fakeToken({ iat: NOW / 1000 - 100 * DAY, exp: NOW / 1000 - DAY });
    const { candidates, leftOut } = adoptionCandidates([{ token: expired, files: ['.env'] }], 'demo', NOW);
    assert.deepEqual(candidates, []);
    assert.equal(leftOut.length, 1);
    assert.match(leftOut[0]?.reason ?? '', /expired/);
    assert.ok(!JSON.stringify(leftOut).includes(expired));
  });

  it('names one, two or many files', () => {
    assert.equal(describeFiles(['.env']), '.env');
    assert.equal(describeFiles(['.env', 'a.json']), '.env and a.json');
    assert.equal(describeFiles(['.env', 'a.json', 'b.yaml', 'c.sh']), '.env and 3 more files');
  });

  it('offers adoption once a usable token is found, naming it masked and where', () => {
    const token = fakeToken({ iat: NOW / 1000 - DAY });
    const one = adoptionOffer(adoptionCandidates([{ token, files: ['.env'] }], 'demo', NOW), 'demo');
    assert.match(
      one ?? '',
      /^This workspace holds a token of client demo \(eyJ\S+…\S{4}, in \.env\), and none is stored/,
    );
    assert.ok(!(one ?? '').includes(token));
    const two = adoptionOffer(
      adoptionCandidates(
        [
          { token, files: ['.env'] },
          { token: fakeToken(), files: ['a.json'] },
        ],
        'demo',
        NOW,
      ),
      'demo',
    );
    assert.match(two ?? '', /^This workspace holds 2 tokens of client demo,/);
    assert.equal(adoptionOffer(adoptionCandidates([], 'demo', NOW), 'demo'), undefined);
  });
});
