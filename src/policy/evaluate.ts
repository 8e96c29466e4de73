// Stage 3: walks the parsed AST against a global scope. Parsing happened once at load; each cycle
// only walks. Calls resolve in MOM's order (notes/policy-language.md "Names and calls"): a variable
// holding a function, a built-in form or operator, `eval`, a user `def`, else an error.
import { assertNever, describeCallee, type List, type Node, type Program, type Span } from './ast.js';
import { PolicyError } from './diagnostics.js';
import { Scope } from './env.js';
import { specialForms, type Code, type FormContext } from './special-forms.js';
import { describeArity, typeName, ValueError, type PolicyFunction, type Value } from './values.js';
import { boundNames, localNames } from './names.js';

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
  /** The body's closure. */
  readonly body: Code;
}

/**
 * Evaluates every top-level form in order in one fresh global scope and returns their values.
 * Throws PolicyError (with the position of the failing form) on the first error.
 *
 * Each node is compiled once into a closure (what the tree walk would do for it, with every
 * decision that depends only on the program made in advance: which form a call names, whether
 * its head could be a variable, its arity) and the closures are kept with the program for the
 * next evaluation with the same global names. The program's meaning is unchanged: names still
 * resolve at run time in MOM's order, errors are the same at the same positions, and the step
 * budget counts the same nodes.
 */
export function evaluateProgram(program: Program, options: EvaluateOptions): Value[] {
  const run = compiledFor(program, options.globals);
  run.reset(options.maxSteps ?? DEFAULT_MAX_STEPS, options.maxDepth ?? DEFAULT_MAX_DEPTH);
  const global = new Scope(null);
  for (const [name, value] of options.globals) global.define(name, value);
  run.global = global;
  try {
    return program.forms.map((form) => {
      run.currentForm = form;
      return run.code(form)(global);
    });
  } catch (err) {
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      const where = run.deepestCall ??
        program.forms[0]?.span ?? { file: '<policy>', line: 1, col: 1, endLine: 1, endCol: 1 };
      throw new PolicyError(
        'MOM_E_POLICY_BUDGET',
        'Recursion too deep (the interpreter stack is full).',
        where,
      );
    }
    throw err;
  } finally {
    // Nothing of this evaluation outlives it (its entities would stay alive until the next one).
    run.defs.clear();
    run.global = NO_GLOBALS;
    run.currentForm = undefined;
  }
}

/** The global scope between evaluations. */
const NO_GLOBALS = new Scope(null);

/** Compiled programs, by program and then by the names of the globals they were compiled for. */
const compiledPrograms = new WeakMap<Program, Map<string, Compiled>>();

function compiledFor(program: Program, globals: ReadonlyMap<string, Value>): Compiled {
  let byGlobals = compiledPrograms.get(program);
  if (byGlobals === undefined) {
    byGlobals = new Map();
    compiledPrograms.set(program, byGlobals);
  }
  const key = [...globals.keys()].sort().join('\0');
  let compiled = byGlobals.get(key);
  if (compiled === undefined) {
    // A call head can only hold a function if some form could bind that name; the rest skip the lookup.
    compiled = new Compiled(new Set([...boundNames(program), ...globals.keys()]), localNames(program));
    byGlobals.set(key, compiled);
  }
  return compiled;
}

/**
 * The closures of one program and the state of the evaluation running them (evaluation is
 * synchronous and a policy cannot start another, so one state per program suffices).
 */
class Compiled {
  steps = 0;
  maxSteps = DEFAULT_MAX_STEPS;
  depth = 0;
  maxDepth = DEFAULT_MAX_DEPTH;
  /** User functions defined so far in this evaluation. */
  readonly defs = new Map<string, UserFunction>();
  /** Where the evaluator last entered a user function: the place to blame if the JS stack runs out. */
  deepestCall: Span | undefined;
  /**
   * The top-level form being evaluated: where a budget overrun is reported (the node on which the
   * count happens to run out says nothing to a reader).
   */
  currentForm: Node | undefined;
  /** The global scope of the evaluation running: where a name no inner scope can bind lives. */
  global = NO_GLOBALS;
  private readonly codes = new Map<Node, Code>();
  private readonly ctx: FormContext = {
    compile: (node) => this.code(node),
    defineFunction: (name, params, body) => void this.defs.set(name, { params, body: this.code(body) }),
  };

