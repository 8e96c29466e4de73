// Variable scopes. MOM scopes are dynamic: a function call's scope is a child of the CALLER's
// scope, so a helper sees its caller's locals. A scope is never mutated after its form returns,
// so opening one is just making a child; nothing needs restoring when an error unwinds.
import type { PolicyObject, Value } from './values.js';

export class Scope {
  private readonly vars = new Map<string, Value>();
  constructor(readonly parent: Scope | null) {}

  child(): Scope {
    return new Scope(this);
  }

  /** `defvar`: creates name HERE unless it already exists here; returns the value it holds. */
  define(name: string, value: Value): Value {
    const existing = this.vars.get(name);
    if (existing !== undefined || this.vars.has(name)) return existing as Value;
    this.vars.set(name, value);
    return value;
  }

  /** `set`: assigns in the nearest scope holding name; false when no scope does. */
  assign(name: string, value: Value): boolean {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walking the chain starts here
    for (let s: Scope | null = this; s !== null; s = s.parent) {
      if (s.vars.has(name)) {
        s.vars.set(name, value);
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
      const v = s.vars.get(base);
      if (v === undefined && !s.vars.has(base)) continue;
      if (attr === undefined) return v as Value;
      const a = attributeOf(v as Value, attr);
      if (a !== undefined) return a;
    }
    return undefined;
  }
}

function attributeOf(v: Value, attr: string): Value | undefined {
  if (isObject(v)) return v.getAttribute(attr);
  return undefined;
}

function isObject(v: Value): v is PolicyObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && (v as PolicyObject).kind === 'object';
}
