// MOM's built-in forms and operators as one typed table. Arity is data, checked once before
// dispatch (here for evaluation, and by check.ts without running anything). Lazy forms are
// compiled from their argument nodes into a closure (the evaluator compiles every node once);
// strict ones receive evaluated values.
import { describeNode, type List, type Node } from './ast.js';
import { PolicyError } from './diagnostics.js';
import type { Scope } from './env.js';
import {
  add,
  compare,
  div,
  equals,
  isList,
  isTruthy,
  mul,
  shl,
  shr,
  sub,
  typeName,
  type Value,
} from './values.js';

export interface Arity {
  readonly min: number;
  readonly max: number;
}

/** A node compiled into a closure that evaluates it in a scope (one step of the budget each). */
export type Code = (scope: Scope) => Value;

/** What a form needs from the evaluator; passed in so forms do not import it (no module cycle). */
export interface FormContext {
  /** The node's closure, compiled once. */
  compile(node: Node): Code;
  defineFunction(name: string, params: readonly string[], body: Node): void;
}

interface FormBase {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly arity: Arity;
}
export interface LazyForm extends FormBase {
  readonly strict: false;
  /** Checks the shape of the argument nodes (names where names belong); throws PolicyError. */
  readonly checkShape?: (args: readonly Node[], call: List) => void;
  /**
   * The form's closure. A shape error (a number where a name belongs) is not thrown here: the
   * closure throws it when run, as a form in a branch never taken must not fail the policy.
   */
  compile(args: readonly Node[], ctx: FormContext, call: List): Code;
}
export interface StrictForm extends FormBase {
  readonly strict: true;
  /** Throws ValueError for bad values; the evaluator adds the call's position. */
  apply(args: readonly Value[]): Value;
  /** The same for exactly two arguments, without an array (the binary operators). */
  readonly apply2?: (a: Value, b: Value) => Value;
}
export type SpecialForm = LazyForm | StrictForm;

function shapeError(node: Node, message: string): PolicyError {
  return new PolicyError('MOM_E_POLICY_EVAL', message, node.span);
}

/** The closure `build` makes, or one that throws the shape error `build` threw. */
function shaped(build: () => Code): Code {
  try {
    return build();
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    return () => {
      throw err;
    };
  }
}

/** The name in a name position (`defvar NAME`, a parameter, a `with` variable), or a clear error. */
export function expectName(node: Node, form: string, role: string): string {
  if (node.kind !== 'symbol')
    throw shapeError(node, `${form} expects ${role} to be a name, not ${describeNode(node)}.`);
  return node.name;
}

/** `(let ((name value) ...) body...)`: the (name, value-node) pairs, or a clear error. */
export function letBindings(node: Node): Array<{ name: string; value: Node }> {
  if (node.kind !== 'list' || node.open === '{') {
    throw shapeError(node, 'let expects a list of (name value) bindings as its first argument.');
  }
  return node.items.map((b) => {
    if (b.kind !== 'list' || b.open === '{' || b.items.length !== 2) {
      throw shapeError(b, 'let expects each binding to be a (name value) pair.');
    }
    const name = b.items[0] as Node;
    if (name.kind !== 'symbol') {
      throw shapeError(name, `let expects each binding to start with a name, not ${describeNode(name)}.`);
    }
    return { name: name.name, value: b.items[1] as Node };
  });
}

/** `(def name (params) body)`: the parameter names, or a clear error. */
export function defParams(node: Node): string[] {
  if (node.kind !== 'list' || node.open === '{') {
    throw shapeError(node, 'def expects a parameter list such as (a b) as its second argument.');
  }
  return node.items.map((p) => expectName(p, 'def', 'each parameter'));
}

/** The first argument matching, else the last (how Python's `and`/`or` choose their value). */
function pick(args: readonly Value[], match: (v: Value) => boolean): Value {
  const i = args.findIndex(match);
  return args[i < 0 ? args.length - 1 : i] as Value;
}

const binary = (name: string, fn: (a: Value, b: Value) => Value, ...aliases: string[]): StrictForm => ({
  name,
  aliases,
  arity: { min: 2, max: 2 },
  strict: true,
  apply: (args) => fn(args[0] as Value, args[1] as Value),
  apply2: fn,
});

