// Watches the host between policy cycles, cheaply (one reading of its memory and pressure every
// pressure-check-interval), and asks for a cycle at once when memory pressure rises, so that a
// policy reacts within about a second instead of once per policy-engine-interval. Three signs
// tell pressure: the host swapped pages out since the last look, tasks stalled on memory for more
// than a share of the time (PSI), or the host's freeable memory fell under a threshold. It wakes
// when things get worse only: on the first sign after a calm look, again when little free memory
// turns into paging or stalling, and again each time freeable memory falls by a further quarter of
// the threshold (a working set growing by hundreds of MiB a second passes through several looks
// on its way to the limit); while pressure holds steady, the policy runs on its interval.
//
// Why polling and not PSI triggers (poll(2) on /proc/pressure/memory): Node has no poll(2) on a
// file descriptor without a native addon, and the kernel refuses sub-2-second trigger windows to
// processes without CAP_SYS_RESOURCE (and any trigger on /proc/pressure here). One small reading
// twice a second costs well under a millisecond, and needs no privilege.
import type { HostReading } from '../fields/catalogue.js';

export interface PressureWatchSettings {
  /** Wake when freeable memory (mem_free / mem_available) falls under this fraction. */
  readonly wakeFree: number;
  /** Wake when tasks stalled on memory more than this share of the time since the last look. */
  readonly wakeStall: number;
}

/** A sign of pressure and how serious it is: 1 for little free memory, 2 for paging or stalling. */
interface Sign {
  readonly level: 1 | 2;
  readonly why: string;
}

export class PressureWatch {
  private last: { at: number; swapOut: number | null; stallUs: number | null } | undefined;
  private level = 0;
  /** The freeable share at the last wake while pressure lasts (null: calm, or not known). */
  private wokenFree: number | null = null;
  /** The state before the latest check, for refused(). */
  private before: { level: number; wokenFree: number | null } = { level: 0, wokenFree: null };

  constructor(private readonly settings: PressureWatchSettings) {}

  /**
   * Looks at a reading taken at `now` (seconds); returns why to wake, or null. It wakes when the
   * host's state gets worse: from calm to any sign, and from little free memory to paging or
   * stalling (the moment a spike turns into swapping, often seconds after free memory first ran
   * low, is when the policy must act), and from little free memory to less: a further quarter of
   * wakeFree (2% of the host at the default 8%) gone since the last wake.
   */
  check(r: HostReading, now: number): string | null {
    const sign = this.sign(r, now);
    const level = sign?.level ?? 0;
    const free = freeShare(r);
    const deeper =
      sign !== null &&
      free !== null &&
      this.wokenFree !== null &&
      free <= this.wokenFree - this.settings.wakeFree / 4;
    const wake = sign !== null && (level > this.level || deeper) ? sign.why : null;
    this.before = { level: this.level, wokenFree: this.wokenFree };
    this.level = level;
    if (sign === null) this.wokenFree = null;
    else if (wake !== null || this.wokenFree === null) this.wokenFree = free;
    return wake;
  }

  /**
   * The latest check's wake was not acted on (an early cycle ran too recently): forget it, so that
   * the next look wakes again if the sign is still there.
   */
  refused(): void {
    this.level = this.before.level;
    this.wokenFree = this.before.wokenFree;
  }

  /** The most serious sign of pressure in this reading, or null when there is none. */
  private sign(r: HostReading, now: number): Sign | null {
    const prev = this.last;
    const swapOut = r.swap_out ?? null;
    const stallUs = r.psi_some_total ?? null;
    this.last = { at: now, swapOut, stallUs };
    const paging = prev === undefined || now <= prev.at ? null : this.paging(prev, swapOut, stallUs, now);
    if (paging !== null) return { level: 2, why: paging };
    const free = freeShare(r);
    if (free !== null && free < this.settings.wakeFree) {
      const why = `freeable memory ${round1(100 * free)}% < ${round1(100 * this.settings.wakeFree)}%`;
      return { level: 1, why };
    }
    return null;
  }

  /** Why the host is paging or stalling since the previous look, or null. */
  private paging(
    prev: { at: number; swapOut: number | null; stallUs: number | null },
    swapOut: number | null,
    stallUs: number | null,
    now: number,
  ): string | null {
    if (swapOut !== null && prev.swapOut !== null && swapOut > prev.swapOut) {
      return `the host swapped out ${swapOut - prev.swapOut} pages in ${round1(now - prev.at)} s`;
    }
    if (stallUs !== null && prev.stallUs !== null && stallUs >= prev.stallUs) {
      const share = (stallUs - prev.stallUs) / 1e6 / (now - prev.at);
      if (share > this.settings.wakeStall)
        return `tasks stalled on memory ${round1(100 * share)}% of the last ${round1(now - prev.at)} s (PSI)`;
    }
    return null;
  }
}

/** Freeable memory as a share of the total (mem_free / mem_available), or null. */
function freeShare(r: HostReading): number | null {
  const total = r.mem_available ?? null;
  const free = r.mem_free ?? null;
  return total !== null && free !== null && total > 0 ? free / total : null;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
