/**
 * Reliability, secrets hygiene (issue 8): a session against the demo server child with a
 * generated admin key (tokens generated, regenerated, revoked; wrong tokens and wrong admin keys
 * sent on purpose), then a scan of everything it left: its output, every answer, the audit log,
 * every table of the SQLite file and the raw bytes of the database and its WAL. No token and no
 * admin key may appear anywhere, except the one line of the first start that shows the generated
 * key (API.md 4) and the token bodies of the token routes. The data folder is private.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReadOnly } from './support/db';
import { auditPath, json, send, settingsPath, startDemo, tokenPath, waitForBatch, type Answer } from './support/demo';
import { tally } from './support/summary';

const section = tally('secrets', __filename);
const CLIENT = 'demo';
const OTHER = 'other';

/** Counts the occurrences of `needle` in `haystack`. */
function occurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) count++;
  return count;
}

describe('reliability: no token or admin key in logs, answers, audit events or the database', function () {
  this.timeout(120_000);
  const root = mkdtempSync(join(tmpdir(), 'profilegate-secrets-'));
  const dataDir = join(root, 'data');
  const env = { TMPDIR: join(root, 'tmp') };
  after(() => rmSync(root, { recursive: true, force: true }));

  it('a session with failures leaves no secret behind, and the data folder is private', async () => {
    mkdirSync(env.TMPDIR);
    const first = await startDemo({ dataDir, clients: [CLIENT, OTHER], adminKeys: null, env });
    const adminKey = readFileSync(join(dataDir, 'admin-key'), 'utf8').trim();
    /** Answers that may hold a token: the bodies of the token routes. */
    const tokenBodies: Answer[] = [];
    const others: Answer[] = [];
    const call = async (method: string, path: string, headers: Record<string, string>, body?: string) => {
      const answer = await send(`${first.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
      others.push(answer);
      return answer;
    };
    const admin = { Authorization: `Bearer ${adminKey}` };
    const json201 = { ...admin, 'Content-Type': 'application/json' };
    const generate = async (client: string, body = '{}') => {
      const answer = await send(`${first.url}${tokenPath(client)}`, { method: 'POST', headers: json201, body });
      assert.equal(answer.status, 201, answer.text);
      tokenBodies.push(answer);
      return json<{ accessToken: string }>(answer).accessToken;
    };
    const profile = `/rest/v1/profiles/thirdPartyId/s1?client=${CLIENT}`;
    const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

    // Modes while the server runs (the WAL and its index exist only then).
    const modes = () =>
      readdirSync(dataDir).map((name) => [name, (statSync(join(dataDir, name)).mode & 0o777).toString(8)]);
    await call('GET', settingsPath(CLIENT), admin);
    const t1 = await generate(CLIENT);
    const t2 = await generate(CLIENT, '{"previousTokenGraceSeconds": 0}');
    const shown = await send(`${first.url}${tokenPath(CLIENT)}`, { headers: admin });
    tokenBodies.push(shown);
    const o1 = await generate(OTHER);
    const tampered = t2.slice(0, -2) + (t2.endsWith('AA') ? 'BB' : 'AA');
    const nearMiss = `${adminKey.slice(0, -1)}${adminKey.endsWith('x') ? 'y' : 'x'}`;
    const batch = await call(
      'POST',
      `/m2/${CLIENT}/v2/profile/batchUpdate`,
      { ...bearer(t2), Accept: 'application/json', 'Content-Type': 'text/csv' },
      'thirdPartyId,tier\ns1,gold\n',
    );
    assert.equal(batch.status, 200, batch.text);
    // Admin writes no longer wait for a batch: wait for it before fetching what it stored.
    await waitForBatch(json<{ batchStatus: string }>(batch).batchStatus, bearer(t2));
    for (const [headers, path, expected] of [
      [bearer(t1), profile, 401], // replaced
      [bearer(tampered), profile, 401],
      [bearer(o1), profile, 401], // another client's
      [{ Authorization: `Bearer ${t2}!` }, profile, 400],
      [{ Authorization: `Basic ${t2}` }, profile, 400],
      [{}, `${profile}&access_token=${t2}`, 401],
      [bearer(adminKey), profile, 401],
      [bearer(nearMiss), settingsPath(CLIENT), 401],
      [bearer(t2), settingsPath(CLIENT), 401], // a profile token is not an admin key
      [{ Authorization: `Bearer ${adminKey} ${adminKey}` }, auditPath(CLIENT), 401],
      [{}, `${settingsPath(CLIENT)}?key=${adminKey}`, 401],
      [admin, '/nobody/target/authentication/settings', 404],
    ] as const) {
      const answer = await call('GET', path, headers as Record<string, string>);
      assert.equal(answer.status, expected, `${path}: ${answer.text}`);
    }
    assert.equal(
      (await call('PUT', settingsPath(CLIENT), json201, `{"requireAuthentication": "${adminKey}"}`)).status,
      400,
    );
    assert.equal((await call('POST', tokenPath(CLIENT), json201, `{"expiresIn": "${t2}"}`)).status, 400);
    assert.equal(
      (
        await call(
          'POST',
          `/m2/${CLIENT}/profile/update?mbox3rdPartyId=s1&profile.x=1`,
          { 'Content-Type': 'application/x-www-form-urlencoded' },
          `access_token=${t2}`,
        )
      ).status,
      401,
    );
    assert.equal((await call('DELETE', tokenPath(CLIENT), admin)).status, 204);
    assert.equal((await call('GET', profile, bearer(t2))).status, 401); // revoked
    const t3 = await generate(CLIENT);
    assert.equal((await call('GET', profile, bearer(t3))).status, 200);
    const audit = await call('GET', `${auditPath(CLIENT)}?limit=1000`, admin);
    assert.equal(audit.status, 200);
    const runningModes = modes();
    assert.equal(await first.stop(), 0);

    const second = await startDemo({ dataDir, clients: [CLIENT, OTHER], adminKeys: null, env });
    const still = await send(`${second.url}${profile}`, { headers: bearer(t3) });
    assert.equal(still.status, 200, 'the token survives a restart');
    assert.equal(await second.stop(), 0);

    const tokens = { t1, t2, t3, o1, tampered };
    const secrets: Array<[string, string]> = [
      ['the admin key', adminKey],
      ['the first half of the admin key', adminKey.slice(0, Math.ceil(adminKey.length / 2))],
      ['the second half of the admin key', adminKey.slice(Math.floor(adminKey.length / 2))],
      ['a near miss of the admin key', nearMiss],
    ];
    for (const [name, token] of Object.entries(tokens)) {
      const [, payload, signature] = token.split('.') as [string, string, string];
      secrets.push(
        [`token ${name}`, token],
        [`the payload of ${name}`, payload],
        [`the signature of ${name}`, signature],
      );
    }

    const db = openReadOnly(join(dataDir, 'profiles.db'));
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>
    ).map((t) => t.name);
    const dump = JSON.stringify(tables.map((table) => [table, db.prepare(`SELECT * FROM "${table}"`).all()]));
    db.close();
    const files = ['profiles.db', 'profiles.db-wal', 'profiles.db-shm']
      .filter((name) => existsSync(join(dataDir, name)))
      .map((name) => [`the bytes of ${name}`, readFileSync(join(dataDir, name)).toString('latin1')] as const);
    const sources: Array<readonly [string, string]> = [
      [
        'the output of the first start, past its admin key line',
        first.output().replace(/^Admin key \(shown only this once[^\n]*\n/m, ''),
      ],
      ['the output of the second start', second.output()],
      ['answers other than token bodies', others.map((a) => `${JSON.stringify(a.headers)}\n${a.text}`).join('\n')],
      ['the audit log (API)', audit.text],
      ['every table of the database', dump],
      ...files,
    ];

    const cases = section.cases();
    await cases.run('the first start shows the generated key exactly once; the second never', () => {
      assert.equal(occurrences(first.output(), adminKey), 1);
      assert.match(first.output(), /^Admin key \(shown only this once; saved in [^\n]+\): \S+$/m);
      assert.equal(occurrences(second.output(), adminKey), 0);
      assert.match(second.output(), /Admin key: see /);
    });
    for (const [where, text] of sources) {
      for (const [what, secret] of secrets) {
        await cases.run(`${what} in ${where}`, () =>
          assert.equal(occurrences(text, secret), 0, `found ${what} in ${where}`),
        );
      }
    }
    for (const answer of tokenBodies) {
      await cases.run('a token body holds its token and nothing else secret', () => {
        const own = json<{ accessToken: string }>(answer).accessToken;
        for (const [what, secret] of secrets) {
          if (!own.includes(secret)) assert.equal(occurrences(answer.text, secret), 0, `found ${what}`);
        }
        assert.match(String(answer.headers['cache-control']), /no-store/);
      });
    }
    await cases.run('audit events hold nothing shaped like a JWT', () =>
      assert.doesNotMatch(audit.text + dump, /eyJ[\w-]*\.[\w-]+\.[\w-]+/),
    );
    for (const [when, list] of [
      ['while running', runningModes],
      ['after a clean stop', modes()],
    ] as const) {
      await cases.run(`data files are mode 0600, ${when}: ${JSON.stringify(list)}`, () => {
        const names = list.map(([name]) => name);
        for (const needed of ['admin-key', 'signing-keys.json', 'profiles.db'])
          assert.ok(names.includes(needed), needed);
        if (when === 'while running') assert.ok(names.includes('profiles.db-wal'), 'the WAL is checked too');
        for (const [name, mode] of list) assert.equal(mode, '600', `${name} is mode ${mode}`);
      });
    }
    await cases.run('the data folder is mode 0700', () =>
      assert.equal((statSync(dataDir).mode & 0o777).toString(8), '700'),
    );
    cases.done();
  });
});
