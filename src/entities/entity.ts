// The Host and Guest entities a policy sees. Each exposes its declared statistics as attributes
// (newest sample) and MOM's methods Prop, Stat, StatAvg, SetVar, GetVar, Control, GetControl.
// An entity lives for one evaluation; only its variables map is carried between cycles.
import type { IoTuneDisk } from '../fields/io-tune.js';
import { ioTuneList } from './io-tune.js';
import {
  describeArity,
  fromJson,
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
/**
 * A statistic that is a list of records: io_tune, as backends read it and as a snapshot file's
 * schema checks it (src/fields/io-tune.ts), so that a policy reading it pays for no check.
 */
export type StatRecords = readonly IoTuneDisk[];
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
const ONE = { min: 1, max: 1 };
const TWO = { min: 2, max: 2 };
const ARITY: Readonly<Record<MethodName, { min: number; max: number }>> = {
  Prop: ONE,
  Stat: ONE,
  StatAvg: ONE,
  SetVar: TWO,
  GetVar: ONE,
  Control: { min: 2, max: Infinity },
  GetControl: ONE,
};
const NO_VARIABLES: ReadonlyMap<string, Value> = new Map();
const NO_REASONS: ReadonlyMap<string, string> = new Map();

/** `Host.Stat`, `guest.Control` ... read as a value (`(defvar f guest.Stat)`): one small object. */
class EntityMethod implements PolicyFunction {
  readonly kind = 'function';
  constructor(
    private readonly entity: Entity,
    private readonly method: MethodName,
  ) {}
  get name(): string {
    return `${this.entity.entityKind}.${this.method}`;
  }
  call(args: readonly Value[]): Value {
    return this.entity.invoke(this.method, args);
  }
}

export class Entity implements PolicyObject {
  readonly kind = 'object';
  readonly entityKind: EntityKind;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly fields: ReadonlySet<string>;
  readonly history: readonly Sample[];
  /** Controls the policy set this evaluation, last call wins. */
  readonly controls = new Map<string, Value>();
  private ownVariables: Map<string, Value> | undefined;
  private reasonMap: Map<string, string> | undefined;
  private readonly newest: Sample;
  private methods: EntityMethod[] | undefined;
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
    this.ownVariables = init.variables;
    this.newest = init.history[init.history.length - 1] ?? {};
  }

  /** SetVar/GetVar storage (made when first set, unless the engine passed its own). */
  get variables(): ReadonlyMap<string, Value> {
    return this.ownVariables ?? NO_VARIABLES;
  }

  /** Why, when the policy said (Control's optional third argument), by control name. */
  get reasons(): ReadonlyMap<string, string> {
    return this.reasonMap ?? NO_REASONS;
  }

  /** Sets a control as `(e.Control name value reason...)` does; no reason clears an earlier one. */
  control(name: string, value: Value, reason?: string): void {
    this.controls.set(name, value);
    if (reason === undefined) this.reasonMap?.delete(name);
    else (this.reasonMap ??= new Map()).set(name, reason);
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

  /** A statistic of the same name hides a method, as it does in getAttribute. */
  hasMethod(name: string): boolean {
    return METHOD_NAMES.has(name) && !this.fields.has(name);
  }

  /** The newest value of a statistic as a policy value. */
  private stat(name: string): Value {
    let value = this.converted.get(name);
    if (value === undefined) {
      const v = this.newest[name];
      if (!Array.isArray(v)) value = scalar(v as Scalar | undefined);
      else value = ioTuneList(v as StatRecords, (l) => this.control(name, l));
      this.converted.set(name, value);
    }
    return value;
  }

  private method(name: MethodName): PolicyFunction {
    const i = METHODS.indexOf(name);
    this.methods ??= [];
    return (this.methods[i] ??= new EntityMethod(this, name));
  }

  /** Calls a method (hasMethod) with its arguments; throws ValueError for bad ones. */
  invoke(name: string, args: readonly Value[]): Value {
    const method = name as MethodName;
    const arity = ARITY[method];
    if (args.length < arity.min || args.length > arity.max) {
      throw new ValueError(
        `'${this.entityKind}.${name}' expects ${describeArity(arity)}, got ${args.length}`,
      );
    }
    const first = args[0] as Value;
    switch (method) {
      case 'Prop': {
        const k = this.key(first, name);
        if (!Object.hasOwn(this.properties, k)) throw new ValueError(`${this.label} has no property '${k}'`);
        return fromJson(this.properties[k], k);
      }
      case 'Stat':
        return this.stat(this.statKey(first, name));
      case 'StatAvg': {
        const k = this.statKey(first, name);
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
      }
      case 'SetVar':
        (this.ownVariables ??= new Map()).set(this.key(first, name), args[1] as Value);
        return null;
      case 'GetVar':
        return this.ownVariables?.get(this.key(first, name)) ?? null;
      case 'Control': {
        // MOM's (e.Control name value); momd takes a reason after the value, kept with the
        // outcome: any number of parts, joined as they are, numbers rounded to a tenth:
        // (e.Control "balloon_target" t "host short (" pct "% free): take the guest's spare").
        let why: string | undefined;
        if (args.length > 2) {
          why = '';
          for (let i = 2; i < args.length; i++) why += reasonPart(args[i] as Value);
        }
        this.control(this.key(first, name), args[1] as Value, why);
        return null;
      }
      case 'GetControl':
        return this.controls.get(this.key(first, name)) ?? null;
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
