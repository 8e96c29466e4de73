// The figures of one run, computed from what was recorded: the guests' stamped console lines,
// momd's JSON log, the cgroup's usage every 200 ms and the host's counters at the window's ends.
// Pure functions: nothing here touches a guest or a file.
import {
  isGuestOomKill,
  isMemloadExit,
  parseMemloadLine,
  parseVmstatLine,
  within,
  type GuestVmstat,
  type Stamped,
} from './serial.js';

/** Pages of 4 KiB per MiB. */
const PAGES_PER_MIB = 256;
const MiB = 1024 * 1024;
/** A pressure spike: the cgroup's usage crossing this share of its limit from below. */
export const SPIKE_SHARE = 0.95;

export type LogLine = Record<string, unknown>;

export interface UsageSample {
  t: number;
  bytes: number;
}

/** Machine-wide counters: /proc/vmstat swap pages and /proc/pressure/memory stall totals (µs). */
export interface HostCounters {
  t: number;
  pswpin: number;
  pswpout: number;
  /** Pages zswap stored (compressed in RAM instead of written to the swap device) and loaded
   * back: /proc/vmstat zswpout/zswpin, 0 in a kernel without zswap. */
  zswpin: number;
  zswpout: number;
  psiSomeUs: number;
  psiFullUs: number;
}

export interface GuestRecord {
  name: string;
  lines: Stamped[];
  /** QEMU ended before the benchmark stopped it (killed by the cgroup's OOM killer, or crashed). */
  exitedDuringRun: boolean;
  /** The balloon's size at the window's end (MiB), when it could be asked. */
  balloonMiB: number | null;
}

/**
 * An idle guest (idle-heavy) as the benchmark read it through its own QMP socket: its free memory
 * and page cache when it went idle, and its balloon's size 60 s later (MiB). Null where a read
 * failed.
 */
export interface IdleReading {
  name: string;
  freeMiB: number | null;
  cacheMiB: number | null;
  maxMiB: number;
  balloonLaterMiB: number | null;
}

export interface RunRecord {
  window: { start: number; end: number };
  /** The idle guests, when the pattern has some. */
  idle?: IdleReading[];
  guests: GuestRecord[];
  momdLog: LogLine[];
  usage: UsageSample[];
  limitBytes: number | null;
  hostStart: HostCounters;
  hostEnd: HostCounters;
}

export interface GuestMetrics {
  name: string;
  /** Mean of memload's throughput lines in the window; null when it printed none. */
  throughputMiBs: number | null;
  swapInMiB: number;
  swapOutMiB: number;
  majorFaults: number;
  /** Seconds of the window in which the guest swapped in, and seconds observed. */
  pagingS: number;
  observedS: number;
  oomKills: number;
  memloadExited: boolean;
  qemuExited: boolean;
  balloonMiB: number | null;
}

export interface BalloonAction {
  t: number;
  entity: string;
  oldKiB: number;
  newKiB: number;
}

export interface RunMetrics {
  throughputMiBs: number;
  guestSwapInMiB: number;
  guestSwapOutMiB: number;
  guestMajorFaults: number;
  guestPagingShare: number | null;
  hostSwapInMiB: number;
  hostSwapOutMiB: number;
  /** Host pages zswap compressed instead of writing them to the swap device (they are not in
   * hostSwapOutMiB, which counts writes to the device), and loaded back. */
  hostZswapInMiB: number;
  hostZswapOutMiB: number;
  psiSomePct: number;
  psiFullPct: number;
  guestOomKills: number;
  memloadExits: number;
  qemuKilled: number;
  balloonOps: number;
  balloonShrinks: number;
  spikes: number;
  reactionS: number | null;
  /** Median seconds from a spike to the end of momd's first policy cycle after it. */
  wakeS: number | null;
  meanUsageMiB: number | null;
  peakUsageMiB: number | null;
  /** The slowest guest's throughput (MiB/s): a starved guest shows here. */
  minGuestThroughputMiBs: number | null;
  /** Idle guests: their free memory when they went idle, and how much of it momd's balloons had
   * taken 60 s later (MiB, and the share of the free memory); null without idle guests. */
  idleFreeMiB: number | null;
  idleReclaimedMiB: number | null;
  idleReclaimedShare: number | null;
}

