// Which names hold entities, found without running the policy, so that the strict check (lint.ts)
// can judge `guest.balloon_curr` or `(g.Contrl ...)` and leave every other dotted name alone.
// Conservative by design: a name is taken to hold an entity only where nothing can rebind it.
//   - `Host` is the host and `Guests` the list of guests, unless some form binds or sets them;
//   - the variable of `(with Guests g BODY)` is a guest inside BODY;
//   - a function parameter holds what every call of the function passes in its place (a guest,
//     the host, either, or the guest list), found by repeating until nothing changes.
// A name that any `set` assigns is never judged (a called function may set it: scoping is
// dynamic), nor one a `defvar` inside the region could shadow, nor one a `let` or `with` rebinds.
// MOM looks an attribute missing from the innermost variable up in the outer scopes too, so the
// names some other binding may give an object with attributes (an --env object, an element of a
// list other than Guests, a value computed at run time) are listed for the checker as well.
import type { Node, Program, Sym } from './ast.js';
import { boundNames, setNames } from './names.js';
import { specialForms } from './special-forms.js';

/** What a name is known to hold: the host, a guest, an entity of either kind. */
export type EntityKind = 'host' | 'guest' | 'entity';

export interface EntityRefs {
  /** Symbol nodes (a read or a dotted call head) whose variable holds an entity of that kind. */
  readonly kinds: ReadonlyMap<Sym, EntityKind>;
  /**
   * Names that some binding may give an object other than an entity: where such a name is also
   * an entity, an attribute the entity lacks may still be found on that object, further out.
   */
  readonly mayHoldObject: ReadonlySet<string>;
}

/** What a name holds in a region: an entity, or the list of guests. */
type Holds = EntityKind | 'guests';
type Context = ReadonlyMap<string, Holds>;

interface Def {
  readonly params: readonly string[];
  readonly body: Node;
}

/** More rounds than any real call chain is deep; past this the parameters are left unjudged. */
const MAX_ROUNDS = 32;

/**
 * The entity references of a program. `globals` are the names defined before the policy runs
 * besides Host and Guests (abs, debug, --env values): a function named like one is called
 * through the variable, never as the def.
 */
export function entityReferences(program: Program, globals: readonly string[]): EntityRefs {
  const bound = boundNames(program);
  const assigned = setNames(program);
  const variables = new Set([...bound, ...assigned, ...globals]);
  const stable = (name: string): boolean => !variables.has(name);

  const top = new Map<string, Holds>();
  if (stable('Host')) top.set('Host', 'host');
  if (stable('Guests')) top.set('Guests', 'guests');

  const defs = callableDefs(program, variables);
  let params = new Map<string, ReadonlyArray<Holds | undefined>>();
  let walked = walkProgram(params);
  let converged = false;
  for (let round = 0; round < MAX_ROUNDS && !converged; round++) {
    const next = parameterHolds(walked.sites);
    converged = sameHolds(params, next);
    params = next;
    walked = walkProgram(params);
  }
  if (!converged) walked = walkProgram(new Map());
  return { kinds: walked.refs, mayHoldObject: walked.objects };

  function walkProgram(paramHolds: ReadonlyMap<string, ReadonlyArray<Holds | undefined>>): {
    refs: Map<Sym, EntityKind>;
    sites: Map<string, Array<ReadonlyArray<Holds | undefined>>>;
    objects: Set<string>;
  } {
    const found = new Map<Sym, EntityKind>();
    const sites = new Map<string, Array<ReadonlyArray<Holds | undefined>>>();
    const objects = new Set<string>([...assigned, ...globals]);
    for (const form of program.forms) walk(form, top);
    return { refs: found, sites, objects };

    /** Whether a value may be an object with attributes other than an entity. */
    function mayBeObject(value: Node | undefined, ctx: Context): boolean {
      if (value === undefined) return false;
      switch (value.kind) {
        case 'int':
        case 'float':
        case 'string':
        case 'operator':
          return false;
        case 'symbol':
          return value.name !== 'nil' && (value.attr !== undefined || ctx.get(value.base) === undefined);
        case 'list':
          return value.items[0]?.kind !== 'operator';
      }
    }

    function note(sym: Sym, ctx: Context): void {
      const holds = ctx.get(sym.base);
      if (holds !== undefined && holds !== 'guests') found.set(sym, holds);
    }

    function walk(node: Node, ctx: Context): void {
      if (node.kind === 'symbol') {
        if (node.name !== 'nil') note(node, ctx);
        return;
      }
      if (node.kind !== 'list') return;
      const [head, ...args] = node.items;
      if (head === undefined) return;
      if (head.kind !== 'symbol') {
        for (const item of node.items) walk(item, ctx);
        return;
      }
      if (head.attr !== undefined) {
        note(head, ctx);
        for (const a of args) walk(a, ctx);
        return;
      }
      switch (head.name) {
        case 'defvar':
        case 'set':
        case 'setq':
          if (args[0]?.kind === 'symbol' && mayBeObject(args[1], ctx)) objects.add(args[0].base);
          if (args[1] !== undefined) walk(args[1], ctx);
          return;
        case 'with':
          return walkWith(args, ctx);
        case 'let':
          return walkLet(args, ctx);
        case 'def':
        case 'defun':
          return walkDef(args);
      }
      const def = defs.get(head.name);
      if (def === undefined) {
        for (const a of args) walk(a, ctx);
        return;
      }
      // Arguments are evaluated in the callee's new scope, each after the earlier parameters are
      // bound (to the earlier arguments; a repeated parameter keeps its first one).
      const inner = new Map(ctx);
      const passed = args.map((a, i) => {
        walk(a, inner);
        const holds = a.kind === 'symbol' && a.attr === undefined ? inner.get(a.base) : undefined;
        const p = def.params[i];
        if (p !== undefined && !def.params.slice(0, i).includes(p)) {
          if (holds === undefined || assigned.has(p)) inner.delete(p);
          else inner.set(p, holds);
        }
        return holds;
      });
      if (args.length === def.params.length) {
        const list = sites.get(head.name) ?? [];
        list.push(passed);
        sites.set(head.name, list);
      }
    }

    function walkWith([list, variable, body]: readonly Node[], ctx: Context): void {
      if (list !== undefined) walk(list, ctx);
      if (body === undefined) return;
      if (variable?.kind !== 'symbol') return walk(body, ctx);
      const inner = new Map(ctx);
      inner.delete(variable.base);
      const overGuests =
        list?.kind === 'symbol' && list.attr === undefined && ctx.get(list.base) === 'guests';
      if (overGuests && !assigned.has(variable.base) && canHold(variable.base, body)) {
        inner.set(variable.base, 'guest');
      } else if (!overGuests) objects.add(variable.base);
      walk(body, inner);
    }

    function walkLet([bindings, ...body]: readonly Node[], ctx: Context): void {
      const inner = new Map(ctx);
      if (bindings?.kind === 'list') {
        for (const b of bindings.items) {
          if (b.kind !== 'list') continue;
          const [name, value] = b.items;
          if (name?.kind === 'symbol' && mayBeObject(value, inner)) objects.add(name.base);
          if (value !== undefined) walk(value, inner);
          if (name?.kind === 'symbol') inner.delete(name.base);
        }
      }
      for (const form of body) walk(form, inner);
    }

    function walkDef([name, params, body]: readonly Node[]): void {
      if (body === undefined) return;
      // A body runs in its caller's scope, but only its parameters and the globals are known
      // (a parameter named like a global makes that global unjudged everywhere: see `stable`).
      const inner = new Map(top);
      const def = name?.kind === 'symbol' ? defs.get(name.name) : undefined;
      if (def !== undefined && name?.kind === 'symbol') {
        // Holds nothing known only when some call passes something unknown (none: never called).
        const holds = paramHolds.get(name.name);
        def.params.forEach((p, i) => {
          inner.delete(p);
          const h = holds?.[i];
          const repeated = def.params.indexOf(p) !== def.params.lastIndexOf(p);
          if (h !== undefined && !repeated && !assigned.has(p) && canHold(p, body)) inner.set(p, h);
          if (holds !== undefined && h === undefined) objects.add(p);
        });
      } else if (params?.kind === 'list') {
        // A function whose calls are not followed (defined twice, shadowed): anything may come in.
        for (const p of params.items) if (p.kind === 'symbol') objects.add(p.base);
      }
      walk(body, inner);
    }
  }

  /** A parameter holds what every call passes in its place; one unknown argument leaves it unknown. */
  function parameterHolds(
    sites: ReadonlyMap<string, Array<ReadonlyArray<Holds | undefined>>>,
  ): Map<string, ReadonlyArray<Holds | undefined>> {
    const out = new Map<string, ReadonlyArray<Holds | undefined>>();
    for (const [name, calls] of sites) {
      const def = defs.get(name) as Def;
      out.set(
        name,
        def.params.map(
          (_, i) => calls.map((c) => c[i]).reduce<Holds | undefined | null>(join, null) ?? undefined,
        ),
      );
    }
    return out;
  }
}

