// Monitors: one for the host, one per guest. Each turns a backend reading (keyed by the field
// catalogue) into one sample of the configured groups' fields, cumulative counters turned into
// changes since the previous sample, and appends it to a bounded history. A sample missing a
// mandatory field makes the entity not ready (a not-ready guest is left out of Guests; a
// not-ready host skips the cycle), logged once per change of state.
import type { Logger } from 'pino';
import type { Sample, Scalar, StatValue } from '../entities/entity.js';
import type { ErrorCode } from '../errors.js';
import { catalogue, type AnyFieldSpec, type Scope } from '../fields/catalogue.js';
import { History } from './history.js';

/** The fields of a monitor: name, spec, in catalogue order. */
export type FieldList = ReadonlyArray<readonly [string, AnyFieldSpec]>;

/** The catalogue's fields of the configured groups. */
export function configuredFields(scope: Scope, groups: readonly string[]): FieldList {
  const wanted = new Set(groups);
  return catalogue(scope).filter(([, spec]) => wanted.has(spec.group));
}

/**
 * Turns a cumulative counter into "since the last reading" and "per second since the last
 * reading" (both 0 on the first reading or after a reset, such as a guest reboot).
 */
class CounterDelta {
  private last: { value: number; at: number } | undefined;
  /** The change since the previous reading (set by next). */
  delta: number | null = null;
  /** The rate per second since the previous reading; null when no time passed. */
  rate: number | null = null;
  next(value: number | null, at: number): void {
    if (value === null) {
      this.delta = null;
      this.rate = null;
      return;
    }
    const prev = this.last;
    this.last = { value, at };
    if (prev === undefined || value < prev.value) {
      this.delta = 0;
      this.rate = 0;
      return;
    }
    this.delta = value - prev.value;
    const dt = at - prev.at;
    this.rate = dt > 0 ? Math.round((this.delta / dt) * 100) / 100 : null;
  }
}

export type Reading = Readonly<Record<string, StatValue | undefined>>;

const shapes = new WeakMap<FieldList, Sample>();

/**
 * An object with every field of `fields`, in order, that V8 keeps in its fast form, to copy for
 * each sample. A sample built up one field at a time from `{}` ends in V8's dictionary form after
 * a dozen fields: 1.6 KB a guest sample instead of about 0.4, half the heap of a daemon watching
 * 1,000 guests (bench/endurance.ts, 2026-12-03). A copy of a fast object keeps its form, and
 * setting the copy's fields does not change it; JSON.parse builds objects in the fast form.
 */
function sampleShape(fields: FieldList): Sample {
  let shape = shapes.get(fields);
  if (shape === undefined) {
    shape = JSON.parse(JSON.stringify(Object.fromEntries(fields.map(([k]) => [k, null])))) as Sample;
    shapes.set(fields, shape);
  }
  return shape;
}

export class Monitor {
  readonly history: History;
  private ready = false;
  private lastProblem: string | undefined;
  private readonly counters = new Map<string, CounterDelta>();

  constructor(
    readonly label: string,
    private readonly fields: FieldList,
    historyLength: number,
    private readonly log: Logger,
    private readonly notReadyCode: ErrorCode,
  ) {
    this.history = new History(historyLength);
    for (const [name, spec] of fields) {
      if (spec.counter) this.counters.set(name, new CounterDelta());
      if (spec.rateOf !== undefined) this.counters.set(spec.rateOf, new CounterDelta());
    }
  }

  isReady(): boolean {
    return this.ready;
  }

  /**
   * Builds a sample from a reading (engine-sourced fields come from `derived`), appends it when
   * complete, and returns it, or null with the problem when the entity is not ready.
   */
  record(reading: Reading, at: number, derived: Readonly<Record<string, Scalar>> = {}): Sample | null {
    for (const [name, counter] of this.counters) {
      const v = reading[name];
      counter.next(typeof v === 'number' ? v : null, at);
    }
    const sample: Record<string, StatValue> = { ...sampleShape(this.fields) };
    let missing: string[] | undefined;
    for (const [name, spec] of this.fields) {
      let v: StatValue;
      if (spec.counter) v = this.counters.get(name)?.delta ?? null;
      else if (spec.rateOf !== undefined) v = this.counters.get(spec.rateOf)?.rate ?? null;
      else if (spec.source === 'engine') v = derived[name] ?? null;
      else v = reading[name] ?? null;
      sample[name] = v;
      if (v === null && spec.mandatory) (missing ??= []).push(name);
    }
    return this.finish(sample as Sample, missing === undefined ? undefined : `missing ${missing.join(', ')}`);
  }

  /** A reading failed altogether: the entity is not ready this time. */
  failed(problem: string): void {
    this.finish(null, problem);
  }

  private finish(sample: Sample | null, problem: string | undefined): Sample | null {
    this.ready = problem === undefined && sample !== null;
    if (this.ready && sample !== null) this.history.push(sample);
    // Log a change of state once, not every cycle.
    if (problem !== this.lastProblem) {
      if (problem === undefined) this.log.info({ entity: this.label }, `${this.label}: statistics complete`);
      else
        this.log.warn(
          { entity: this.label, problem, code: this.notReadyCode },
          `${this.label}: statistics incomplete (${problem})`,
        );
      this.lastProblem = problem;
    }
    return this.ready ? sample : null;
  }
}
