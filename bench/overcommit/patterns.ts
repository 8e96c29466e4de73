// The workloads of the overcommit benchmark: for each pattern, what every guest runs. A guest's
// memload follows a shape (working-set size in MiB over a period), and the guests run the same
// shape shifted in time (staggered), so that their peaks meet only some of the time.
//
// The sizes are for 576 MiB guests and scale with --guest-mib. What a guest costs the host cgroup
// besides its working set, measured here (an idle 576 MiB guest with a swap disk, memory.stat of
// its cgroup 20 s after boot): ~168 MiB, all anonymous. That is QEMU itself (~35-45 MiB, plus the
// 32 MiB translation cache as it fills) and the guest memory its kernel and initramfs touched at
// boot (the guest itself reports only ~30 MiB in use, free page reporting returns little of the
// rest). We count GUEST_OVERHEAD_MIB = 170 MiB per guest. With the default 4 guests and a 67%
// budget the cgroup limit is 0.67 x 4 x 576 = 1544 MiB, of which 4 x 170 = 680 MiB go to
// overhead: ~864 MiB remain for the working sets (and page cache) of all four guests.

export const PATTERN_NAMES = ['moderate', 'heavy', 'idle-heavy'] as const;
export type PatternName = (typeof PATTERN_NAMES)[number];

/** The size the numbers below were chosen for. */
export const REFERENCE_GUEST_MIB = 576;
/** Host memory a guest costs besides its working set: QEMU plus the guest's kernel and initramfs. */
export const GUEST_OVERHEAD_MIB = 170;

/** One point of a memload pattern: from `t` seconds on, the working set is `mib`. */
export interface Point {
  t: number;
  mib: number;
}

/** What one guest runs. */
export interface GuestWorkload {
  /** memload's --pattern points (starting at 0) and its --period. */
  points: Point[];
  periodS: number;
  /** memload --free: give pages back when the working set shrinks. */
  free: boolean;
  /** MiB of the guest's swap disk read into its page cache at start (momcache=), 0 for none. */
  cacheMiB: number;
  /** An idle guest: fills its memory once, then holds it without using it. */
  idle: boolean;
}

/**
 * moderate: each guest sits at 60 MiB for 110 s, then at 300 MiB for 130 s (period 240 s), the
 * guests 240/N s apart. With 4 guests, 2 are at their peak most of the time and 3 during 40 s of
 * every 240: the time-averaged demand (4 x 190 + 680 = 1440 MiB) fits the 1544 MiB budget, the
 * 3-peak moments (3 x 300 + 60 + 680 = 1640 MiB) do not. Pages freed by a shrinking working set
 * go back to the guest kernel (--free), and from there to the host (free page reporting).
 */
const MODERATE: Point[] = [
  { t: 0, mib: 60 },
  { t: 110, mib: 300 },
];

/**
 * heavy: 100 MiB for 75 s, then 340 MiB for 165 s (period 240 s), staggered: with 4 guests 3 are
 * at their peak 75% of the time (3 x 340 + 100 + 680 = 1800 MiB) and 2 the rest of it (2 x 340 +
 * 2 x 100 + 680 = 1560 MiB): the demand is over the 1544 MiB budget all the time, by up to 256 MiB.
 */
const HEAVY: Point[] = [
  { t: 0, mib: 100 },
  { t: 75, mib: 340 },
];

/**
 * idle-heavy, the busy guests (the first two of four, the first of fewer): 250 MiB for 60 s,
 * then 440 MiB for 60 s (period 120 s), staggered so that one of the two is at its peak.
 */
const BUSY: Point[] = [
  { t: 0, mib: 250 },
  { t: 60, mib: 440 },
];

/**
 * idle-heavy, the idle guests: at start, 150 MiB of the swap disk are read into the page cache;
 * memload writes 150 MiB once (30 s), then its working set is 0 and the pages are NOT freed (no
 * --free): the guest holds ~300 MiB it does not use. With 4 guests: 2 x (150 + 150) + 250 + 440 +
 * 680 = 1970 MiB, far over the 1544 MiB budget, while the busy guests alone (250 + 440 + 680 =
 * 1370 MiB) would fit.
 */
