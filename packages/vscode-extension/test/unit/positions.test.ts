import assert from 'node:assert/strict';
import { LineIndex } from '../../src/logic/positions';

describe('line index (positions in files that are not open)', () => {
  it('counts lines as VS Code does: \\n, \\r\\n and a lone \\r end a line', () => {
    const text = 'a\nbb\r\nccc\rdddd';
    const index = new LineIndex(text);
    const at = (needle: string) => index.positionAt(text.indexOf(needle));
    assert.deepEqual(index.positionAt(0), { line: 0, character: 0 });
    assert.deepEqual(at('bb'), { line: 1, character: 0 });
    assert.deepEqual(at('ccc'), { line: 2, character: 0 });
    assert.deepEqual(at('dddd'), { line: 3, character: 0 });
    assert.deepEqual(index.positionAt(text.length), { line: 3, character: 4 });
    assert.deepEqual(new LineIndex('X=token').positionAt(2), { line: 0, character: 2 });
  });
});
