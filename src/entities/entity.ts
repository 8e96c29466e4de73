// The Host and Guest entities a policy sees. Each exposes its declared statistics as attributes
// (newest sample) and MOM's methods Prop, Stat, StatAvg, SetVar, GetVar, Control, GetControl.
// An entity lives for one evaluation; only its variables map is carried between cycles.
import { ioTuneList } from './io-tune.js';
import {
  fromJson,
  nativeFunction,
  show,
  typeName,
  ValueError,
  type PolicyFunction,
  type PolicyObject,
  type Value,
} from '../policy/values.js';

export type EntityKind = 'Host' | 'Guest';

/** One part of a control's reason: strings as they are, numbers rounded to a tenth. */
function reasonPart(v: Value): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(Math.round(v * 10) / 10);
  return show(v);
}
/** One statistic's value as collected: numbers in their natural units (memory in KiB), or null. */
export type Scalar = number | string | boolean | null;
/** A statistic that is a list of plain records (io_tune), as JSON. */
export type StatRecords = ReadonlyArray<Readonly<Record<string, unknown>>>;
export type StatValue = Scalar | StatRecords;
/**
 * One collected sample. Values stay plain JSON and become policy values only when a policy reads
 * them, so building a thousand entities each cycle converts only what the policy touches.
 */
export type Sample = Readonly<Record<string, StatValue>>;

export interface EntityInit {
  readonly kind: EntityKind;
  readonly properties: Readonly<Record<string, unknown>>;
  /** Declared statistics fields: the attribute names a policy may read. */
  readonly fields: ReadonlySet<string>;
  /** Kept samples, oldest first. */
  readonly history: readonly Sample[];
  /** SetVar/GetVar storage; the engine passes the same map every cycle so values persist. */
  readonly variables?: Map<string, Value>;
}

const METHODS = ['Prop', 'Stat', 'StatAvg', 'SetVar', 'GetVar', 'Control', 'GetControl'] as const;
type MethodName = (typeof METHODS)[number];
const METHOD_NAMES: ReadonlySet<string> = new Set(METHODS);

export class Entity implements PolicyObject {
  readonly kind = 'object';
  readonly entityKind: EntityKind;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly fields: ReadonlySet<string>;
  readonly history: readonly Sample[];
  readonly variables: Map<string, Value>;
  /** Controls the policy set this evaluation, last call wins. */
  readonly controls = new Map<string, Value>();
  /** Why, when the policy said (Control's optional third argument), by control name. */
  readonly reasons = new Map<string, string>();
  private readonly newest: Sample;
  private methods: Map<string, PolicyFunction> | undefined;
  /**
   * Statistics read so far, as policy values: converted once per evaluation (a policy reads a
   * guest's size a dozen times; lists also keep state in their objects).
   */
  private readonly converted = new Map<string, Value>();

  constructor(init: EntityInit) {
    this.entityKind = init.kind;
    this.properties = init.properties;
    this.fields = init.fields;
    this.history = init.history;
    this.variables = init.variables ?? new Map();
    this.newest = init.history[init.history.length - 1] ?? {};
  }

  get label(): string {
    const name = this.properties['name'];
    return this.entityKind === 'Guest' && typeof name === 'string' ? `Guest(${name})` : this.entityKind;
  }

  getAttribute(name: string): Value | undefined {
    if (this.fields.has(name)) return this.stat(name);
    if (METHOD_NAMES.has(name)) return this.method(name as MethodName);
    return undefined;
  }

  /** The newest value of a statistic as a policy value. */
  private stat(name: string): Value {
    let value = this.converted.get(name);
    if (value === undefined) {
      const v = this.newest[name];
      if (!Array.isArray(v)) value = scalar(v as Scalar | undefined);
      else if (name === 'io_tune') value = ioTuneList(v, (l) => this.setControl(name, l));
      else value = fromJson(v, name);
      this.converted.set(name, value);
    }
    return value;
  }

  private setControl(name: string, value: Value): void {
    this.controls.set(name, value);
    this.reasons.delete(name);
  }

  private method(name: MethodName): PolicyFunction {
    this.methods ??= new Map();
    let fn = this.methods.get(name);
    if (fn === undefined) {
      fn = this.makeMethod(name);
      this.methods.set(name, fn);
    }
    return fn;
  }

  private makeMethod(name: MethodName): PolicyFunction {
    const qualified = `${this.entityKind}.${name}`;
    const one = { min: 1, max: 1 };
    const two = { min: 2, max: 2 };
    switch (name) {
      case 'Prop':
        return nativeFunction(qualified, one, ([key]) => {
          const k = this.key(key, name);
          if (!Object.hasOwn(this.properties, k))
            throw new ValueError(`${this.label} has no property '${k}'`);
          return fromJson(this.properties[k], k);
        });
      case 'Stat':
        return nativeFunction(qualified, one, ([key]) => this.stat(this.statKey(key, name)));
      case 'StatAvg':
        return nativeFunction(qualified, one, ([key]) => {
          const k = this.statKey(key, name);
          let sum = 0;
          let n = 0;
          for (const sample of this.history) {
            const v = sample[k];
            if (v === null || v === undefined) continue;
            if (typeof v !== 'number') {
              const kind = Array.isArray(v) ? 'list' : typeName(scalar(v as Scalar));
              throw new ValueError(`StatAvg: '${k}' of ${this.label} holds ${kind}, not a number`);
            }
            sum += v;
            n++;
          }
          return n === 0 ? 0 : sum / n;
        });
      case 'SetVar':
        return nativeFunction(qualified, two, ([key, value]) => {
          this.variables.set(this.key(key, name), value as Value);
          return null;
        });
      case 'GetVar':
        return nativeFunction(qualified, one, ([key]) => this.variables.get(this.key(key, name)) ?? null);
      case 'Control':
        // MOM's (e.Control name value); momd takes a reason after the value, kept with the
        // outcome: any number of parts, joined as they are, numbers rounded to a tenth:
        // (e.Control "balloon_target" t "host short (" pct "% free): take the guest's spare").
        return nativeFunction(qualified, { min: 2, max: Infinity }, ([key, value, ...reason]) => {
          const k = this.key(key, name);
          this.controls.set(k, value as Value);
          if (reason.length === 0) this.reasons.delete(k);
          else this.reasons.set(k, reason.map((part) => reasonPart(part as Value)).join(''));
          return null;
        });
      case 'GetControl':
        return nativeFunction(qualified, one, ([key]) => this.controls.get(this.key(key, name)) ?? null);
    }
  }

  private key(v: Value | undefined, method: string): string {
    if (typeof v !== 'string')
      throw new ValueError(`${method} expects a name string, got ${typeName(v ?? null)}`);
    return v;
  }

  private statKey(v: Value | undefined, method: string): string {
    const k = this.key(v, method);
    if (!this.fields.has(k)) throw new ValueError(`${method}: '${k}' is not a statistic of ${this.label}`);
    return k;
  }
}

/** A collected scalar as a policy value: integral numbers are ints, as MOM's collectors give them. */
function scalar(v: Scalar | undefined): Value {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  return v;
}