/** null: nothing seen yet; undefined: unknown. */
function join(a: Holds | undefined | null, b: Holds | undefined): Holds | undefined {
  if (a === null) return b;
  if (a === undefined || b === undefined) return undefined;
  if (a === b) return a;
  if (a === 'guests' || b === 'guests') return undefined;
  return 'entity';
}

function sameHolds(
  a: ReadonlyMap<string, ReadonlyArray<Holds | undefined>>,
  b: ReadonlyMap<string, ReadonlyArray<Holds | undefined>>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || w.length !== v.length || v.some((x, i) => x !== w[i])) return false;
  }
  return true;
}

/** False when a `defvar` of the name inside the region could bind it in a scope of its own. */
function canHold(name: string, region: Node): boolean {
  if (region.kind !== 'list') return true;
  const [head, target] = region.items;
  if (head?.kind === 'symbol' && head.name === 'defvar' && target?.kind === 'symbol' && target.base === name)
    return false;
  return region.items.every((item) => canHold(name, item));
}

/**
 * User functions a call by name reaches: defined once, with a well-formed parameter list, and not
 * shadowed by a variable, a built-in form or `eval` (MOM tries those first).
 */
function callableDefs(program: Program, variables: ReadonlySet<string>): Map<string, Def> {
  const seen = new Map<string, Def | null>();
  const visit = (node: Node): void => {
    if (node.kind !== 'list') return;
    const [head, name, params, body] = node.items;
    if (
      head?.kind === 'symbol' &&
      (head.name === 'def' || head.name === 'defun') &&
      name?.kind === 'symbol' &&
      node.items.length === 4
    ) {
      const ok =
        params?.kind === 'list' && params.open !== '{' && params.items.every((p) => p.kind === 'symbol');
      seen.set(
        name.name,
        seen.has(name.name) || !ok || body === undefined
          ? null
          : { params: params.items.map((p) => (p as Sym).name), body },
      );
    }
    node.items.forEach(visit);
  };
  program.forms.forEach(visit);
  const out = new Map<string, Def>();
  for (const [name, def] of seen) {
    const base = name.split('.')[0] as string;
    if (def !== null && !variables.has(base) && !specialForms.has(name) && name !== 'eval')
      out.set(name, def);
  }
  return out;
}
