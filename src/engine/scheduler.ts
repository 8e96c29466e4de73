// Runs the engine's periodic tasks in time order on a clock (src/clock.ts). The daemon uses the
// real clock; the simulator's fast mode uses a clock that advances the model instead of sleeping.
// Same tasks, same order, only the clock differs.
import type { Clock } from '../clock.js';

export { realClock, simulatedClock, type Clock, type Steppable } from '../clock.js';

export interface PeriodicTask {
  readonly name: string;
  readonly intervalS: number;
  run(signal: AbortSignal): Promise<void>;
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