/** The slowest guest's throughput, idle guests left out; a guest that printed none counts 0. */
export function minBusyThroughput(
  guests: readonly GuestMetrics[],
  idle: readonly IdleReading[] | undefined,
): number | null {
  const idleNames = new Set((idle ?? []).map((r) => r.name));
  const busy = guests.filter((g) => !idleNames.has(g.name));
  return busy.length === 0 ? null : Math.min(...busy.map((g) => g.throughputMiBs ?? 0));
}

/** What balloons took from the idle guests within 60 s, against their free memory. */
export function idleReclaim(idle: readonly IdleReading[] | undefined): {
  idleFreeMiB: number | null;
  idleReclaimedMiB: number | null;
  idleReclaimedShare: number | null;
} {
  const read = (idle ?? []).filter(
    (r): r is IdleReading & { freeMiB: number; balloonLaterMiB: number } =>
      r.freeMiB !== null && r.balloonLaterMiB !== null,
  );
  if (read.length === 0) return { idleFreeMiB: null, idleReclaimedMiB: null, idleReclaimedShare: null };
  const free = read.reduce((s, r) => s + r.freeMiB, 0);
  const taken = read.reduce((s, r) => s + Math.max(0, r.maxMiB - r.balloonLaterMiB), 0);
  return { idleFreeMiB: free, idleReclaimedMiB: taken, idleReclaimedShare: free > 0 ? taken / free : null };
}

export function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length;
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The guest's paging counters with their host times, in order. */
function vmstats(lines: readonly Stamped[]): Array<GuestVmstat & { t: number }> {
  const out: Array<GuestVmstat & { t: number }> = [];
  for (const l of lines) {
    const v = parseVmstatLine(l.line);
    if (v) out.push({ ...v, t: l.t });
  }
  return out;
}

/** One guest's figures over the window [from, to] (OOM kills over the whole run). */
export function guestMetrics(g: GuestRecord, from: number, to: number): GuestMetrics {
  const inWindow = within(g.lines, from, to);
  const throughputs = inWindow.flatMap((l) => parseMemloadLine(l.line)?.throughputMiBs ?? []);
  const v = vmstats(inWindow);
  const first = v[0];
  const last = v.at(-1);
  let pagingMs = 0;
  let observedMs = 0;
  for (let i = 1; i < v.length; i++) {
    const a = v[i - 1] as GuestVmstat & { t: number };
    const b = v[i] as GuestVmstat & { t: number };
    observedMs += b.t - a.t;
    if (b.pswpin > a.pswpin) pagingMs += b.t - a.t;
  }
  return {
    name: g.name,
    throughputMiBs: mean(throughputs),
    swapInMiB: first && last ? (last.pswpin - first.pswpin) / PAGES_PER_MIB : 0,
    swapOutMiB: first && last ? (last.pswpout - first.pswpout) / PAGES_PER_MIB : 0,
    majorFaults: first && last ? last.pgmajfault - first.pgmajfault : 0,
    pagingS: pagingMs / 1000,
    observedS: observedMs / 1000,
    oomKills: g.lines.filter((l) => isGuestOomKill(l.line)).length,
    memloadExited: g.lines.some((l) => isMemloadExit(l.line)),
    qemuExited: g.exitedDuringRun,
    balloonMiB: g.balloonMiB,
  };
}

function numberField(l: LogLine, key: string): number | undefined {
  const v = l[key];
  return typeof v === 'number' ? v : undefined;
}

/** momd's applied balloon changes (log lines of controller Balloon whose message has an arrow). */
export function balloonActions(log: readonly LogLine[]): BalloonAction[] {
  const out: BalloonAction[] = [];
  for (const l of log) {
    if (l['controller'] !== 'Balloon' || !String(l['msg'] ?? '').includes('→')) continue;
    const t = numberField(l, 'time');
    const oldKiB = numberField(l, 'old');
    const newKiB = numberField(l, 'new');
    if (t === undefined || oldKiB === undefined || newKiB === undefined) continue;
    out.push({ t, entity: String(l['entity']), oldKiB, newKiB });
  }
  return out;
}

/** Times at which usage crossed SPIKE_SHARE of the limit from below, within [from, to]. */
export function spikes(
  usage: readonly UsageSample[],
  limitBytes: number,
  from: number,
  to: number,
): number[] {
  const line = limitBytes * SPIKE_SHARE;
  const out: number[] = [];
  for (let i = 1; i < usage.length; i++) {
    const a = usage[i - 1] as UsageSample;
    const b = usage[i] as UsageSample;
    if (a.bytes < line && b.bytes >= line && b.t >= from && b.t <= to) out.push(b.t);
  }
  return out;
}

