/** Issue 15.3: every XML answer is well-formed and says exactly what it echoes. */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import fc from 'fast-check';
import sax from 'sax';
import { CLIENT, startApp, type TestApp } from './helpers';

/** Parses a document with a strict XML parser: element name → its text (last one wins). */
function parseXml(text: string): Record<string, string> {
  const parser = sax.parser(true);
  const texts: Record<string, string> = {};
  const open: string[] = [];
  parser.onopentag = (tag) => {
    open.push(tag.name);
    texts[tag.name] = '';
  };
  parser.onclosetag = () => void open.pop();
  parser.ontext = (t) => {
    const name = open.at(-1);
    if (name !== undefined) texts[name] += t;
  };
  parser.oncdata = parser.ontext;
  parser.write(text).close();
  return texts;
}

/** What XML 1.0 can carry of `text`: the characters it cannot are answered as U+FFFD. */
function xmlCarried(text: string): string {
  // eslint-disable-next-line no-control-regex -- the point is to find control characters
  return text.replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD');
}

/** Text made of markup-like pieces (references, tags, CDATA ends) and any characters between them. */
const entityish = fc
  .array(
    fc.oneof(
      fc.constantFrom('&', ';', '#', '#x', 'amp', 'lt', 'nbsp', '39', '1', 'x41', '<', '>', ']]>', '"', "'"),
      fc.string({ unit: 'binary', maxLength: 3 }),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

describe('XML answers (issue 15.3)', function () {
  this.timeout(60_000);
  let t: TestApp;
  before(async () => {
    t = await startApp();
  });
  after(() => t.close());

  const status = (batchId: string) =>
    t.http.get(`/m2/${CLIENT}/v2/profile/batchStatus?batchId=${encodeURIComponent(batchId)}`);

  for (const id of ['&nbsp;', '&amp;', 'O&#39;Brien', '&#1;', '<b>&lt;</b>', ']]>', 'a\u0001b']) {
    it(`echoes the batchId ${JSON.stringify(id)} as text in a well-formed answer`, async () => {
      const res = await status(id);
      assert.equal(res.status, 404);
      assert.match(res.headers['content-type'] ?? '', /application\/xml/);
      const message = parseXml(res.text)['message'] ?? '';
      assert.ok(message.includes(`No batch ${xmlCarried(id)} `), `${message} (from ${res.text})`);
    });
  }

  it('any batchId: the answer parses with a strict XML parser and holds the id as sent', async () => {
    await fc.assert(
      fc.asyncProperty(entityish, async (id) => {
        const res = await status(id);
        const message = parseXml(res.text)['message'] ?? ''; // well-formed whatever the answer
        // A 400 refuses text no store keeps (NUL, lone surrogates, noncharacters) without echoing it.
        if (res.status === 404) {
          assert.ok(message.includes(xmlCarried(id)), `${JSON.stringify(message)} ∌ ${JSON.stringify(id)}`);
        } else assert.equal(res.status, 400, res.text);
      }),
      { numRuns: 200 },
    );
  });

  it('echoes a Host header holding & or < into the batchStatus URL as text', async () => {
    const host = 'a&amp;b&nbsp;<x>';
    const text = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        `${t.origin}/m2/${CLIENT}/v2/profile/batchUpdate`,
        { method: 'POST', headers: { Host: host, 'Content-Type': 'text/csv' } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', reject);
      req.end('thirdPartyId,tier\nh1,gold\n');
    });
    const url = parseXml(text)['batchStatus'];
    assert.ok(url !== undefined, text);
    assert.ok(url.startsWith(`http://${host}/m2/${CLIENT}/v2/profile/batchStatus?batchId=`), url);
  });
});
