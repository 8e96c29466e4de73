import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runTasks, simulatedClock } from './scheduler.js';

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