  constructor(
    private readonly variables: ReadonlySet<string>,
    private readonly locals: ReadonlySet<string>,
  ) {}

  /** Where base is looked up: the global scope directly when no inner scope could hold it. */
  private lookupIn(base: string): (scope: Scope) => Scope {
    return this.locals.has(base) ? (scope) => scope : () => this.global;
  }

  reset(maxSteps: number, maxDepth: number): void {
    this.steps = 0;
    this.depth = 0;
    this.maxSteps = maxSteps;
    this.maxDepth = maxDepth;
    this.deepestCall = undefined;
    this.currentForm = undefined;
  }

  code(node: Node): Code {
    let c = this.codes.get(node);
    if (c === undefined) {
      c = this.compile(node);
      this.codes.set(node, c);
    }
    return c;
  }

  private overBudget(node: Node): PolicyError {
    return new PolicyError(
      'MOM_E_POLICY_BUDGET',
      `Evaluation budget exceeded (${this.maxSteps} steps); is a function recursing without end?`,
      (this.currentForm ?? node).span,
    );
  }

  private compile(node: Node): Code {
    switch (node.kind) {
      case 'int':
      case 'float':
      case 'string': {
        const value = node.value;
        return () => {
          if (++this.steps > this.maxSteps) throw this.overBudget(node);
          return value;
        };
      }
      case 'symbol': {
        if (node.name === 'nil') {
          return () => {
            if (++this.steps > this.maxSteps) throw this.overBudget(node);
            return null;
          };
        }
        const { base, attr } = node;
        if (!this.locals.has(base)) {
          return () => {
            if (++this.steps > this.maxSteps) throw this.overBudget(node);
            const v = this.global.lookup(base, attr);
            if (v === undefined) throw evalError(node.span, `Undefined symbol '${node.name}'.`);
            return v;
          };
        }
        return (scope) => {
          if (++this.steps > this.maxSteps) throw this.overBudget(node);
          const v = scope.lookup(base, attr);
          if (v === undefined) throw evalError(node.span, `Undefined symbol '${node.name}'.`);
          return v;
        };
      }
      case 'operator':
        return () => {
          if (++this.steps > this.maxSteps) throw this.overBudget(node);
          throw evalError(
            node.span,
            `The operator '${node.op}' can only be used at the head of a list, as in (${node.op} a b).`,
          );
        };
      case 'list': {
        const call = this.compileCall(node);
        return (scope) => {
          if (++this.steps > this.maxSteps) throw this.overBudget(node);
          return call(scope);
        };
      }
      default:
        return assertNever(node);
    }
  }

