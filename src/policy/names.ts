// Static facts about a program that need no evaluation: which names any form could bind as a
// variable, which it assigns with set, and which sub-forms are evaluated as code. Used by the
// evaluator (to skip impossible variable lookups on calls) and by the checkers.
import type { List, Node, Program } from './ast.js';
import { specialForms } from './special-forms.js';

interface Bindings {
  /** Every name that defvar, let, with or a def parameter could bind. */
  readonly bound: Set<string>;
  /** Those that could be bound in a scope other than the global one. */
  readonly local: Set<string>;
}

const cache = new WeakMap<Program, Bindings>();

/** One walk of the program finds both sets; cached with the program. */
function bindings(program: Program): Bindings {
  let found = cache.get(program);
  if (found === undefined) {
    found = { bound: new Set(), local: new Set() };
    for (const form of program.forms) collect(form, false, found);
    cache.set(program, found);
  }
  return found;
}

/** Names that defvar, let, with or a def parameter could bind anywhere in the program. */
export function boundNames(program: Program): ReadonlySet<string> {
  return bindings(program).bound;
}

/**
 * Names that could ever be bound in a scope other than the global one: def parameters, let and
 * with variables, and defvar inside a def, let or with (which runs in that form's scope) or inside
 * the arguments of a user function's call (which run in the call's new scope). Any other name can
 * only live in the global scope, so the evaluator looks it up there directly instead of walking
 * the chain of dynamic scopes.
 */
export function localNames(program: Program): ReadonlySet<string> {
  return bindings(program).local;
}

/** Heads whose arguments run in the caller's scope: the forms except let, with and def, and eval. */
const SAME_SCOPE: ReadonlySet<string> = new Set(
  [...specialForms.keys(), 'eval'].filter((n) => !['let', 'with', 'def', 'defun'].includes(n)),
);

/** `nested`: node runs in a scope other than the global one. */
function collect(node: Node, nested: boolean, out: Bindings): void {
  if (node.kind !== 'list') return;
  const [head, a, b] = node.items;
  // What runs in a fresh scope: the arguments of anything but a form known to run in place (an
  // operator, or a head that is not a name, which fails when run anyway, counts as in place).
  const inner = nested || (head?.kind === 'symbol' && !SAME_SCOPE.has(head.name));
  const bind = (name: string, local: boolean): void => {
    out.bound.add(name);
    if (local) out.local.add(name);
  };
  if (head?.kind === 'symbol') {
    if (head.name === 'defvar' && a?.kind === 'symbol') bind(a.base, nested);
    if (head.name === 'with' && b?.kind === 'symbol') bind(b.base, true);
    if (head.name === 'let' && a?.kind === 'list') {
      for (const binding of a.items) {
        const n = binding.kind === 'list' ? binding.items[0] : undefined;
        if (n?.kind === 'symbol') bind(n.base, true);
      }
    }
    if ((head.name === 'def' || head.name === 'defun') && b?.kind === 'list') {
      for (const p of b.items) if (p.kind === 'symbol') bind(p.base, true);
    }
  }
  for (const item of node.items) collect(item, inner, out);
}

/** Names that `(set name ...)` or `(setq name ...)` assign anywhere in the program. */
export function setNames(program: Program): ReadonlySet<string> {
  const out = new Set<string>();
  const walk = (node: Node): void => {
    if (node.kind !== 'list') return;
    const [head, name] = node.items;
    if (head?.kind === 'symbol' && (head.name === 'set' || head.name === 'setq') && name?.kind === 'symbol')
      out.add(name.base);
    node.items.forEach(walk);
  };
  program.forms.forEach(walk);
  return out;
}

/**
 * The sub-forms of a call that are evaluated as code: not the names in defvar/set/with, not a
 * def's parameter list, not let's (name value) pairs themselves (only their values).
 */
export function evaluatedChildren(call: List): readonly Node[] {
  const head = call.items[0];
  const args = call.args;
  if (head?.kind !== 'symbol') return call.items;
  switch (head.name) {
    case 'defvar':
    case 'set':
    case 'setq':
      return args.slice(1);
    case 'def':
    case 'defun':
    case 'with':
      return args.slice(2);
    case 'let': {
      const [bindings, ...body] = args;
      const values =
        bindings?.kind === 'list'
          ? bindings.items.flatMap((b) =>
              b.kind === 'list' && b.items.length === 2 ? [b.items[1] as Node] : [],
            )
          : [];
      return [...values, ...body];
    }
    default:
      return args;
  }
}
