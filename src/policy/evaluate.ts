// Stage 3: walks the parsed AST against a global scope. Parsing happened once at load; each cycle
// only walks. Calls resolve in MOM's order (notes/policy-language.md "Names and calls"): a variable
// holding a function, a built-in form or operator, `eval`, a user `def`, else an error.
import { assertNever, describeCallee, type List, type Node, type Program, type Span } from './ast.js';
import { PolicyError } from './diagnostics.js';
import { Scope } from './env.js';
import { specialForms, type FormContext } from './special-forms.js';
import { describeArity, typeName, ValueError, type PolicyFunction, type Value } from './values.js';
import { boundNames } from './names.js';

export interface EvaluateOptions {
  /** Global variables (Host, Guests, abs, debug, --env values ...). */
  readonly globals: ReadonlyMap<string, Value>;
  /** Maximum number of nodes evaluated in one run; exceeding it is an error, never a hang. */
  readonly maxSteps?: number;
  /** Maximum nesting of user function calls. */
  readonly maxDepth?: number;
}

export const DEFAULT_MAX_STEPS = 10_000_000;
export const DEFAULT_MAX_DEPTH = 256;

interface UserFunction {
  readonly params: readonly string[];
  readonly body: Node;
}

/**
 * Evaluates every top-level form in order in one fresh global scope and returns their values.
 * Throws PolicyError (with the position of the failing form) on the first error.
 */
export function evaluateProgram(program: Program, options: EvaluateOptions): Value[] {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const global = new Scope(null);
  for (const [name, value] of options.globals) global.define(name, value);
  // A call head can only hold a function if some form could bind that name; the rest skip the lookup.
  const variables = new Set([...boundNames(program), ...options.globals.keys()]);
  const defs = new Map<string, UserFunction>();
  let steps = 0;
  let depth = 0;
  // Where the evaluator last entered a user function: the place to blame if the JS stack runs out.
  let deepestCall: Span | undefined;
  // The top-level form being evaluated: where a budget overrun is reported (the node on which the
  // count happens to run out says nothing to a reader).
  let currentForm: Node | undefined;

  const ctx: FormContext = {
    evaluate,
    defineFunction: (name, params, body) => void defs.set(name, { params, body }),
  };

  try {
    return program.forms.map((form) => {
      currentForm = form;
      return evaluate(form, global);
    });
  } catch (err) {
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      const where = deepestCall ??
        program.forms[0]?.span ?? { file: '<policy>', line: 1, col: 1, endLine: 1, endCol: 1 };
      throw new PolicyError(
        'MOM_E_POLICY_BUDGET',
        'Recursion too deep (the interpreter stack is full).',
        where,
      );
    }
    throw err;
  }

  function evaluate(node: Node, scope: Scope): Value {
    if (++steps > maxSteps) {
      throw new PolicyError(
        'MOM_E_POLICY_BUDGET',
        `Evaluation budget exceeded (${maxSteps} steps); is a function recursing without end?`,
        (currentForm ?? node).span,
      );
    }
    switch (node.kind) {
      case 'int':
      case 'float':
      case 'string':
        return node.value;
      case 'symbol': {
        if (node.name === 'nil') return null;
        const v = scope.lookup(node.base, node.attr);
        if (v === undefined) throw evalError(node.span, `Undefined symbol '${node.name}'.`);
        return v;
      }
      case 'operator':
        throw evalError(
          node.span,
          `The operator '${node.op}' can only be used at the head of a list, as in (${node.op} a b).`,
        );
      case 'list':
        return evaluateCall(node, scope);
      default:
        return assertNever(node);
    }
  }

  function evaluateArgs(args: readonly Node[], scope: Scope): Value[] {
    const values = new Array<Value>(args.length);
    for (let i = 0; i < args.length; i++) values[i] = evaluate(args[i] as Node, scope);
    return values;
  }

  function evaluateCall(call: List, scope: Scope): Value {
    const head = call.items[0];
    if (head === undefined) throw evalError(call.span, 'Cannot evaluate an empty list ().');
    if (head.kind !== 'symbol' && head.kind !== 'operator') {
      throw evalError(
        head.span,
        `Cannot call ${describeCallee(head)}; a list must start with a function name.`,
      );
    }
    const name = head.name;
    // Messages name the callee as written: '+' rather than its alias 'add'.
    const shown = head.kind === 'operator' ? head.op : name;
    const args = call.args;

    // 1. A variable holding a function (MOM treats a variable holding nil as absent).
    if (variables.has(head.kind === 'symbol' ? head.base : name)) {
      const fn = head.kind === 'symbol' ? scope.lookup(head.base, head.attr) : scope.lookup(name, undefined);
      if (fn !== undefined && fn !== null) {
        if (typeof fn !== 'object' || Array.isArray(fn) || (fn as PolicyFunction).kind !== 'function') {
          throw evalError(head.span, `'${name}' is not a function (it holds ${article(typeName(fn))}).`);
        }
        const values = evaluateArgs(args, scope);
        try {
          return (fn as PolicyFunction).call(values);
        } catch (err) {
          throw asPolicyError(err, call.span);
        }
      }
    }

    // 2. A built-in form or operator.
    const form = specialForms.get(name);
    if (form !== undefined) {
      if (args.length < form.arity.min || args.length > form.arity.max) {
        throw evalError(call.span, `'${shown}' expects ${describeArity(form.arity)}, got ${args.length}.`);
      }
      if (!form.strict) return form.evaluate(args, scope, ctx, call);
      const values = evaluateArgs(args, scope);
      try {
        return form.apply(values);
      } catch (err) {
        throw asPolicyError(err, call.span);
      }
    }

    // 3. eval: the block form `{ a b c }`.
    if (name === 'eval') {
      if (args.length === 0) throw evalError(call.span, 'An empty block {} has no value.');
      let result: Value = null;
      for (const a of args) result = evaluate(a, scope);
      return result;
    }

    // 4. A user function, run as (let ((p1 a1) (p2 a2) ...) body) in a child of the caller's scope.
    const fn = defs.get(name);
    if (fn !== undefined) {
      if (args.length !== fn.params.length) {
        throw evalError(
          call.span,
          `Function '${name}' expects ${describeArity({ min: fn.params.length, max: fn.params.length })}, got ${args.length}.`,
        );
      }
      if (depth >= maxDepth) {
        throw new PolicyError(
          'MOM_E_POLICY_BUDGET',
          `Recursion too deep (more than ${maxDepth} nested calls).`,
          call.span,
        );
      }
      depth++;
      deepestCall = call.span;
      try {
        const inner = scope.child();
        for (let i = 0; i < args.length; i++)
          inner.define(fn.params[i] as string, evaluate(args[i] as Node, inner));
        return evaluate(fn.body, inner);
      } finally {
        depth--;
      }
    }

    throw evalError(head.span, `Unknown function '${name}'.`);
  }
}

function evalError(span: Span, message: string): PolicyError {
  return new PolicyError('MOM_E_POLICY_EVAL', message, span);
}

function asPolicyError(err: unknown, span: Span): unknown {
  if (err instanceof ValueError) return evalError(span, err.message + '.');
  return err;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
