// Runs the engine's periodic tasks in time order on a clock. The daemon uses the real clock; the
// simulator's fast mode uses a clock that advances the model instead of sleeping. Same tasks,
// same order, only the clock differs.
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Seconds on this clock. */
  now(): number;
  /** Resolves when the clock reaches t (at once if it has); resolves early if signal aborts. */
  waitUntil(t: number, signal: AbortSignal): Promise<void>;
}

export interface PeriodicTask {
  readonly name: string;
  readonly intervalS: number;
  run(signal: AbortSignal): Promise<void>;
}

/** The wall clock. */
export const realClock: Clock = {
  now: () => performance.now() / 1000,
  async waitUntil(t, signal) {
    const ms = (t - this.now()) * 1000;
    if (ms <= 0 || signal.aborted) return;
    await sleep(ms, undefined, { signal }).catch(() => undefined);
  },
};

/** Something that steps simulated time: the simulator. */
export interface Steppable {
  readonly now: number;
  advance(seconds: number): void;
}

/**
 * A clock driven by a simulation. With speed 'fast' it advances the model straight to the next
 * due time; with a number it also sleeps, so that `speed` simulated seconds pass per real second.
 */
export function simulatedClock(sim: Steppable, speed: number | 'fast'): Clock {
  return {
    now: () => sim.now,
    async waitUntil(t, signal) {
      const dt = t - sim.now;
      if (dt <= 0) return;
      if (speed !== 'fast') {
        await sleep((dt / speed) * 1000, undefined, { signal }).catch(() => undefined);
        if (signal.aborted) return;
      }
      sim.advance(dt);
    },
  };
}

export interface RunOptions {
  /** Stop once the next task would start after this time on the clock. */
  readonly until?: number;
  /** A task that throws is reported here and the loop goes on (the loop never dies). */
  readonly onError: (task: string, err: unknown) => void;
  /** Called after each run that did not throw. */
  readonly onSuccess?: (task: string) => void;
}

/** Runs every task at its interval, in time order (ties in list order), until aborted or `until`. */
export async function runTasks(
  tasks: readonly PeriodicTask[],
  clock: Clock,
  signal: AbortSignal,
  options: RunOptions,
): Promise<void> {
  const start = clock.now();
  const due = tasks.map(() => start);
  while (!signal.aborted) {
    let i = 0;
    for (let j = 1; j < tasks.length; j++) if ((due[j] as number) < (due[i] as number)) i = j;
    const task = tasks[i];
    const at = due[i];
    if (task === undefined || at === undefined) return;
    if (options.until !== undefined && at > options.until) return;
    await clock.waitUntil(at, signal);
    if (signal.aborted) return;
    try {
      await task.run(signal);
      options.onSuccess?.(task.name);
    } catch (err) {
      options.onError(task.name, err);
    }
    // Keep the cadence; if a task overran a whole interval, skip the missed runs.
    due[i] = Math.max(at + task.intervalS, clock.now());
  }
}
