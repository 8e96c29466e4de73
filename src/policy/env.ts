// Variable scopes. MOM scopes are dynamic: a function call's scope is a child of the CALLER's
// scope, so a helper sees its caller's locals. A scope is never mutated after its form returns,
// so opening one is just making a child; nothing needs restoring when an error unwinds.
import type { PolicyObject, Value } from './values.js';

/**
 * Most scopes (a call's parameters, a `with` variable) hold one to three names, so they are kept
 * in two small arrays; linear search there beats a Map and allocates far less. A scope that grows
 * past SMALL (the global one) moves to a Map.
 */
const SMALL = 8;

export class Scope {
  private names: string[] = [];
  private values: Value[] = [];
  private map: Map<string, Value> | undefined;
  constructor(readonly parent: Scope | null) {}

  child(): Scope {
    return new Scope(this);
  }

  /** `defvar`: creates name HERE unless it already exists here; returns the value it holds. */
  define(name: string, value: Value): Value {
    if (this.map !== undefined) {
      if (this.map.has(name)) return this.map.get(name) as Value;
      this.map.set(name, value);
      return value;
    }
    const i = this.names.indexOf(name);
    if (i >= 0) return this.values[i] as Value;
    if (this.names.length >= SMALL) {
      this.map = new Map(this.names.map((n, j) => [n, this.values[j] as Value]));
      this.map.set(name, value);
      return value;
    }
    this.names.push(name);
    this.values.push(value);
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
      const i = s.names.indexOf(name);
      if (i >= 0) {
        s.values[i] = value;
        return true;
      }
    }
    return false;
  }

  /**
   * Resolves `base` or `base.attr` as MOM does: the innermost scope holding base wins, but when
   * that value lacks attr the search goes on outward. undefined when nothing matches.
   */
  lookup(base: string, attr: string | undefined): Value | undefined {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walking the chain starts here
    for (let s: Scope | null = this; s !== null; s = s.parent) {
      let v: Value | undefined;
      if (s.map !== undefined) {
        v = s.map.get(base);
        if (v === undefined && !s.map.has(base)) continue;
      } else {
        const i = s.names.indexOf(base);
        if (i < 0) continue;
        v = s.values[i] as Value;
      }
      if (attr === undefined) return v as Value;
      if (isObject(v as Value)) {
        const a = (v as PolicyObject).getAttribute(attr);
        if (a !== undefined) return a;
      }
    }
    return undefined;
  }
}

function isObject(v: Value): v is PolicyObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && (v as PolicyObject).kind === 'object';
}
