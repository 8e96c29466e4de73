// The dashboard's history, in fixed-size columns (typed arrays) that wrap around, so it costs a
// fixed amount of memory however long momd runs:
// - the host's charted series (series.ts) at every policy cycle, for an hour;
// - each guest's, over the same hour in GUEST_POINTS points: every cycle at the default
//   10-second interval, every k-th cycle at shorter ones, so that a thousand guests cost about
//   10 MiB whatever the interval.
// Built from the engine's events only; the page loads it once (GET /v1/timeline) and then
// follows the points as they come (the event stream's `timeline` events).
import type { Sample } from '../entities/entity.js';
import type { EngineEvents } from '../engine/events.js';
import { GUEST_SERIES, HOST_SERIES, labels, type SeriesLabel, type SeriesSpec } from './series.js';

/** Points kept per guest (an hour at 10-second cycles). */
export const GUEST_POINTS = 361;

export interface TimelineOptions {
  /** Host points kept (a point per policy cycle). */
  readonly capacity: number;
  /** Guest points kept (default GUEST_POINTS); they cover at least the host's span. */
  readonly guestCapacity?: number;
  /** Wall clock in milliseconds (tests pass their own). */
  readonly now?: () => number;
}

type Values = readonly (number | null)[];

/** One cycle's values: series in the order of `series.host` / `series.guest`; null: not known. */
export interface TimelinePoint {
  /** The cycle's number since momd started: a client asks for what came after the last it has. */
  readonly seq: number;
  /** Wall-clock milliseconds. */
  readonly t: number;
  /** The engine's clock in seconds. */
  readonly at: number;
  readonly host: Values;
  /** Every guest's values on the cycles that keep a guest point (see guestStride); else empty. */
  readonly guests: Readonly<Record<string, Values>>;
}

/** The kept history, column by column (oldest first): what GET /v1/timeline serves. */
export interface TimelineView {
  readonly capacity: number;
  readonly guestCapacity: number;
  /** A guest point is kept every guestStride cycles. */
  readonly guestStride: number;
  readonly series: { readonly host: readonly SeriesLabel[]; readonly guest: readonly SeriesLabel[] };
  /** The seq of the newest cycle (-1: none yet). */
  readonly last: number;
  readonly t: readonly number[];
  readonly at: readonly number[];
  /** One column per host series. */
  readonly host: readonly Values[];
  /** The guests' time axis. */
  readonly guestT: readonly number[];
  readonly guestAt: readonly number[];
  /** Per guest asked for, one column per guest series, on the guests' time axis. */
  readonly guests: Readonly<Record<string, readonly Values[]>>;
}

/** Float32: charts need no more precision, and a thousand guests' hour costs half the memory. */
type Columns = Float32Array[];

/**
 * Host points for an hour at the policy interval (at least 360, at most 3,601: an hour when the
 * policy runs every second or slower).
 */
export function timelineCapacity(policyIntervalS: number): number {
  const hour = Math.ceil(3600 / Math.max(policyIntervalS, 1)) + 1;
  return Math.min(3601, Math.max(360, hour));
}

/** The time axis of a ring: which cycle, when, in each slot. */
class Axis {
  readonly seq: Float64Array;
  readonly t: Float64Array;
  readonly at: Float64Array;
  private count = 0;

  constructor(readonly capacity: number) {
    this.seq = new Float64Array(capacity);
    this.t = new Float64Array(capacity);
    this.at = new Float64Array(capacity);
  }

  /** Takes the next slot for cycle `seq`; returns it. */
  push(seq: number, t: number, at: number): number {
    const slot = this.count % this.capacity;
    this.seq[slot] = seq;
    this.t[slot] = t;
    this.at[slot] = at;
    this.count++;
    return slot;
  }

  /** The slots of the cycles after `after`, oldest first. */
  slotsAfter(after: number): number[] {
    const slots: number[] = [];
    for (let i = Math.max(0, this.count - this.capacity); i < this.count; i++) {
      const slot = i % this.capacity;
      if ((this.seq[slot] ?? -1) > after) slots.push(slot);
    }
    return slots;
  }
}

export class Timeline {
  private readonly now: () => number;
  private readonly hostAxis: Axis;
  private readonly guestAxis: Axis;
  private readonly guestStride: number;
  private readonly host: Columns;
  private readonly guestColumns = new Map<string, Columns>();
  private latestHost: Sample | null = null;
  private readonly latestGuest = new Map<string, Sample | null>();
  /** Cycles recorded so far. */
  private count = 0;
  private readonly listeners = new Set<(p: TimelinePoint) => void>();

