/**
 * Issue 15: a hostile 50 MB batch body of any form is refused while the demo server keeps answering
 * other requests, and the server's memory stays bounded. Runs the demo server as a child process,
 * so its peak resident memory (VmHWM) can be read. No speed is asserted; the latencies are printed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', 'src', 'demo', 'main.js');
const MB = 1024 * 1024;
/** Under the 50 MB limit, so that the refusal comes from parsing, not from Content-Length. */
const BODY_BYTES = 50 * MB - 4096;
const ADMIN_KEY = 'hostile-admin-key-0123456789';
const CLIENT = 'demo';
const PEAK_RSS_LIMIT = 300 * MB;

interface Hostile {
  name: string;
  contentType: string;
  /** Sent first; then the sender waits until other requests have been answered. */
  head: string;
  /** Repeated after the head until the body is BODY_BYTES long. */
  unit: string;
  /** Closes the body (multipart's boundary). */
  tail?: string;
  status: 400 | 413;
  message: RegExp;
}

const BOUNDARY = 'hostile-boundary-7d3f';
const MULTIPART_HEAD = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="batch"; filename="b.csv"\r\nContent-Type: text/csv\r\n\r\n`;

const HOSTILE: Hostile[] = [
  {
    name: 'JSON {"profiles":[{},{},…]}',
    contentType: 'application/json',
    head: '{"profiles":[{}',
    unit: ',{}',
    tail: ']}',
    status: 413,
    message: /more than 500,000 rows/,
  },
  {
    name: 'JSON one endless profile',
    contentType: 'application/json',
    head: '{"profiles":[{"thirdPartyId":"h1","attributes":{"a":"x"}},{"thirdPartyId":"h2","attributes":{"a":"',
    unit: 'x',
    status: 413,
    message: /Profile 2 of "profiles" is over 1 MB/,
  },
  {
    name: 'text/csv one row of ",x"',
    contentType: 'text/csv',
    head: 'thirdPartyId,a\nh1,x\nh2',
    unit: ',x',
    status: 400,
    message: /Line 3: Row has more than 18 cells/,
  },
  {
    name: 'text/csv one endless quoted cell',
    contentType: 'text/csv',
    head: 'thirdPartyId,a\nh1,x\nh2,"',
    unit: 'xxxxxxx\n',
    status: 413,
    message: /Line 3: The line is over 1 MB/,
  },
  {
    name: 'form one row of ",x"',
    contentType: 'application/x-www-form-urlencoded',
    head: 'batch=thirdPartyId,a\nh1,x\nh2',
    unit: ',x',
    status: 400,
    message: /Line 3: Row has more than 18 cells/,
  },
  {
    name: 'form one endless line',
    contentType: 'application/x-www-form-urlencoded',
    head: 'batch=thirdPartyId,a\nh1,x\nh2,',
    unit: 'x',
    status: 413,
    message: /Line 3: The line is over 1 MB/,
  },
  {
    name: 'multipart holding one row of ",x"',
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    head: `${MULTIPART_HEAD}thirdPartyId,a\nh1,x\nh2`,
    unit: ',x',
    tail: `\r\n--${BOUNDARY}--\r\n`,
    status: 400,
    message: /Line 3: Row has more than 18 cells/,
  },
];

interface Server {
  child: ChildProcess;
  url: string;
}

function startServer(env: NodeJS.ProcessEnv): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`the demo server did not start: ${stdout} ${stderr}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`the demo server exited (${code}): ${stdout} ${stderr}`)));
  });
}

/** Peak resident memory of a process, from /proc (Linux). */
function peakRss(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(match, 'VmHWM in /proc/PID/status');
  return Number(match[1]) * 1024;
}

interface Answer {
  status: number;
  body: string;
}

/**
 * Sends `shape` as one body of BODY_BYTES, in 1 MB chunks; after its head, waits for `afterHead`
 * (other requests being answered). Stops sending once the answer arrives.
 */
function sendHostile(url: string, token: string, shape: Hostile, afterHead: () => Promise<void>): Promise<Answer> {
  const head = Buffer.from(shape.head, 'utf8');
  const tail = Buffer.from(shape.tail ?? '', 'utf8');
  const chunk = Buffer.from(shape.unit.repeat(Math.ceil(MB / shape.unit.length)), 'utf8');
  const middle = BODY_BYTES - head.length - tail.length;
  const whole = middle - (middle % Buffer.byteLength(shape.unit));
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(`${url}/m2/${CLIENT}/v2/profile/batchUpdate`, {
      method: 'POST',
      agent: false,
      headers: {
        Authorization: `Bearer ${token}`,
        Accept: 'application/json',
        'Content-Type': shape.contentType,
        'Content-Length': String(BODY_BYTES),
      },
    });
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => (body += text));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    // Writing after the server answered and closed the connection fails; the answer is what counts.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    void (async () => {
      req.write(head);
      await afterHead();
      let sent = 0;
      while (sent < whole && !answered && !req.destroyed) {
        const part = chunk.subarray(0, Math.min(chunk.length, whole - sent));
        sent += part.length;
        if (!req.write(part)) await new Promise((done) => req.once('drain', done).once('close', done));
      }
      // Whole units only, then spaces, so that a body that reached its end is well-formed (JSON: valid).
      if (!answered && !req.destroyed) req.end(Buffer.concat([Buffer.alloc(middle - whole, ' '), tail]));
    })().catch(() => undefined);
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

