import assert from 'node:assert/strict';
import type { BatchStatus } from '@profilegate/client';
import { waitForBatch } from '../src/commands/batch';
import { CommandContext } from '../src/context';
import { RateMeter, describeDuration, describeRate, startProgress } from '../src/progress';

function context(): { ctx: CommandContext; stderr: () => string } {
  let text = '';
  const sink = { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream;
  const ctx = new CommandContext({}, { stdout: sink, stderr: sink, stdin: process.stdin, env: {}, cwd: '/' });
  return { ctx, stderr: () => text };
}

const incomplete = (appliedCount?: number): BatchStatus => ({
  batchId: 'demo-1-1',
  status: 'incomplete',
  batchSize: 10_000,
  consumedCount: 0,
  ...(appliedCount === undefined ? {} : { appliedCount }),
});

describe('batch upload --wait progress (issue 20)', () => {
  it('rows/s and time left come from the injected clock', () => {
    let now = 0;
    const meter = new RateMeter(() => now);
    assert.equal(meter.observe(0, 10_000), null, 'no rate from one sample');
    now = 2000;
    const rate = meter.observe(2500, 10_000);
    assert.deepEqual(rate, { perSecond: 1250, secondsLeft: 6 });
    assert.equal(describeRate(rate, 'rows'), ', 1,250 rows/s, 6s left');
    assert.equal(describeDuration(125), '2m 05s');
    assert.equal(describeDuration(3720), '1h 02m');
  });

  it('the bar moves with appliedCount, never back, and shows the rate and time left', async () => {
    const answers: BatchStatus[] = [
      incomplete(0),
      incomplete(2000),
      incomplete(), // another instance: no appliedCount
      incomplete(4000),
      incomplete(1000), // the store started its transaction over
      incomplete(8000),
      { batchId: 'demo-1-1', status: 'complete', batchSize: 10_000, consumedCount: 10_000, successfulUpdates: 10_000 },
    ];
    let now = 0;
    const slept: number[] = [];
    const api = { getBatchStatus: async () => answers.shift()! };
    const { ctx, stderr } = context();
    const final = await waitForBatch(
      ctx,
      api,
      'demo-1-1',
      { v1: false },
      {
        clock: () => now,
        sleep: async (ms) => {
          slept.push(ms);
          now += 1000;
        },
      },
    );
    assert.equal(final.status, 'complete');
    assert.deepEqual(slept, [200, 500, 1000, 2000, 2000, 2000]);
    assert.deepEqual(stderr().trimEnd().split('\n'), [
      'Applying demo-1-1: 0/10000 rows',
      'Applying demo-1-1: 2000/10000 rows, 2,000 rows/s, 4s left',
      'Applying demo-1-1: 4000/10000 rows, 1,333 rows/s, 5s left',
      'Applying demo-1-1: 8000/10000 rows, 1,600 rows/s, 2s left',
      'Applying demo-1-1: 10000/10000 rows, 1,667 rows/s, 0s left',
    ]);
  });
});

/** A context whose stderr says it is a terminal, with `env` as the environment. */
function terminalContext(env: NodeJS.ProcessEnv): { ctx: CommandContext; stderr: () => string } {
  let text = '';
  const sink = {
    isTTY: true,
    columns: 100,
    write: (chunk: string) => ((text += chunk), true),
  } as unknown as NodeJS.WritableStream;
  const ctx = new CommandContext({}, { stdout: sink, stderr: sink, stdin: process.stdin, env, cwd: '/' });
  return { ctx, stderr: () => text };
}

describe('progress on terminals that cannot draw the bar', () => {
  it('TERM=dumb: plain lines, no cursor control sequences', () => {
    const { ctx, stderr } = terminalContext({ TERM: 'dumb', LANG: 'C.UTF-8' });
    const progress = startProgress(ctx, 'Uploading', 'bytes');
    progress.update(0, 100);
    progress.update(100, 100);
    progress.stop();
    assert.ok(!stderr().includes('\u001b'), JSON.stringify(stderr()));
    assert.deepEqual(stderr().trimEnd().split('\n'), ['Uploading: 0/100 bytes', 'Uploading: 100/100 bytes']);
  });

  it('a locale that is not UTF-8 (LANG=C): the bar is drawn with ASCII only', () => {
    const { ctx, stderr } = terminalContext({ TERM: 'xterm', LANG: 'C' });
    const progress = startProgress(ctx, 'Uploading', 'bytes');
    progress.update(50, 100);
    progress.stop();
    assert.match(stderr(), /Uploading \[/);
    assert.ok(
      [...stderr()].every((char) => char.charCodeAt(0) < 128),
      JSON.stringify(stderr()),
    );
  });

  it('a UTF-8 locale keeps the block bar', () => {
    const { ctx, stderr } = terminalContext({ TERM: 'xterm', LC_ALL: 'en_US.UTF-8' });
    const progress = startProgress(ctx, 'Uploading', 'bytes');
    progress.update(50, 100);
    progress.stop();
    assert.match(stderr(), /\u2588/);
  });
});
