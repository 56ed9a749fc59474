/**
 * What an attack on issue 19 (attribute removal) found in the JSON batch parser: a key given twice
 * in one row was collapsed by the parser, so `{"a":"1","a":null}` silently removed `a`.
 */
import assert from 'node:assert/strict';
import { parseBatch, type ParsedRow, type RowFailure } from '../src/batch/parse';

async function parse(body: string, size = Infinity): Promise<Array<ParsedRow | RowFailure>> {
  async function* chunks(): AsyncGenerator<Buffer> {
    const bytes = Buffer.from(body, 'utf8');
    for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
  }
  const items: Array<ParsedRow | RowFailure> = [];
  for await (const item of parseBatch(chunks(), { format: 'json' })) items.push(item);
  return items;
}

describe('attack on issue 19: a JSON batch key given twice', () => {
  for (const size of [Infinity, 1]) {
    it(`fails the row, in attributes or at the element's level (chunks of ${size} bytes)`, async () => {
      const body =
        '{"profiles":[' +
        '{"thirdPartyId":"u1","attributes":{"a":"1","a":null}},' +
        '{"thirdPartyId":"u1","attributes":{"profile.a":null,"a":null}},' +
        '{"thirdPartyId":"u1","attributes":{"__proto__":"1","__proto__":null}},' +
        '{"thirdPartyId":"u2","thirdPartyId":"u1","attributes":{}},' +
        '{"thirdPartyId":"u1","attributes":{"a":"1"},"attributes":{"a":null}},' +
        '{"thirdPartyId":"u1","attributes":{"a":"1","b":null},"x":{"k":1,"k":2}},' +
        '{"thirdPartyId":"u1","attributes":{"a":"1","b":null}}]}';
      const items = await parse(body, size);
      assert.deepEqual(
        items.map((i) => (i.type === 'failure' ? `${i.line} ${i.id}: ${i.message}` : `${i.line} row`)),
        [
          '1 u1: Attribute "a" is given more than once',
          '2 u1: Attribute "a" is given more than once',
          '3 u1: Attribute name "__proto__" is reserved',
          '4 u1: "thirdPartyId" is given more than once',
          '5 u1: "attributes" is given more than once',
          '6 row',
          '7 row',
        ],
      );
    });
  }
});