const FORMS: readonly SpecialForm[] = [
  {
    name: 'defvar',
    aliases: [],
    arity: { min: 2, max: 2 },
    strict: false,
    checkShape: ([name]) => void expectName(name as Node, 'defvar', 'its first argument'),
    compile: ([name, value], ctx) =>
      shaped(() => {
        const id = expectName(name as Node, 'defvar', 'its first argument');
        const v = ctx.compile(value as Node);
        return (scope) => scope.define(id, v(scope));
      }),
  },
  {
    name: 'set',
    aliases: ['setq'],
    arity: { min: 2, max: 2 },
    strict: false,
    checkShape: ([name]) => void expectName(name as Node, 'set', 'its first argument'),
    compile: ([name, value], ctx) =>
      shaped(() => {
        const id = expectName(name as Node, 'set', 'its first argument');
        const v = ctx.compile(value as Node);
        return (scope) => {
          const x = v(scope);
          if (!scope.assign(id, x)) {
            throw shapeError(
              name as Node,
              `Cannot set undefined variable '${id}'; define it with defvar first.`,
            );
          }
          return x;
        };
      }),
  },
  {
    name: 'if',
    aliases: [],
    arity: { min: 3, max: 3 },
    strict: false,
    compile([cond, yes, no], ctx) {
      const [c, y, n] = [cond, yes, no].map((a) => ctx.compile(a as Node)) as [Code, Code, Code];
      return (scope) => (isTruthy(c(scope)) ? y(scope) : n(scope));
    },
  },
  {
    name: 'let',
    aliases: [],
    arity: { min: 2, max: Infinity },
    strict: false,
    checkShape: ([bindings]) => void letBindings(bindings as Node),
    compile: (args, ctx) =>
      shaped(() => {
        const bindings = letBindings(args[0] as Node).map(({ name, value }) => ({
          name,
          value: ctx.compile(value),
        }));
        const names = bindings.map((b) => b.name);
        const body = args.slice(1).map((a) => ctx.compile(a));
        return (scope) => {
          const inner = scope.child(names);
          for (const b of bindings) inner.define(b.name, b.value(inner));
          let result: Value = null;
          for (const c of body) result = c(inner);
          return result;
        };
      }),
  },
  {
    name: 'def',
    aliases: ['defun'],
    arity: { min: 3, max: 3 },
    strict: false,
    checkShape: ([name, params]) => {
      expectName(name as Node, 'def', 'the function name');
      defParams(params as Node);
    },
    compile: ([name, params, body], ctx) =>
      shaped(() => {
        const id = expectName(name as Node, 'def', 'the function name');
        const names = defParams(params as Node);
        return () => {
          ctx.defineFunction(id, names, body as Node);
          return id;
        };
      }),
  },
  {
    name: 'with',
    aliases: [],
    arity: { min: 3, max: 3 },
    strict: false,
    checkShape: ([list, variable]) => {
      expectName(list as Node, 'with', 'the list (such as Guests)');
      expectName(variable as Node, 'with', 'the loop variable');
    },
    compile: ([listNode, variable, bodyNode], ctx) =>
      shaped(() => {
        expectName(listNode as Node, 'with', 'the list (such as Guests)');
        const id = expectName(variable as Node, 'with', 'the loop variable');
        const names = [id];
        const listCode = ctx.compile(listNode as Node);
        const body = ctx.compile(bodyNode as Node);
        return (scope) => {
          const list = listCode(scope);
          // As in MOM, whose `with` iterates whatever Python can: a string gives its characters.
          const items = typeof list === 'string' ? Array.from(list) : isList(list) ? list : null;
          if (items === null) {
            throw shapeError(
              listNode as Node,
              `with expects a list or a string to iterate over, got ${typeName(list)}.`,
            );
          }
          const results: Value[] = [];
          for (const item of items) {
            const inner = scope.child(names);
            inner.define(id, item);
            results.push(body(inner));
          }
          return results;
        };
      }),
  },
  {
    name: 'and',
    aliases: [],
    arity: { min: 1, max: Infinity },
    strict: true,
    apply: (args) => pick(args, (v) => !isTruthy(v)),
  },
  {
    name: 'or',
    aliases: [],
    arity: { min: 1, max: Infinity },
    strict: true,
    apply: (args) => pick(args, isTruthy),
  },
  {
    name: 'not',
    aliases: [],
    arity: { min: 1, max: 1 },
    strict: true,
    apply: ([x]) => !isTruthy(x as Value),
  },
  {
    name: 'min',
    aliases: [],
    arity: { min: 1, max: Infinity },
    strict: true,
    apply: (args) => args.reduce((best, v) => (compare(v, best, 'min') < 0 ? v : best)),
  },
  {
    name: 'max',
    aliases: [],
    arity: { min: 1, max: Infinity },
    strict: true,
    apply: (args) => args.reduce((best, v) => (compare(v, best, 'max') > 0 ? v : best)),
  },
  {
    name: 'null',
    aliases: [],
    arity: { min: 0, max: Infinity },
    strict: true,
    apply: (args) => args.every((v) => v === null || v === '' || (isList(v) && v.length === 0)),
  },
  {
    name: 'valid',
    aliases: [],
    arity: { min: 0, max: Infinity },
    strict: true,
    apply: (args) => args.every((v) => v !== null),
  },
  binary('add', add),
  binary('sub', sub),
  binary('mul', mul),
  binary('div', div),
  binary('lt', (a, b) => compare(a, b, '<') < 0),
  binary('gt', (a, b) => compare(a, b, '>') > 0),
  binary('lte', (a, b) => compare(a, b, '<=') <= 0),
  binary('gte', (a, b) => compare(a, b, '>=') >= 0),
  binary('eq', equals),
  binary('neq', (a, b) => !equals(a, b)),
  binary('shl', shl),
  binary('shr', shr),
];

/** Every form by name and alias. */
export const specialForms: ReadonlyMap<string, SpecialForm> = new Map(
  FORMS.flatMap((f) => [f.name, ...f.aliases].map((n) => [n, f] as const)),
);