  constructor(options: TimelineOptions) {
    const guestCapacity = options.guestCapacity ?? GUEST_POINTS;
    for (const n of [options.capacity, guestCapacity])
      if (!Number.isInteger(n) || n < 2) throw new RangeError('timeline capacity must be an integer >= 2');
    this.now = options.now ?? Date.now;
    this.hostAxis = new Axis(options.capacity);
    this.host = columns(HOST_SERIES.length, options.capacity);
    this.guestStride = Math.max(1, Math.ceil((options.capacity - 1) / (guestCapacity - 1)));
    this.guestAxis = new Axis(guestCapacity);
  }

  /** Listens to an engine's events; returns the function that stops listening. */
  attach(events: EngineEvents): () => void {
    const offs = [
      events.on('collection', (e) => {
        if (e.scope === 'host') this.latestHost = e.sample;
        else this.latestGuest.set(e.entity, e.sample);
      }),
      events.on('guest', (e) => {
        if (e.change !== 'gone') return;
        this.latestGuest.delete(e.entity);
        this.guestColumns.delete(e.entity);
      }),
      events.on('cycle', (e) => this.record(e.at)),
    ];
    return () => offs.forEach((off) => off());
  }

  /** The points as they are recorded (the event stream). */
  subscribe(listener: (p: TimelinePoint) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The points after cycle `after` (all kept by default), with the host's series and those of the
   * named guests (none by default: a page with a hundred guests asks for the one it shows).
   */
  view(opts: { after?: number; guests?: readonly string[] } = {}): TimelineView {
    const after = opts.after ?? -1;
    const hostSlots = this.hostAxis.slotsAfter(after);
    const guestSlots = this.guestAxis.slotsAfter(after);
    const pick =
      (slots: readonly number[]) =>
      (col: Float32Array | Float64Array): (number | null)[] =>
        slots.map((i) => orNull(col[i]));
    const guests: Record<string, (number | null)[][]> = {};
    for (const name of opts.guests ?? []) {
      const cols = this.guestColumns.get(name);
      if (cols !== undefined) guests[name] = cols.map(pick(guestSlots));
    }
    const times = (axis: Axis, slots: readonly number[]) => ({
      t: slots.map((i) => axis.t[i] ?? 0),
      at: slots.map((i) => axis.at[i] ?? 0),
    });
    const h = times(this.hostAxis, hostSlots);
    const g = times(this.guestAxis, guestSlots);
    return {
      capacity: this.hostAxis.capacity,
      guestCapacity: this.guestAxis.capacity,
      guestStride: this.guestStride,
      series: { host: labels(HOST_SERIES), guest: labels(GUEST_SERIES) },
      last: this.count - 1,
      t: h.t,
      at: h.at,
      host: this.host.map(pick(hostSlots)),
      guestT: g.t,
      guestAt: g.at,
      guests,
    };
  }

  private record(at: number): void {
    const seq = this.count++;
    const t = this.now();
    const host = write(this.host, this.hostAxis.push(seq, t, at), HOST_SERIES, this.latestHost);
    const guests: Record<string, Values> = {};
    if (seq % this.guestStride === 0) {
      const slot = this.guestAxis.push(seq, t, at);
      for (const [name, sample] of this.latestGuest) {
        let cols = this.guestColumns.get(name);
        if (cols === undefined) {
          cols = columns(GUEST_SERIES.length, this.guestAxis.capacity);
          this.guestColumns.set(name, cols);
        }
        guests[name] = write(cols, slot, GUEST_SERIES, sample);
      }
    }
    const point: TimelinePoint = { seq, t, at, host, guests };
    for (const l of this.listeners) l(point);
  }
}

/** Columns that start empty (NaN: no value). */
function columns(n: number, capacity: number): Columns {
  return Array.from({ length: n }, () => new Float32Array(capacity).fill(NaN));
}

function write(
  cols: Columns,
  slot: number,
  series: readonly SeriesSpec[],
  sample: Sample | null,
): (number | null)[] {
  return series.map((s, i) => {
    const v = sample === null ? null : s.read(sample);
    const col = cols[i];
    if (col !== undefined) col[slot] = v ?? NaN;
    return v;
  });
}

const orNull = (v: number | undefined): number | null => (v === undefined || Number.isNaN(v) ? null : v);
