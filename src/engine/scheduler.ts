// Runs the engine's periodic tasks in time order on a clock (src/clock.ts). The daemon uses the
// real clock; the simulator's fast mode uses a clock that advances the model instead of sleeping.
// Same tasks, same order, only the clock differs. On the daemon each run has a deadline in real
// time: a run that hangs (a call that neither answers nor times out) is left behind, reported
// once, and that task is not started again until the hung run ends; the other tasks go on.
import type { Clock } from '../clock.js';
import { MomError } from '../errors.js';

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
  /**
   * Real seconds a run may take before it is left behind (reported as MOM_E_TASK_TIMEOUT); the
   * task's signal is aborted then, and the task is skipped until that run ends. Undefined: no
   * deadline (the simulator's fast mode, whose tasks never wait).
   */
  readonly timeoutS?: number;
  /** A hung run ended at last (ms after it started), so its task runs again. */
  readonly onLate?: (task: string, ms: number) => void;
}

/**
 * Runs the task with a real-time deadline; resolves 'hung' when the deadline passes first. The
 * callbacks run synchronously when the deadline passes (onHung) and when a hung run ends at last
 * (onLate), so that the caller's bookkeeping cannot miss either.
 */
async function runWithDeadline(
  run: (signal: AbortSignal) => Promise<void>,
  signal: AbortSignal,
  timeoutS: number,
  onHung: () => void,
  onLate: (ms: number) => void,
): Promise<'done' | 'hung'> {
  const deadline = new AbortController();
  const started = performance.now();
  let state: 'running' | 'done' | 'hung' = 'running';
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => {
      if (state !== 'running') return;
      state = 'hung';
      deadline.abort();
      onHung();
      resolve('hung');
    }, timeoutS * 1000);
  });
  const running = run(AbortSignal.any([signal, deadline.signal])).finally(() => {
    if (state === 'hung') onLate(performance.now() - started);
    else state = 'done';
  });
  // Once left behind, the run's own outcome is nobody's concern but onLate's.
  running.catch(() => {});
  try {
    return await Promise.race([running.then(() => 'done' as const), expired]);
  } finally {
    clearTimeout(timer);
  }
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
  /** Tasks whose last run hung and has not ended yet: not started again until it does. */
  const hung = new Set<string>();
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
      if (hung.has(task.name)) {
        // Still hanging from an earlier run: skipped, said once when it hung.
      } else if (options.timeoutS === undefined) {
        await task.run(signal);
        options.onSuccess?.(task.name);
      } else {
        const name = task.name;
        const outcome = await runWithDeadline(
          (s) => task.run(s),
          signal,
          options.timeoutS,
          () => hung.add(name),
          (ms) => {
            hung.delete(name);
            options.onLate?.(name, ms);
          },
        );
        if (outcome === 'hung')
          options.onError(
            name,
            new MomError(
              'MOM_E_TASK_TIMEOUT',
              `no end within ${options.timeoutS} s: left behind, and not run again until it ends`,
            ),
          );
        else options.onSuccess?.(name);
      }
    } catch (err) {
      options.onError(task.name, err);
    }
    // Keep the cadence; if a task overran a whole interval, skip the missed runs.
    due[i] = Math.max(at + task.intervalS, clock.now());
  }
}