/** For each spike, seconds until the first of `times` (ms, ascending) at or after it. */
function delaysAfter(spikeTimes: readonly number[], times: readonly number[]): number[] {
  return spikeTimes.flatMap((s) => {
    const next = times.find((t) => t >= s);
    return next === undefined ? [] : [(next - s) / 1000];
  });
}

/** For each spike, seconds until momd's first shrinking balloon action at or after it. */
export function reactionTimes(spikeTimes: readonly number[], actions: readonly BalloonAction[]): number[] {
  return delaysAfter(
    spikeTimes,
    actions.filter((a) => a.newKiB < a.oldKiB).map((a) => a.t),
  );
}

/** The end times of momd's policy cycles (its log lines with `cycle: true`). */
export function cycleTimes(log: readonly LogLine[]): number[] {
  return log.flatMap((l) => (l['cycle'] === true ? (numberField(l, 'time') ?? []) : []));
}

/**
 * For each spike, seconds until momd's first policy cycle ended after it: how soon momd looked
 * at the pressure, whatever the policy then decided (taking nothing can be the right answer when
 * every guest uses its memory, and then there is no shrink for reactionTimes to time).
 */
export function wakeTimes(spikeTimes: readonly number[], cycles: readonly number[]): number[] {
  return delaysAfter(spikeTimes, cycles);
}

/** Percent of the wall time between two readings that a PSI total (µs) grew by. */
export function psiPercent(fromUs: number, toUs: number, fromMs: number, toMs: number): number {
  const wallUs = (toMs - fromMs) * 1000;
  return wallUs > 0 ? (100 * (toUs - fromUs)) / wallUs : 0;
}

/** All figures of one run. */
export function runMetrics(r: RunRecord): { run: RunMetrics; guests: GuestMetrics[] } {
  const { start, end } = r.window;
  const guests = r.guests.map((g) => guestMetrics(g, start, end));
  const sum = (f: (g: GuestMetrics) => number): number => guests.reduce((s, g) => s + f(g), 0);
  const observed = sum((g) => g.observedS);
  const actions = balloonActions(r.momdLog).filter((a) => a.t >= start && a.t <= end);
  const spikeTimes = r.limitBytes === null ? [] : spikes(r.usage, r.limitBytes, start, end);
  const usage = r.usage.filter((u) => u.t >= start && u.t <= end).map((u) => u.bytes / MiB);
  return {
    guests,
    run: {
      throughputMiBs: sum((g) => g.throughputMiBs ?? 0),
      guestSwapInMiB: sum((g) => g.swapInMiB),
      guestSwapOutMiB: sum((g) => g.swapOutMiB),
      guestMajorFaults: sum((g) => g.majorFaults),
      guestPagingShare: observed > 0 ? sum((g) => g.pagingS) / observed : null,
      hostSwapInMiB: (r.hostEnd.pswpin - r.hostStart.pswpin) / PAGES_PER_MIB,
      hostSwapOutMiB: (r.hostEnd.pswpout - r.hostStart.pswpout) / PAGES_PER_MIB,
      hostZswapInMiB: (r.hostEnd.zswpin - r.hostStart.zswpin) / PAGES_PER_MIB,
      hostZswapOutMiB: (r.hostEnd.zswpout - r.hostStart.zswpout) / PAGES_PER_MIB,
      psiSomePct: psiPercent(r.hostStart.psiSomeUs, r.hostEnd.psiSomeUs, r.hostStart.t, r.hostEnd.t),
      psiFullPct: psiPercent(r.hostStart.psiFullUs, r.hostEnd.psiFullUs, r.hostStart.t, r.hostEnd.t),
      guestOomKills: sum((g) => g.oomKills),
      memloadExits: guests.filter((g) => g.memloadExited).length,
      qemuKilled: guests.filter((g) => g.qemuExited).length,
      balloonOps: actions.length,
      balloonShrinks: actions.filter((a) => a.newKiB < a.oldKiB).length,
      spikes: spikeTimes.length,
      reactionS: median(reactionTimes(spikeTimes, balloonActions(r.momdLog))),
      wakeS: median(wakeTimes(spikeTimes, cycleTimes(r.momdLog))),
      meanUsageMiB: mean(usage),
      peakUsageMiB: usage.length > 0 ? Math.max(...usage) : null,
      minGuestThroughputMiBs: minBusyThroughput(guests, r.idle),
      ...idleReclaim(r.idle),
    },
  };
}