describe('hostile 50 MB batch bodies on the demo server (issue 15)', function () {
  // A hang guard, not a speed check.
  this.timeout(600_000);
  const root = mkdtempSync(join(tmpdir(), 'profilegate-hostile-'));
  const temp = join(root, 'tmp');
  let server: Server;
  let token: string;

  before(async () => {
    mkdirSync(temp);
    server = await startServer({
      PORT: '0',
      PROFILEGATE_DATA: join(root, 'data'),
      PROFILEGATE_CLIENTS: CLIENT,
      PROFILEGATE_ADMIN_KEYS: `${ADMIN_KEY}:sysadmin:ops`,
      // Spool files go here, so that leftovers can be seen.
      TMPDIR: temp,
    });
    const created = await fetch(`${server.url}/${CLIENT}/target/authentication/token?authorizationScope=profile_api`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_KEY}` },
    });
    assert.equal(created.status, 201, await created.clone().text());
    token = ((await created.json()) as { accessToken: string }).accessToken;
    const seeded = await fetch(`${server.url}/m2/${CLIENT}/v2/profile/batchUpdate`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/csv', Accept: 'application/json' },
      body: 'thirdPartyId,tier\nbystander,gold\n',
    });
    assert.equal(seeded.status, 200, await seeded.clone().text());
    for (let tries = 0; tries < 100 && (await bystander()) !== 200; tries++) {
      await new Promise((done) => setTimeout(done, 50));
    }
    assert.equal(await bystander(), 200, 'the bystander profile was stored');
  });

  after(() => {
    server?.child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  async function bystander(): Promise<number> {
    const res = await fetch(`${server.url}/rest/v1/profiles/thirdPartyId/bystander?client=${CLIENT}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    await res.arrayBuffer();
    return res.status;
  }

  it('refuses each form while other requests are answered, within 300 MB of memory, leaving no spool file', async () => {
    const latencies: number[] = [];
    const lines: string[] = [];
    for (const shape of HOSTILE) {
      let hostileDone = false;
      let answeredDuring = 0;
      let answeredWhileHeld = 0;
      let releaseHead: () => void = () => undefined;
      const headHeld = new Promise<void>((done) => (releaseHead = done));
      // Other requests, one after another, for as long as the hostile body is in flight.
      const others = (async () => {
        while (!hostileDone) {
          const started = performance.now();
          assert.equal(await bystander(), 200);
          const took = performance.now() - started;
          if (hostileDone) break;
          answeredDuring++;
          // Timed only while the hostile body is streaming (not while its sender waits).
          if (answeredWhileHeld >= 3) latencies.push(took);
          if (++answeredWhileHeld === 3) releaseHead();
        }
      })();
      const answer = await sendHostile(server.url, token, shape, () => headHeld);
      hostileDone = true;
      await others;
      assert.equal(answer.status, shape.status, `${shape.name}: ${answer.body}`);
      const { message } = JSON.parse(answer.body) as { message: string };
      assert.match(message, shape.message, shape.name);
      assert.ok(answeredDuring >= 3, `${shape.name}: ${answeredDuring} other requests answered before the refusal`);
      lines.push(`${shape.name}: ${answer.status}, ${answeredDuring} other requests answered before it`);
    }
    const peak = peakRss(server.child.pid!);
    const p99 = percentile(latencies, 99);
    console.log(`      ${lines.join('\n      ')}`);
    console.log(
      `      (other requests during hostile bodies: ${latencies.length}, p99 ${p99.toFixed(1)} ms, ` +
        `max ${Math.max(...latencies).toFixed(1)} ms; server peak RSS ${(peak / MB).toFixed(0)} MB)`,
    );
    assert.ok(peak < PEAK_RSS_LIMIT, `the server's peak RSS was ${(peak / MB).toFixed(0)} MB`);
    const spooled = existsSync(temp) ? readdirSync(temp).filter((name) => name.startsWith('profilegate-batch-')) : [];
    assert.deepEqual(spooled, [], 'refused bodies leave no spool folder');
  });
});
