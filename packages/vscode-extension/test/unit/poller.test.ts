import assert from 'node:assert/strict';
import { FOCUS_CHECK_MIN_GAP_MS, Poller, SERVER_CHECK_INTERVAL_MS, type Scheduler } from '../../src/logic/poller';
import { NOW } from '../fixtures/clock';

/** A timer the test fires by hand. */
class FakeScheduler implements Scheduler {
  readonly timers: Array<{ intervalMs: number; run: () => void; disposed: boolean }> = [];
  every(intervalMs: number, run: () => void): { dispose(): void } {
    const timer = { intervalMs, run, disposed: false };
    this.timers.push(timer);
    return { dispose: () => void (timer.disposed = true) };
  }
  fire(): void {
    for (const timer of this.timers) if (!timer.disposed) timer.run();
  }
}

/** A run the test finishes by hand. */
function gatedRun(): { run: () => Promise<void>; starts: number; finish: () => void } {
  const state = {
    starts: 0,
    release: [] as Array<() => void>,
    run: () => {
      state.starts++;
      return new Promise<void>((resolve) => state.release.push(resolve));
    },
    finish: () => state.release.shift()?.(),
  };
  return state;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('poller (when to ask the server)', () => {
  let now: number;
  let scheduler: FakeScheduler;
  beforeEach(() => {
    now = NOW;
    scheduler = new FakeScheduler();
  });

  it('asks every minute once started, and stops when disposed', async () => {
    let runs = 0;
    const poller = new Poller({ scheduler, now: () => now, run: async () => void runs++ });
    assert.equal(scheduler.timers.length, 0, 'no timer before start');
    poller.start();
    poller.start();
    assert.equal(scheduler.timers.length, 1);
    assert.equal(scheduler.timers[0]?.intervalMs, SERVER_CHECK_INTERVAL_MS);
    assert.equal(SERVER_CHECK_INTERVAL_MS, 60_000);
    scheduler.fire();
    await settle();
    scheduler.fire();
    await settle();
    assert.equal(runs, 2);
    poller.dispose();
    scheduler.fire();
    await settle();
    assert.equal(runs, 2);
  });

  it('asks on window focus, but not again within the minimum gap', async () => {
    let runs = 0;
    const poller = new Poller({ scheduler, now: () => now, run: async () => void runs++ });
    await poller.nudge();
    assert.equal(runs, 1);
    now += FOCUS_CHECK_MIN_GAP_MS - 1;
    await poller.nudge();
    assert.equal(runs, 1, 'focus flapping does not hammer the server');
    now += 1;
    await poller.nudge();
    assert.equal(runs, 2);
  });

  it('never runs two at once: a poll asked for meanwhile runs once after; a timer tick meanwhile is dropped', async () => {
    const gate = gatedRun();
    const poller = new Poller({ scheduler, now: () => now, run: gate.run });
    poller.start();
    const first = poller.poll();
    scheduler.fire();
    const second = poller.poll();
    const third = poller.poll();
    assert.equal(second, third, 'any number of polls meanwhile make one more run');
    assert.equal(gate.starts, 1);
    gate.finish();
    await first;
    await settle();
    assert.equal(gate.starts, 2, 'the queued poll runs after the first');
    gate.finish();
    await second;
    assert.equal(gate.starts, 2);
  });

  it('a failed run does not stop the next one', async () => {
    let runs = 0;
    const poller = new Poller({
      scheduler,
      now: () => now,
      run: async () => {
        runs++;
        if (runs === 1) throw new Error('boom');
      },
    });
    await assert.rejects(poller.poll(), /boom/);
    await poller.poll();
    assert.equal(runs, 2);
  });
});
