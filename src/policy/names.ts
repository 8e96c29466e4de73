// Static facts about a program that need no evaluation: which names any form could bind as a
// variable, which it assigns with set, and which sub-forms are evaluated as code. Used by the
// evaluator (to skip impossible variable lookups on calls) and by the checkers.
import type { List, Node, Program } from './ast.js';
import { specialForms } from './special-forms.js';

const cache = new WeakMap<Program, ReadonlySet<string>>();

/** Names that defvar, let, with or a def parameter could bind anywhere in the program. */
export function boundNames(program: Program): ReadonlySet<string> {
  let names = cache.get(program);
  if (names === undefined) {
    const found = new Set<string>();
    for (const form of program.forms) collect(form, found);
    names = found;
    cache.set(program, names);
  }
  return names;
}

function collect(node: Node, out: Set<string>): void {
  if (node.kind !== 'list') return;
  const [head, a, b] = node.items;
  if (head?.kind === 'symbol') {
    if (head.name === 'defvar' && a?.kind === 'symbol') out.add(a.base);
    if (head.name === 'with' && b?.kind === 'symbol') out.add(b.base);
    if (head.name === 'let' && a?.kind === 'list') {
      for (const binding of a.items) {
        const n = binding.kind === 'list' ? binding.items[0] : undefined;
        if (n?.kind === 'symbol') out.add(n.base);
      }
    }
    if ((head.name === 'def' || head.name === 'defun') && b?.kind === 'list') {
      for (const p of b.items) if (p.kind === 'symbol') out.add(p.base);
    }
  }
  for (const item of node.items) collect(item, out);
}

const localCache = new WeakMap<Program, ReadonlySet<string>>();

/**
 * Names that could ever be bound in a scope other than the global one: def parameters, let and
 * with variables, and defvar inside a def, let or with (which runs in that form's scope). Any
 * other name can only live in the global scope, so the evaluator looks it up there directly
 * instead of walking the chain of dynamic scopes.
 */
export function localNames(program: Program): ReadonlySet<string> {
  let names = localCache.get(program);
  if (names === undefined) {
    const found = new Set<string>();
    for (const form of program.forms) collectLocal(form, false, found);
    names = found;
    localCache.set(program, names);
  }
  return names;
}

/** Heads whose arguments run in the caller's scope (a user function's run in the call's own). */
const SAME_SCOPE: ReadonlySet<string> = new Set(
  [...specialForms.keys(), 'eval'].filter((n) => !['let', 'with', 'def', 'defun'].includes(n)),
);

function collectLocal(node: Node, nested: boolean, out: Set<string>): void {
  if (node.kind !== 'list') return;
  const [head, a, b] = node.items;
  // A call of a user function evaluates its arguments in its new scope, so a defvar there is
  // local too: anything but a form known to run in place counts as nested.
  let inner = nested;
  if (head?.kind === 'symbol') inner ||= !SAME_SCOPE.has(head.name);
  else if (head !== undefined && head.kind !== 'operator') inner = true;
  if (head?.kind === 'symbol') {
    if (head.name === 'defvar' && nested && a?.kind === 'symbol') out.add(a.base);
    if (head.name === 'with') {
      if (b?.kind === 'symbol') out.add(b.base);
      inner = true;
    }
    if (head.name === 'let') {
      if (a?.kind === 'list') {
        for (const binding of a.items) {
          const n = binding.kind === 'list' ? binding.items[0] : undefined;
          if (n?.kind === 'symbol') out.add(n.base);
        }
      }
      inner = true;
    }
    if (head.name === 'def' || head.name === 'defun') {
      if (b?.kind === 'list') for (const p of b.items) if (p.kind === 'symbol') out.add(p.base);
      inner = true;
    }
  }
  for (const item of node.items) collectLocal(item, inner, out);
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
