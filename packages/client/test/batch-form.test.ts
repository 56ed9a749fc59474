import assert from 'node:assert/strict';
import fc from 'fast-check';
import { batchFormPrefix } from '../src/batch-form';

const bytes = (text: string) => Buffer.from(text, 'latin1');
const BOM = '\xef\xbb\xbf';

describe('batchFormPrefix (the one place the batch= form is recognised)', () => {
  it('says a body is a form when it starts with batch=, after an optional UTF-8 BOM', () => {
    assert.deepEqual(batchFormPrefix(bytes('batch=pcId\n')), { form: true, bomBytes: 0, contentStart: 6 });
    assert.deepEqual(batchFormPrefix(bytes(`${BOM}batch=pcId\n`)), { form: true, bomBytes: 3, contentStart: 9 });
    assert.deepEqual(batchFormPrefix(bytes('batch=')), { form: true, bomBytes: 0, contentStart: 6 });
  });

  it('says anything else is not, and skips only the BOM', () => {
    assert.deepEqual(batchFormPrefix(bytes('pcId,a\n')), { form: false, bomBytes: 0, contentStart: 0 });
    assert.deepEqual(batchFormPrefix(bytes(`${BOM}pcId,a\n`)), { form: false, bomBytes: 3, contentStart: 3 });
    for (const text of ['', 'batch', 'Batch=x', ' batch=x', `${BOM}${BOM}batch=x`, '\xef\xbbbatch=x', 'batch:x']) {
      assert.equal(batchFormPrefix(bytes(text))?.form, false, JSON.stringify(text));
    }
  });

  it('waits for more bytes while the start could still become either', () => {
    for (const text of ['', '\xef', '\xef\xbb', BOM, 'b', 'batch', `${BOM}batch`]) {
      assert.equal(batchFormPrefix(bytes(text), false), undefined, JSON.stringify(text));
    }
    assert.equal(batchFormPrefix(bytes('bx'), false)?.form, false);
    assert.equal(batchFormPrefix(bytes('batch='), false)?.form, true);
  });

  it('answers the same for a body read in pieces as for the whole body', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...'batch=\xef\xbb\xbfx,'), { maxLength: 12 }), fc.nat(), (chars, cut) => {
        const whole = bytes(chars.join(''));
        const expected = batchFormPrefix(whole);
        // Read up to a cut point: undefined, or already the final answer.
        const early = batchFormPrefix(whole.subarray(0, cut % (whole.length + 1)), false);
        return early === undefined || JSON.stringify(early) === JSON.stringify(expected);
      }),
    );
  });
});
