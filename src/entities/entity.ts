// The Host and Guest entities a policy sees. Each exposes its declared statistics as attributes
// (newest sample) and MOM's methods Prop, Stat, StatAvg, SetVar, GetVar, Control, GetControl.
// An entity lives for one evaluation; only its variables map is carried between cycles.
import {
  nativeFunction,
  typeName,
  ValueError,
  type PolicyFunction,
  type PolicyObject,
  type Value,
} from '../policy/values.js';

export type EntityKind = 'Host' | 'Guest';
export type Sample = Readonly<Record<string, Value>>;

export interface EntityInit {
  readonly kind: EntityKind;
  readonly properties: ReadonlyMap<string, Value>;
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
  readonly properties: ReadonlyMap<string, Value>;
  readonly fields: ReadonlySet<string>;
  readonly history: readonly Sample[];
  readonly variables: Map<string, Value>;
  /** Controls the policy set this evaluation, last call wins. */
  readonly controls = new Map<string, Value>();
  private readonly newest: Sample;
  private methods: Map<string, PolicyFunction> | undefined;

  constructor(init: EntityInit) {
    this.entityKind = init.kind;
    this.properties = init.properties;
    this.fields = init.fields;
    this.history = init.history;
    this.variables = init.variables ?? new Map();
    this.newest = init.history[init.history.length - 1] ?? {};
  }

  get label(): string {
    const name = this.properties.get('name');
    return this.entityKind === 'Guest' && typeof name === 'string' ? `Guest(${name})` : this.entityKind;
  }

  getAttribute(name: string): Value | undefined {
    if (this.fields.has(name)) return this.newest[name] ?? null;
    if (METHOD_NAMES.has(name)) return this.method(name as MethodName);
    return undefined;
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
          const v = this.properties.get(k);
          if (v === undefined) throw new ValueError(`${this.label} has no property '${k}'`);
          return v;
        });
      case 'Stat':
        return nativeFunction(qualified, one, ([key]) => this.newest[this.statKey(key, name)] ?? null);
      case 'StatAvg':
        return nativeFunction(qualified, one, ([key]) => {
          const k = this.statKey(key, name);
          let sum = 0;
          let n = 0;
          for (const sample of this.history) {
            const v = sample[k];
            if (v === null || v === undefined) continue;
            if (typeof v !== 'bigint' && typeof v !== 'number') {
              throw new ValueError(`StatAvg: '${k}' of ${this.label} holds ${typeName(v)}, not a number`);
            }
            sum += Number(v);
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
        return nativeFunction(qualified, two, ([key, value]) => {
          this.controls.set(this.key(key, name), value as Value);
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
