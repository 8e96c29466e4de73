// The administrator's per-guest bounds from the configuration ([guest:NAME] sections): a balloon
// floor, a ceiling, an opt-out, and shares (a weight for policies). They bind whatever the policy asks: the engine folds them into
// the guest's balloon_min and balloon_max (so a policy sees them), and balloon_opt_out tells the
// Balloon controller to leave the guest's balloon alone.
import type { GuestInfo } from '../hypervisors/hypervisor.js';

export interface GuestLimit {
  /** A guest name, or a uuid. */
  readonly match: string;
  readonly floorKib: number | null;
  readonly ceilingKib: number | null;
  /** false: momd never moves this guest's balloon. */
  readonly balloon: boolean;
  /** Relative weight when memory is scarce; 1000 is normal. */
  readonly shares?: number;
}

export interface EffectiveLimit {
  readonly floorKib: number | null;
  readonly ceilingKib: number | null;
  readonly optOut: boolean;
  readonly shares: number;
}

const NONE: EffectiveLimit = { floorKib: null, ceilingKib: null, optOut: false, shares: 1000 };

/** The limit of a guest: the section naming its uuid, else the one naming it. */
export function limitFor(
  limits: readonly GuestLimit[],
  guest: Pick<GuestInfo, 'name' | 'uuid'>,
): EffectiveLimit {
  const l =
    limits.find((x) => x.match.toLowerCase() === guest.uuid.toLowerCase()) ??
    limits.find((x) => x.match === guest.name);
  return l === undefined
    ? NONE
    : { floorKib: l.floorKib, ceilingKib: l.ceilingKib, optOut: !l.balloon, shares: l.shares ?? 1000 };
}

/**
 * The balloon bounds a policy sees: the larger of the backend's floor (libvirt's guarantee) and the
 * configured one, 0 when neither says (MOM's policies compare against balloon_min); the smaller of
 * the guest's maximum and the configured ceiling. Null when the balloon's size is unknown.
 */
export function balloonBounds(
  reading: { balloon_cur?: number | null; balloon_min?: number | null; balloon_max?: number | null },
  limit: EffectiveLimit,
): { balloon_min: number | null; balloon_max: number | null } {
  const max = reading.balloon_max ?? null;
  const ceiling = limit.ceilingKib === null || max === null ? max : Math.min(max, limit.ceilingKib);
  const known = reading.balloon_cur !== null && reading.balloon_cur !== undefined;
  const floor = Math.max(reading.balloon_min ?? 0, limit.floorKib ?? 0);
  return {
    balloon_min: known ? (ceiling === null ? floor : Math.min(floor, ceiling)) : null,
    balloon_max: ceiling,
  };
}
