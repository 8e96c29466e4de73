import assert from 'node:assert/strict';
import { test } from 'node:test';
import { realClock, runTasks, simulatedClock } from './scheduler.js';

function fakeSim() {
  return {
    now: 0,
    advance(s: number) {
      this.now += s;
    },
  };
}

test('tasks run at their intervals in time order, ties in list order', async () => {
  const sim = fakeSim();
  const log: string[] = [];
  const task = (name: string, intervalS: number) => ({
    name,
    intervalS,
    run: async () => void log.push(`${name}@${sim.now}`),
  });
  await runTasks([task('a', 5), task('b', 10)], simulatedClock(sim, 'fast'), new AbortController().signal, {
    until: 20,
    onError: () => assert.fail(),
  });
  assert.deepEqual(log, ['a@0', 'b@0', 'a@5', 'a@10', 'b@10', 'a@15', 'a@20', 'b@20']);
});

test('a task that throws is reported and the loop goes on', async () => {
  const sim = fakeSim();
  const errors: string[] = [];
  let runs = 0;
  await runTasks(
    [
      {
        name: 'bad',
        intervalS: 1,
        run: async () => {
          runs++;
          throw new Error('boom');
        },
      },
    ],
    simulatedClock(sim, 'fast'),
    new AbortController().signal,
    { until: 3, onError: (t, e) => errors.push(`${t}: ${(e as Error).message}`) },
  );
  assert.equal(runs, 4);
  assert.deepEqual(errors, Array(4).fill('bad: boom'));
});

test('aborting stops the loop', async () => {
  const sim = fakeSim();
  const ac = new AbortController();
  let runs = 0;
  await runTasks(
    [{ name: 't', intervalS: 1, run: async () => void (++runs === 3 && ac.abort()) }],
    simulatedClock(sim, 'fast'),
    ac.signal,
    { onError: () => {} },
  );
  assert.equal(runs, 3);
});

test('with a deadline, a hung run is left behind once, its task skipped until it ends; the others keep their pace', async () => {
  let release: () => void = () => {};
  const log: string[] = [];
  let hungRuns = 0;
  const errors: string[] = [];
  const late: string[] = [];
  const ac = new AbortController();
  let abortedByDeadline = false;
  const started = Date.now();
  await runTasks(
    [
      {
        name: 'stuck',
        intervalS: 0.02,
        run: (signal) => {
          hungRuns++;
          log.push('stuck');
          if (hungRuns > 1) return Promise.resolve();
          signal.addEventListener('abort', () => (abortedByDeadline = true));
          // Ignores its signal, as a call with no timeout of its own would.
          return new Promise<void>((resolve) => (release = resolve));
        },
      },
      {
        name: 'tick',
        intervalS: 0.01,
        run: async () => {
          log.push('tick');
          if (log.filter((l) => l === 'tick').length === 30) release();
          if (log.filter((l) => l === 'tick').length === 60) ac.abort();
        },
      },
    ],
    realClock,
    ac.signal,
    {
      timeoutS: 0.05,
      onError: (t, e) => errors.push(`${t}: ${(e as Error).message}`),
      onLate: (t) => late.push(t),
    },
  );
  assert.ok(Date.now() - started < 5000);
  assert.deepEqual(errors, ['stuck: no end within 0.05 s: left behind, and not run again until it ends']);
  assert.ok(abortedByDeadline, "the hung run's signal was aborted at its deadline");
  assert.deepEqual(late, ['stuck']);
  // Not started again while hung (30 ticks, ~0.3 s, at a 0.02 s interval); started again after.
  const releasedAt = log.findIndex(
    (l, i) => l === 'tick' && log.slice(0, i + 1).filter((x) => x === 'tick').length === 30,
  );
  assert.equal(log.slice(1, releasedAt).filter((l) => l === 'stuck').length, 0);
  assert.ok(hungRuns >= 3, `${hungRuns} runs of stuck`);
});

test('the wall clock jumping (an hour back, then two forward) moves no run: the daemon runs on the monotonic clock', async () => {
  const realNow = Date.now;
  const runsAt: number[] = [];
  const t0 = performance.now();
  let jumps = 0;
  try {
    await runTasks(
      [
        {
          name: 'tick',
          intervalS: 0.05,
          run: async () => {
            runsAt.push(performance.now() - t0);
            // Jump the wall clock between runs, as an NTP step or an administrator would.
            if (runsAt.length === 3) {
              jumps++;
              Date.now = () => realNow() - 3_600_000;
            }
            if (runsAt.length === 6) {
              jumps++;
              Date.now = () => realNow() + 3_600_000;
            }
          },
        },
      ],
      realClock,
      AbortSignal.timeout(600),
      { onError: () => assert.fail() },
    );
  } finally {
    Date.now = realNow;
  }
  assert.equal(jumps, 2);
  // A run every 50 ms throughout: no gap of an hour, no burst of catch-up runs.
  const gaps = runsAt.slice(1).map((t, i) => t - (runsAt[i] ?? t));
  assert.ok(runsAt.length >= 8, `${runsAt.length} runs`);
  assert.ok(
    gaps.every((g) => g >= 40 && g < 400),
    gaps.map((g) => g.toFixed(0)).join(' '),
  );
});
