// The safe behaviour while the policy keeps failing (degraded mode). One failed evaluation applies
// nothing, as in MOM: a typo fixed within a cycle or two should not move a balloon. But a policy
// that fails cycle after cycle would otherwise leave every guest squeezed where the last good
// evaluation put it, for as long as nobody looks. So after `afterCycles` failures in a row momd
// falls back: each cycle it gives every guest back part of its memory (a balloon under its maximum
// grows by `stepFraction` of that maximum), never shrinks one and touches no host knob, until an
// evaluation succeeds again. Entering and leaving the fallback are said loudly, once each; the
// cycle events carry the state for the API and the metrics.
import { buildEntities, type Entities, type Snapshot } from '../entities/snapshot.js';

export interface FallbackSettings {
  /** Failed evaluations in a row before the fallback starts; 0 turns it off (hold for ever). */
  readonly afterCycles: number;
  /** Each fallback cycle, a balloon grows by this share of its maximum (0 < f <= 1). */
  readonly stepFraction: number;
}

export const DEFAULT_FALLBACK: FallbackSettings = { afterCycles: 3, stepFraction: 0.05 };

/** Where the policy stands: failures in a row, and since when the fallback is on (or null). */
export interface FallbackState {
  readonly failures: number;
  readonly since: number | null;
}

/** What a failed or a good evaluation changed in the fallback's state. */
export type FallbackChange = 'entered' | 'left' | null;

/** Counts failed evaluations in a row and says when the fallback starts and ends. */
export class PolicyFailures {
  private failures = 0;
  private since: number | null = null;

  constructor(readonly settings: FallbackSettings = DEFAULT_FALLBACK) {}

  get state(): FallbackState {
    return { failures: this.failures, since: this.since };
  }

  /** The fallback acts this cycle. */
  get active(): boolean {
    return this.since !== null;
  }

  /** A failed evaluation at `at` (engine seconds). */
  failed(at: number): FallbackChange {
    this.failures++;
    if (this.since !== null || this.settings.afterCycles <= 0) return null;
    if (this.failures < this.settings.afterCycles) return null;
    this.since = at;
    return 'entered';
  }

  /** A good evaluation: the count starts again, and the fallback, if on, ends. */
  succeeded(): FallbackChange {
    const was = this.since !== null;
    this.failures = 0;
    this.since = null;
    return was ? 'left' : null;
  }
}

/**
 * The reason every balloon change of the fallback carries: the same words every cycle (no count),
 * so that the outcome log says a repeated outcome once, not every cycle.
 */
export const FALLBACK_REASON =
  'fallback: the policy keeps failing; memory given back slowly until it evaluates again';

/**
 * The controls of a fallback cycle: for every guest whose balloon is under its maximum, a target
 * `stepFraction` of that maximum higher (at most the maximum). A guest without both figures is
 * left alone. No host control is set.
 */
export function fallbackEntities(snapshot: Snapshot, settings: FallbackSettings, reason: string): Entities {
  const entities = buildEntities(snapshot);
  for (const guest of entities.guests) {
    const latest = guest.history[guest.history.length - 1] ?? {};
    const cur = latest['balloon_cur'];
    const max = latest['balloon_max'];
    if (typeof cur !== 'number' || typeof max !== 'number' || cur >= max) continue;
    const target = Math.min(max, Math.round(cur + settings.stepFraction * max));
    guest.control('balloon_target', target, reason);
  }
  return entities;
}
