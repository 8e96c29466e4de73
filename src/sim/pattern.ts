// A workload's size over time (a memknobs buffer): waves, point lists, constants, plus seeded
// jitter. Values are MiB; the model converts to KiB.
import type { Rng } from './random.js';
import type { Pattern } from './scenario.js';

export class PatternSampler {
  private jitterSlot = -1;
  private jitterValue = 0;

  /**
   * @param index the guest's position in its group: phases and shifts step with it
   */
  constructor(
    private readonly pattern: Pattern,
    private readonly index: number,
    private readonly rng: Rng,
  ) {}

  /** The size (MiB, never negative) at `t` seconds after the guest started. */
  at(t: number): number {
    const base = baseValue(this.pattern, this.index, t);
    const j = this.pattern.jitter_mib;
    if (j === 0) return base;
    const slot = Math.floor(t / this.pattern.jitter_every_s);
    // Slots are drawn in order; the model only moves forward in time.
    while (this.jitterSlot < slot) {
      this.jitterValue = this.rng.uniform(-j, j);
      this.jitterSlot++;
    }
    return Math.max(0, base + this.jitterValue);
  }
}

export function baseValue(p: Pattern, index: number, t: number): number {
  switch (p.kind) {
    case 'constant':
      return p.mib;
    case 'wave': {
      const period = Math.max(1e-9, p.period_s + index * p.period_step_s);
      const phase = p.phase_s + index * p.phase_step_s;
      const x = ((((t + phase) / period) % 1) + 1) % 1; // position in the cycle, 0..1
      let level: number; // 0..1
      if (p.shape === 'sine') level = 0.5 - 0.5 * Math.cos(2 * Math.PI * x);
      else if (p.shape === 'triangle') level = x < 0.5 ? 2 * x : 2 - 2 * x;
      else level = x < 0.5 ? 0 : 1;
      return p.min_mib + (p.max_mib - p.min_mib) * level;
    }
    case 'points': {
      let time = t - index * p.shift_step_s;
      if (p.repeat_s !== undefined) time = ((time % p.repeat_s) + p.repeat_s) % p.repeat_s;
      const pts = p.points;
      const first = pts[0];
      if (first === undefined) return 0;
      if (time <= first[0]) return first[1];
      for (let i = 1; i < pts.length; i++) {
        const a = pts[i - 1];
        const b = pts[i];
        if (a === undefined || b === undefined) break;
        if (time < b[0]) {
          if (p.interpolate === 'step' || b[0] === a[0]) return a[1];
          return a[1] + ((b[1] - a[1]) * (time - a[0])) / (b[0] - a[0]);
        }
      }
      return pts[pts.length - 1]?.[1] ?? 0;
    }
  }
}
