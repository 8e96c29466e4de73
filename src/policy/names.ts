// Static facts about a program that need no evaluation: which names any form could bind as a
// variable, and which functions it defines. Used by the evaluator (to skip impossible variable
// lookups on calls) and by the checker.
import type { Node, Program } from './ast.js';

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
