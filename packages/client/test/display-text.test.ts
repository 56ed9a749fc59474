import assert from 'node:assert/strict';
import fc from 'fast-check';
import { displayJson, displayText } from '../src/display-text';

const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
// eslint-disable-next-line no-control-regex -- the same, less the line feeds JSON layout writes
const UNSAFE_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

describe('displayText and displayJson', () => {
  it('escapes C0, DEL, C1, bidi, invisible format characters, separators and lone surrogates readably', () => {
    const cases: Array<[string, string]> = [
      ['\u001b]0;title\u0007', '\\x1b]0;title\\x07'],
      ['\u001b[2J\u001b[31m', '\\x1b[2J\\x1b[31m'],
      ['a\r\nb\tc\u0000', 'a\\r\\nb\\tc\\x00'],
      ['\u007f\u0080\u009b31m\u009d', '\\x7f\\x80\\x9b31m\\x9d'],
      ['x\u202eevil\u202c\u2066y\u2069\u200e\u200f\u061c', 'x\\u202eevil\\u202c\\u2066y\\u2069\\u200e\\u200f\\u061c'],
      ['\u200b\u200c\u200d\u2060\ufeff\u00ad', '\\u200b\\u200c\\u200d\\u2060\\ufeff\\xad'],
      ['\u2028\u2029', '\\u2028\\u2029'],
      ['tag\u{e0041}', 'tag\\u{e0041}'],
      ['\ud800 \udc00', '\\ud800 \\udc00'],
    ];
    for (const [input, shown] of cases) assert.equal(displayText(input), shown, JSON.stringify(input));
  });

  it('leaves ordinary text alone: accents, other scripts, emoji, backslashes, non-breaking spaces', () => {
    for (const text of [
      'Zürich & Co',
      'שלום עולם',
      '東京',
      '😀 \u{1F600}',
      'C:\\dir\\file.env',
      'a\u00a0b',
      'O\'Brien "q"',
    ]) {
      assert.equal(displayText(text), text);
    }
  });

  it('displayText never leaves an unsafe character, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => !UNSAFE.test(displayText(text))),
      { numRuns: 500 },
    );
  });

  it('displayJson parses back to the same value and holds no unsafe character but its own line feeds', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (value) => {
        const json = displayJson(value);
        assert.ok(!UNSAFE_BUT_LF.test(json), json);
        assert.deepEqual(JSON.parse(json), JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 1000 },
    );
    assert.equal(displayJson({ id: '\u009b\u202e\u{e0041}' }, 0), '{"id":"\\u009b\\u202e\\udb40\\udc41"}');
  });
});