  /** The closure of a call, without its step (compile() counts it). */
  private compileCall(call: List): Code {
    const head = call.items[0];
    if (head === undefined) {
      return () => {
        throw evalError(call.span, 'Cannot evaluate an empty list ().');
      };
    }
    if (head.kind !== 'symbol' && head.kind !== 'operator') {
      return () => {
        throw evalError(
          head.span,
          `Cannot call ${describeCallee(head)}; a list must start with a function name.`,
        );
      };
    }
    const name = head.name;
    const resolved = this.compileStaticCall(call, name, head.kind === 'operator' ? head.op : name);
    // 1. A variable holding a function (MOM treats a variable holding nil as absent).
    const base = head.kind === 'symbol' ? head.base : name;
    if (!this.variables.has(base)) return resolved;
    const attr = head.kind === 'symbol' ? head.attr : undefined;
    const args = this.argCodes(call.args);
    const where = this.lookupIn(base);
    return (scope) => {
      // An object's own method (guest.Control, disk.setTotalBytesSec) is called without making
      // a function value of it: on 1,000 guests those values were most of what an evaluation kept.
      if (attr !== undefined) {
        const owner = where(scope).methodOwner(base, attr);
        if (owner !== undefined) {
          const values = evaluateAll(args, scope);
          try {
            return owner.invoke(attr, values);
          } catch (err) {
            throw asPolicyError(err, call.span);
          }
        }
      }
      const fn = where(scope).lookup(base, attr);
      if (fn === undefined || fn === null) return resolved(scope);
      if (typeof fn !== 'object' || Array.isArray(fn) || (fn as PolicyFunction).kind !== 'function') {
        throw evalError(head.span, `'${name}' is not a function (it holds ${article(typeName(fn))}).`);
      }
      const values = evaluateAll(args, scope);
      try {
        return (fn as PolicyFunction).call(values);
      } catch (err) {
        throw asPolicyError(err, call.span);
      }
    };
  }

  /** Calls resolved without variables: 2. a built-in form, 3. eval, 4. a user function. */
  private compileStaticCall(call: List, name: string, shown: string): Code {
    const args = call.args;
    const form = specialForms.get(name);
    if (form !== undefined) {
      if (args.length < form.arity.min || args.length > form.arity.max) {
        return () => {
          throw evalError(call.span, `'${shown}' expects ${describeArity(form.arity)}, got ${args.length}.`);
        };
      }
      if (!form.strict) return form.compile(args, this.ctx, call);
      const codes = this.argCodes(args);
      const apply2 = form.apply2;
      if (apply2 !== undefined && codes.length === 2) {
        const [a, b] = codes as [Code, Code];
        return (scope) => {
          const x = a(scope);
          const y = b(scope);
          try {
            return apply2(x, y);
          } catch (err) {
            throw asPolicyError(err, call.span);
          }
        };
      }
      return (scope) => {
        const values = evaluateAll(codes, scope);
        try {
          return form.apply(values);
        } catch (err) {
          throw asPolicyError(err, call.span);
        }
      };
    }
    if (name === 'eval') {
      const codes = this.argCodes(args);
      return (scope) => {
        if (codes.length === 0) throw evalError(call.span, 'An empty block {} has no value.');
        let result: Value = null;
        for (const c of codes) result = c(scope);
        return result;
      };
    }
    // A user function, run as (let ((p1 a1) (p2 a2) ...) body) in a child of the caller's scope.
    const codes = this.argCodes(args);
    const head = call.items[0] as Node;
    return (scope) => {
      const fn = this.defs.get(name);
      if (fn === undefined) throw evalError(head.span, `Unknown function '${name}'.`);
      if (codes.length !== fn.params.length) {
        throw evalError(
          call.span,
          `Function '${name}' expects ${describeArity({ min: fn.params.length, max: fn.params.length })}, got ${codes.length}.`,
        );
      }
      if (this.depth >= this.maxDepth) {
        throw new PolicyError(
          'MOM_E_POLICY_BUDGET',
          `Recursion too deep (more than ${this.maxDepth} nested calls).`,
          call.span,
        );
      }
      this.depth++;
      this.deepestCall = call.span;
      try {
        const inner = scope.child(fn.params);
        for (let i = 0; i < codes.length; i++)
          inner.define(fn.params[i] as string, (codes[i] as Code)(inner));
        return fn.body(inner);
      } finally {
        this.depth--;
      }
    };
  }

  private argCodes(args: readonly Node[]): Code[] {
    return args.map((a) => this.code(a));
  }
}

function evaluateAll(codes: readonly Code[], scope: Scope): Value[] {
  const values = new Array<Value>(codes.length);
  for (let i = 0; i < codes.length; i++) values[i] = (codes[i] as Code)(scope);
  return values;
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
