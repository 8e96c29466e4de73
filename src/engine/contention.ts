// Contention (seed 001: "any over-commitment policy should include a plan for resolving resource
// contention"). Ballooning can only move memory between guests; when every guest has given all it
// can and the host still stalls, no policy decision helps: someone must move or stop a guest.
// momd notices and escalates instead of looking on. A contention episode starts when, for
// `afterS` seconds, the host's memory PSI `full` (avg10) is at or over `psiFull` percent and every
// guest is exhausted (its balloon at its floor, or itself short of memory: swapping in); it ends
// when PSI full has stayed under half the threshold for `afterS` seconds. Each start is said at
// error level with the facts, emitted for the API and the metrics, and handed to the
// administrator's hook command (e.g. to migrate a guest with the cluster's own tools).
import type { Snapshot } from '../entities/snapshot.js';
import { MIN_BALLOON_KIB } from '../hypervisors/hypervisor.js';

export interface ContentionSettings {
  /** Host memory PSI full avg10 (percent) at or over which the host stalls; 0 turns it off. */
  readonly psiFull: number;
  /** Seconds the condition must hold before an episode starts (and calm before it ends). */
  readonly afterS: number;
}

/** A guest's balloon within this of its floor counts as at its floor (KiB). */
export const AT_FLOOR_SLACK_KIB = 1024;

export interface GuestFacts {
  readonly name: string;
  readonly balloonKib: number | null;
  readonly floorKib: number | null;
  readonly swapInRate: number | null;
}

/** What an episode's start reports: the host's stall and every guest's state. */
export interface ContentionFacts {
  readonly psiFull: number;
  readonly sinceS: number;
  readonly guests: readonly GuestFacts[];
}

export type ContentionChange =
  | { readonly change: 'started'; readonly facts: ContentionFacts }
  | { readonly change: 'ended'; readonly durationS: number }
  | null;

const latest = (stats: readonly Readonly<Record<string, unknown>>[]): Readonly<Record<string, unknown>> =>
  stats[stats.length - 1] ?? {};
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A guest that can give nothing more: at its floor, or short of memory itself. */
export function exhausted(g: GuestFacts): boolean {
  if (g.swapInRate !== null && g.swapInRate > 0) return true;
  if (g.balloonKib === null) return false;
  // No backend goes under MIN_BALLOON_KIB, whatever the configured floor (0 when none).
  return g.balloonKib <= Math.max(g.floorKib ?? 0, MIN_BALLOON_KIB) + AT_FLOOR_SLACK_KIB;
}

export function guestFacts(snapshot: Snapshot): GuestFacts[] {
  return snapshot.guests.map((g) => {
    const s = latest(g.stats);
    return {
      name: g.properties.name,
      balloonKib: num(s['balloon_cur']),
      floorKib: num(s['balloon_min']),
      swapInRate: num(s['swap_in_rate']),
    };
  });
}

/** Follows the condition cycle by cycle and says when an episode starts and ends. */
export class ContentionWatch {
  /** Since when the condition holds (engine seconds), or null. */
  private holdsSince: number | null = null;
  /** Since when PSI full is calm during an episode, or null. */
  private calmSince: number | null = null;
  private episodeSince: number | null = null;

  constructor(readonly settings: ContentionSettings) {}

  get active(): boolean {
    return this.episodeSince !== null;
  }

  /** When the episode on now started (engine seconds), or null when none is on. */
  get since(): number | null {
    return this.episodeSince;
  }

  /** One cycle's snapshot at `at` (engine seconds). */
  observe(snapshot: Snapshot, at: number): ContentionChange {
    if (this.settings.psiFull <= 0) return null;
    const psi = num(latest(snapshot.host.stats)['psi_full_avg10']);
    const guests = guestFacts(snapshot);
    if (this.episodeSince !== null) {
      const calm = psi === null || psi < this.settings.psiFull / 2;
      this.calmSince = calm ? (this.calmSince ?? at) : null;
      if (this.calmSince === null || at - this.calmSince < this.settings.afterS) return null;
      const durationS = at - this.episodeSince;
      this.episodeSince = null;
      this.calmSince = null;
      this.holdsSince = null;
      return { change: 'ended', durationS };
    }
    const holds =
      psi !== null && psi >= this.settings.psiFull && guests.length > 0 && guests.every(exhausted);
    this.holdsSince = holds ? (this.holdsSince ?? at) : null;
    if (this.holdsSince === null || at - this.holdsSince < this.settings.afterS) return null;
    this.episodeSince = at;
    return { change: 'started', facts: { psiFull: psi ?? 0, sinceS: at - this.holdsSince, guests } };
  }
}