const IDLE: Point[] = [
  { t: 0, mib: 150 },
  { t: 30, mib: 0 },
];
const IDLE_CACHE_MIB = 150;
/** A period longer than any run, so that the idle guest's pattern never starts over. */
const NO_LOOP_S = 1_000_000;

/** The working-set size of `points` (looping every periodS) at time t. */
export function sizeAt(points: readonly Point[], periodS: number, t: number): number {
  const u = ((t % periodS) + periodS) % periodS;
  let mib = points[0]?.mib ?? 0;
  for (const p of points) if (p.t <= u) mib = p.mib;
  return mib;
}

/** `points` delayed by `delayS` within the loop: the shape a guest started `delayS` later follows. */
export function delayPattern(points: readonly Point[], periodS: number, delayS: number): Point[] {
  const d = ((delayS % periodS) + periodS) % periodS;
  if (d === 0) return points.map((p) => ({ ...p }));
  const moved = points.map((p) => ({ t: (p.t + d) % periodS, mib: p.mib }));
  const start = { t: 0, mib: sizeAt(points, periodS, periodS - d) };
  const all = [start, ...moved.filter((p) => p.t !== 0), ...moved.filter((p) => p.t === 0)];
  // A point moved onto 0 replaces the start value; keep the last one given for each time.
  const byTime = new Map<number, number>();
  for (const p of all) byTime.set(p.t, p.mib);
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([t, mib]) => ({ t, mib }));
}

function scaled(points: readonly Point[], factor: number): Point[] {
  return points.map((p) => ({ t: p.t, mib: Math.round(p.mib * factor) }));
}

/** How many of `guests` guests are busy in idle-heavy: two of four or more, else one. */
export function busyGuests(guests: number): number {
  return guests >= 4 ? 2 : 1;
}

/** Every guest's workload for a pattern. */
export function workloads(pattern: PatternName, guests: number, guestMiB: number): GuestWorkload[] {
  const factor = guestMiB / REFERENCE_GUEST_MIB;
  const staggered = (shape: Point[], periodS: number, count: number, i: number): GuestWorkload => ({
    points: scaled(delayPattern(shape, periodS, (i * periodS) / count), factor),
    periodS,
    free: true,
    cacheMiB: 0,
    idle: false,
  });
  return Array.from({ length: guests }, (_, i): GuestWorkload => {
    if (pattern === 'moderate') return staggered(MODERATE, 240, guests, i);
    if (pattern === 'heavy') return staggered(HEAVY, 240, guests, i);
    const busy = busyGuests(guests);
    if (i < busy) return staggered(BUSY, 120, busy, i);
    return {
      points: scaled(IDLE, factor),
      periodS: NO_LOOP_S,
      free: false,
      cacheMiB: Math.round(IDLE_CACHE_MIB * factor),
      idle: true,
    };
  });
}

/** memload's arguments for a workload. */
export function memloadArgs(w: GuestWorkload): string[] {
  const args = ['--pattern', w.points.map((p) => `${p.t}:${p.mib}`).join(','), '--period', String(w.periodS)];
  if (w.free) args.push('--free');
  return args;
}

/**
 * What the guests ask of the host over one period of the longest loop (1 s steps): the mean and
 * the peak of the working sets plus page cache plus GUEST_OVERHEAD_MIB per guest, in MiB. An idle
 * guest's pages stay resident after its working set drops, so it counts at its largest size.
 */
export function hostDemand(ws: readonly GuestWorkload[]): { meanMiB: number; peakMiB: number } {
  const horizon = Math.max(...ws.map((w) => (w.idle ? 1 : w.periodS)));
  let sum = 0;
  let peak = 0;
  for (let t = 0; t < horizon; t++) {
    let total = 0;
    for (const w of ws) {
      const held = w.idle ? Math.max(...w.points.map((p) => p.mib)) : sizeAt(w.points, w.periodS, t);
      total += held + w.cacheMiB + GUEST_OVERHEAD_MIB;
    }
    sum += total;
    peak = Math.max(peak, total);
  }
  return { meanMiB: sum / horizon, peakMiB: peak };
}
