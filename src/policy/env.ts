// Variable scopes. MOM scopes are dynamic: a function call's scope is a child of the CALLER's
// scope, so a helper sees its caller's locals. A scope is never mutated after its form returns,
// so opening one is just making a child; nothing needs restoring when an error unwinds.
import type { PolicyObject, Value } from './values.js';

/**
 * Most scopes (a call's parameters, a `with` variable) hold one to three names, so they are kept
 * in two small arrays; linear search there beats a Map and allocates far less. A scope that grows
 * past SMALL (the global one) moves to a Map.
 *
 * A scope opened for names known in advance (a function's parameters, a `let`'s or a `with`'s
 * variables) shares that list of names and allocates only its values; `size` counts the names
 * defined so far, in order (a parameter's argument is evaluated in the scope that holds the
 * parameters before it). Defining any other name copies the list first.
 */
const SMALL = 8;
const NO_NAMES: readonly string[] = Object.freeze([]);
const NO_VALUES: readonly Value[] = Object.freeze([]);

export class Scope {
  private names: readonly string[];
  private values: Value[];
  private size = 0;
  /** Whether names and values are this scope's own (else names is shared and read-only). */
  private owned = false;
  private map: Map<string, Value> | undefined;
  /** `expected`: the names this scope will hold, in the order they will be defined. */
  constructor(
    readonly parent: Scope | null,
    expected?: readonly string[],
  ) {
    this.names = expected ?? NO_NAMES;
    this.values = expected === undefined ? (NO_VALUES as Value[]) : new Array<Value>(expected.length);
  }

  child(expected?: readonly string[]): Scope {
    return new Scope(this, expected);
  }

  /** `defvar`: creates name HERE unless it already exists here; returns the value it holds. */
  define(name: string, value: Value): Value {
    if (this.map !== undefined) {
      if (this.map.has(name)) return this.map.get(name) as Value;
      this.map.set(name, value);
      return value;
    }
    const names = this.names;
    const size = this.size;
    for (let i = 0; i < size; i++) if (names[i] === name) return this.values[i] as Value;
    if (!this.owned) {
      if (names[size] === name) {
        this.values[size] = value;
        this.size = size + 1;
        return value;
      }
      this.names = names.slice(0, size);
      this.values = this.values.slice(0, size);
      this.owned = true;
    }
    if (size >= SMALL) {
      this.map = new Map(this.names.map((n, j) => [n, this.values[j] as Value]));
      this.map.set(name, value);
      return value;
    }
    (this.names as string[]).push(name);
    this.values.push(value);
    this.size = size + 1;
    return value;
  }

  /** `set`: assigns in the nearest scope holding name; false when no scope does. */
  assign(name: string, value: Value): boolean {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walking the chain starts here
    for (let s: Scope | null = this; s !== null; s = s.parent) {
      if (s.map !== undefined) {
        if (s.map.has(name)) {
          s.map.set(name, value);
          return true;
        }
        continue;
      }
      for (let i = 0; i < s.size; i++) {
        if (s.names[i] === name) {
          s.values[i] = value;
          return true;
        }
      }
    }
    return false;
  }

  /** The value `name` holds in this scope itself, or undefined when this scope does not hold it. */
  private own(name: string): Value | undefined {
    if (this.map !== undefined) return this.map.get(name);
    for (let i = 0; i < this.size; i++) if (this.names[i] === name) return this.values[i] as Value;
    return undefined;
  }

  /**
   * For the head of a call `(base.attr ...)`: the object that lookup(base, attr) would take attr
   * from, when attr is a method that object calls itself; else undefined (then lookup decides).
   */
  methodOwner(base: string, attr: string): MethodOwner | undefined {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walking the chain starts here
    for (let s: Scope | null = this; s !== null; s = s.parent) {
      const v = s.own(base);
      if (v === undefined) continue;
      if (!isObject(v)) continue;
      if (v.hasMethod?.(attr) === true && v.invoke !== undefined) return v as MethodOwner;
      if (v.getAttribute(attr) !== undefined) return undefined;
    }
    return undefined;
  }

  /**
   * Resolves `base` or `base.attr` as MOM does: the innermost scope holding base wins, but when
   * that value lacks attr the search goes on outward. undefined when nothing matches.
   */
  lookup(base: string, attr: string | undefined): Value | undefined {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walking the chain starts here
    for (let s: Scope | null = this; s !== null; s = s.parent) {
      const v = s.own(base);
      if (v === undefined) continue;
      if (attr === undefined) return v as Value;
      if (isObject(v as Value)) {
        const a = (v as PolicyObject).getAttribute(attr);
        if (a !== undefined) return a;
      }
    }
    return undefined;
  }
}

/** An object whose methods the evaluator calls directly. */
export type MethodOwner = PolicyObject & Required<Pick<PolicyObject, 'hasMethod' | 'invoke'>>;

function isObject(v: Value): v is PolicyObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && (v as PolicyObject).kind === 'object';
}
