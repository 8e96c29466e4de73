// The clocks the engine runs on: the wall clock for a real host, and a clock driven by the
// simulated host (optionally as fast as possible). Backends choose theirs (createBackend), the
// scheduler (src/engine/scheduler.ts) runs on it.
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Seconds on this clock. */
  now(): number;
  /** Resolves when the clock reaches t (at once if it has); resolves early if signal aborts. */
  waitUntil(t: number, signal: AbortSignal): Promise<void>;
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
