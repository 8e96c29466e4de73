// Static checks: the problems `momctl policy check` can report without running the policy.
// Conservative by design: a call whose head some form could bind as a variable is not judged,
// because at run time that variable may hold a function (MOM resolves variables first).
import { describeCallee, type List, type Node, type Program } from './ast.js';
import { PolicyError } from './diagnostics.js';
import { boundNames, evaluatedChildren } from './names.js';
import { specialForms } from './special-forms.js';
import { describeArity } from './values.js';

/** Global names every evaluation defines (besides --env values and entities). */
export const PREDEFINED_GLOBALS: readonly string[] = ['abs', 'debug', 'debug_enabled', 'Host', 'Guests'];

const BUILTIN_FUNCTION_ARITY = new Map([
  ['abs', { min: 1, max: 1 }],
  ['debug', { min: 1, max: Infinity }],
]);

export function checkProgram(program: Program, extraGlobals: readonly string[] = []): PolicyError[] {
  const problems: PolicyError[] = [];
  const variables = new Set([...boundNames(program), ...extraGlobals]);
  const defArities = new Map<string, Set<number>>();
  collectDefs(program.forms, defArities);

  for (const [name] of defArities) {
    if (specialForms.has(name) || name === 'eval') {
      const def = findDef(program.forms, name);
      if (def) {
        problems.push(
          new PolicyError(
            'MOM_E_POLICY_STATIC',
            `Function '${name}' has the name of a built-in form, so calls to it run the built-in instead.`,
            def.span,
            'warning',
          ),
        );
      }
    }
  }
  for (const form of program.forms) visit(form);
  const fileOrder = new Map(program.files.map((f, i) => [f, i]));
  return problems.sort(
    (a, b) =>
      (fileOrder.get(a.span.file) ?? 0) - (fileOrder.get(b.span.file) ?? 0) ||
      a.span.line - b.span.line ||
      a.span.col - b.span.col,
  );

  function visit(node: Node): void {
    if (node.kind !== 'list') return;
    checkCall(node);
    for (const item of evaluatedChildren(node)) visit(item);
  }

  function report(node: Node, message: string): void {
    problems.push(new PolicyError('MOM_E_POLICY_STATIC', message, node.span));
  }

  function checkCall(call: List): void {
    const head = call.items[0];
    const argc = call.items.length - 1;
    if (head === undefined) return report(call, 'Cannot evaluate an empty list ().');
    if (head.kind !== 'symbol' && head.kind !== 'operator') {
      return report(head, `Cannot call ${describeCallee(head)}; a list must start with a function name.`);
    }
    const name = head.name;
    const base = head.kind === 'symbol' ? head.base : name;
    if (head.kind === 'symbol' && head.attr !== undefined) return; // an entity method or object field
    if (variables.has(base) || PREDEFINED_GLOBALS.includes(base)) {
      const builtin = BUILTIN_FUNCTION_ARITY.get(name);
      if (builtin && !boundNames(program).has(name) && (argc < builtin.min || argc > builtin.max)) {
        report(call, `'${name}' expects ${describeArity(builtin)}, got ${argc}.`);
      }
      return;
    }
    const form = specialForms.get(name);
    if (form !== undefined) {
      if (argc < form.arity.min || argc > form.arity.max) {
        const shown = head.kind === 'operator' ? head.op : name;
        return report(call, `'${shown}' expects ${describeArity(form.arity)}, got ${argc}.`);
      }
      if (!form.strict && form.checkShape) {
        try {
          form.checkShape(call.args, call);
        } catch (err) {
          if (err instanceof PolicyError)
            problems.push(new PolicyError('MOM_E_POLICY_STATIC', err.message, err.span));
          else throw err;
        }
      }
      return;
    }
    if (name === 'eval') {
      if (argc === 0) report(call, 'An empty block {} has no value.');
      return;
    }
    const arities = defArities.get(name);
    if (arities === undefined) return report(head, `Unknown function '${name}'.`);
    if (!arities.has(argc)) {
      const expected = [...arities].sort((a, b) => a - b).join(' or ');
      report(
        call,
        `Function '${name}' expects ${expected} argument${expected === '1' ? '' : 's'}, got ${argc}.`,
      );
    }
  }
}

function isDef(node: Node): node is List {
  if (node.kind !== 'list') return false;
  const head = node.items[0];
  return head?.kind === 'symbol' && (head.name === 'def' || head.name === 'defun') && node.items.length === 4;
}

function collectDefs(nodes: readonly Node[], out: Map<string, Set<number>>): void {
  for (const node of nodes) {
    if (node.kind !== 'list') continue;
    if (isDef(node)) {
      const [, name, params] = node.items;
      if (name?.kind === 'symbol' && params?.kind === 'list') {
        const set = out.get(name.name) ?? new Set<number>();
        set.add(params.items.length);
        out.set(name.name, set);
      }
    }
    collectDefs(node.items, out);
  }
}

function findDef(nodes: readonly Node[], name: string): List | undefined {
  for (const node of nodes) {
    if (node.kind !== 'list') continue;
    if (isDef(node)) {
      const n = node.items[1];
      if (n?.kind === 'symbol' && n.name === name) return node;
    }
    const inner = findDef(node.items, name);
    if (inner) return inner;
  }
  return undefined;
}
