// The dashboard's history: one point per policy cycle with the host's and every guest's charted
// series (series.ts), in fixed-size columns (typed arrays) that wrap around, so an hour or more of
// history costs a fixed amount of memory however long momd runs. Built from the engine's events
// only; the page loads it once (GET /v1/timeline) and then follows the points as they come (the
// event stream's `timeline` events).
import type { Sample } from '../entities/entity.js';
import type { EngineEvents } from '../engine/events.js';
import { GUEST_SERIES, HOST_SERIES, labels, type SeriesLabel, type SeriesSpec } from './series.js';

export interface TimelineOptions {
  /** Points kept (a point per policy cycle). */
  readonly capacity: number;
  /** Wall clock in milliseconds (tests pass their own). */
  readonly now?: () => number;
}

/** One cycle's values: series in the order of `series.host` / `series.guest`; null: not known. */
export interface TimelinePoint {
  /** The point's number since momd started: a client asks for what came after the last it has. */
  readonly seq: number;
  /** Wall-clock milliseconds. */
  readonly t: number;
  /** The engine's clock in seconds. */
  readonly at: number;
  readonly host: readonly (number | null)[];
  readonly guests: Readonly<Record<string, readonly (number | null)[]>>;
}

/** The kept history, column by column (oldest first): what GET /v1/timeline serves. */
export interface TimelineView {
  readonly capacity: number;
  readonly series: { readonly host: readonly SeriesLabel[]; readonly guest: readonly SeriesLabel[] };
  /** The seq of the newest point (-1: none yet). */
  readonly last: number;
  readonly t: readonly number[];
  readonly at: readonly number[];
  /** One column per host series. */
  readonly host: readonly (readonly (number | null)[])[];
  /** Per guest asked for, one column per guest series. */
  readonly guests: Readonly<Record<string, readonly (readonly (number | null)[])[]>>;
}

/** Float32: charts need no more precision, and a hundred guests' hour costs half the memory. */
type Columns = Float32Array[];

/**
 * Points for an hour at the policy interval (at least 360, at most 3,600: an hour when the policy
 * runs every second or slower).
 */
export function timelineCapacity(policyIntervalS: number): number {
  const hour = Math.ceil(3600 / Math.max(policyIntervalS, 1)) + 1;
  return Math.min(3601, Math.max(360, hour));
}

export class Timeline {
  private readonly now: () => number;
  private readonly capacity: number;
  private readonly t: Float64Array;
  private readonly at: Float64Array;
  private readonly host: Columns;
  private readonly guestColumns = new Map<string, Columns>();
  private latestHost: Sample | null = null;
  private readonly latestGuest = new Map<string, Sample | null>();
  /** Points written so far; the next one goes to slot `count % capacity`. */
  private count = 0;
  private readonly listeners = new Set<(p: TimelinePoint) => void>();

  constructor(options: TimelineOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 2)
      throw new RangeError('timeline capacity must be an integer >= 2');
    this.capacity = options.capacity;
    this.now = options.now ?? Date.now;
    this.t = new Float64Array(this.capacity);
    this.at = new Float64Array(this.capacity);
    this.host = columns(HOST_SERIES.length, this.capacity);
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
   * The points after seq `after` (all kept by default), with the host's series and those of the
   * named guests (none by default: a page with a hundred guests asks for the one it shows).
   */
  view(opts: { after?: number; guests?: readonly string[] } = {}): TimelineView {
    const oldest = Math.max(0, this.count - this.capacity);
    const from = Math.max(oldest, (opts.after ?? -1) + 1);
    const slots: number[] = [];
    for (let seq = from; seq < this.count; seq++) slots.push(seq % this.capacity);
    const pick = (col: Float32Array): (number | null)[] => slots.map((i) => orNull(col[i]));
    const guests: Record<string, (number | null)[][]> = {};
    for (const name of opts.guests ?? []) {
      const cols = this.guestColumns.get(name);
      if (cols !== undefined) guests[name] = cols.map(pick);
    }
    return {
      capacity: this.capacity,
      series: { host: labels(HOST_SERIES), guest: labels(GUEST_SERIES) },
      last: this.count - 1,
      t: slots.map((i) => this.t[i] ?? 0),
      at: slots.map((i) => this.at[i] ?? 0),
      host: this.host.map(pick),
      guests,
    };
  }

  private record(at: number): void {
    const slot = this.count % this.capacity;
    const t = this.now();
    this.t[slot] = t;
    this.at[slot] = at;
    const host = write(this.host, slot, HOST_SERIES, this.latestHost);
    const guests: Record<string, (number | null)[]> = {};
    for (const [name, sample] of this.latestGuest) {
      let cols = this.guestColumns.get(name);
      if (cols === undefined) {
        cols = columns(GUEST_SERIES.length, this.capacity);
        this.guestColumns.set(name, cols);
      }
      guests[name] = write(cols, slot, GUEST_SERIES, sample);
    }
    const point: TimelinePoint = { seq: this.count, t, at, host, guests };
    this.count++;
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
