import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinGlobals } from './builtins.js';
import { PolicyError } from './diagnostics.js';
import { evaluatePolicySet, loadPolicySet } from './index.js';
import { nativeFunction, type Value } from './values.js';

function run(
  src: string,
  extra: Record<string, Value> = {},
  options: { maxSteps?: number; maxDepth?: number } = {},
) {
  const loaded = loadPolicySet([{ file: 'e.policy', text: src }]);
  if (!loaded.ok) throw loaded.errors[0];
  const logs: string[] = [];
  const globals = builtinGlobals((m) => logs.push(m));
  for (const [k, v] of Object.entries(extra)) globals.set(k, v);
  return { values: evaluatePolicySet(loaded.set, { globals, ...options }), logs };
}
function fails(src: string, pattern: RegExp, at?: [number, number]): PolicyError {
  try {
    run(src);
  } catch (err) {
    assert.ok(err instanceof PolicyError, String(err));
    assert.match(err.message, pattern);
    if (at) assert.deepEqual([err.span.line, err.span.col], at);
    return err;
  }
  assert.fail(`expected an error matching ${pattern}`);
}

test('a parsed set is evaluated afresh each time: defvars and defs do not leak between runs', () => {
  const loaded = loadPolicySet([{ file: 'f.policy', text: '(defvar n 1) (set n (+ n 1)) n' }]);
  assert.ok(loaded.ok);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(evaluatePolicySet(loaded.set, { globals: builtinGlobals(() => {}) }), [1n, 2n, 2n]);
  }
});

test('resolution order: a variable holding a function is called before a built-in form', () => {
  const double = nativeFunction('double', { min: 1, max: 1 }, ([x]) => (x as bigint) * 2n);
  assert.deepEqual(run('(defvar max double) (max 21)', { double }).values.at(-1), 42n);
});

test('with over a string iterates its characters, as MOM (Python) does; an empty string gives []', () => {
  const src = '(defvar s "ab") (with s c (+ c c)) (with name c c) (defvar e "") (with e c (nope))';
  const { values } = run(src, { name: 'vm\u00e9\u{1F600}' });
  assert.deepEqual(values.slice(1, 3), [
    ['aa', 'bb'],
    ['v', 'm', '\u00e9', '\u{1F600}'],
  ]);
  assert.deepEqual(values.at(-1), [], 'the body never runs');
});

test('a variable holding nil does not hide the built-in of the same name', () => {
  assert.equal(run('(defvar max nil) (max 1 2)').values.at(-1), 2n);
});

test('a variable holding a number is not callable', () => {
  fails('(defvar f 5)\n(f 1)', /'f' is not a function \(it holds an int\)/, [2, 2]);
});

test('a user def named like a built-in is never called', () => {
  assert.equal(run('(def max (a b) 0) (max 1 2)').values.at(-1), 2n);
});

test('def: global even when nested, redefinition replaces, returns its name', () => {
  const { values } = run('(def outer () (def inner () 1)) (outer) (inner) (def inner () 2) (inner)');
  assert.deepEqual(values, ['outer', 'inner', 1n, 'inner', 2n]);
});

test('dynamic scoping: a helper reads its caller local', () => {
  const { values } = run('(def helper () secret) (def caller () { (defvar secret 7) (helper) }) (caller)');
  assert.equal(values.at(-1), 7n);
});

test('arguments are evaluated in the new scope after earlier parameters are bound', () => {
  // The second argument expression `a` sees the first parameter (a = 10), not the global a.
  const { values } = run('(defvar a 1) (def f (a b) b) (f 10 a)');
  assert.equal(values.at(-1), 10n);
});

test('and/or evaluate every argument (side effects happen) and return values', () => {
  const { values } = run('(defvar n 0) (and 0 (set n 1)) n (or 5 (set n 2)) n (and 1 "x")');
  assert.deepEqual(values.slice(1), [0n, 1n, 5n, 2n, 'x']);
});

test('debug logs its arguments and returns the last', () => {
  const { values, logs } = run('(debug "x is" 2.0 nil)');
  assert.deepEqual(values, [null]);
  assert.deepEqual(logs, ['x is 2.0 nil']);
});

test('an undefined symbol is an error only when evaluated', () => {
  assert.deepEqual(run('(if 1 2 undefined_thing) (def f () nope) 3').values, [2n, 'f', 3n]);
  fails('(def f () nope)\n(f)', /Undefined symbol 'nope'/, [1, 11]);
});

test('errors carry the position of the offending form', () => {
  fails('(+ 1\n  (/ 1 0))', /Division by zero/, [2, 3]);
  fails('(defvar x nil)\n(< x 5)', /Cannot compare nil with int using '<'/, [2, 1]);
  fails('(foo 1)', /Unknown function 'foo'/, [1, 2]);
  fails('(+ 1 2 3)', /'\+' expects 2 arguments, got 3/, [1, 1]);
  fails('(add 1)', /'add' expects 2 arguments, got 1/);
  fails('(if 1 2)', /'if' expects 3 arguments, got 2/);
  fails('(let (x 1) x)', /let expects each binding to be a \(name value\) pair/);
  fails('(def f x 1)', /def expects a parameter list/);
  fails('(with 5 g g)', /with expects the list \(such as Guests\) to be a name/);
  fails('(set y 1)', /Cannot set undefined variable 'y'/);
  fails('(defvar g 1) (with g x x)', /with expects a list or a string to iterate over, got int/);
  fails('(1 2)', /Cannot call the number 1/);
  fails('()', /Cannot evaluate an empty list/);
  fails('{}', /An empty block \{\} has no value/);
  fails('(defvar f +)', /The operator '\+' can only be used at the head of a list/);
});

test('infinite recursion ends with an error, quickly', () => {
  const t0 = Date.now();
  fails('(def f (n) (f n)) (f 1)', /Recursion too deep/);
  assert.ok(Date.now() - t0 < 1000);
});

test('exponential recursion exhausts the evaluation budget, quickly', () => {
  const t0 = Date.now();
  fails('(def h (n) (if (> n 0) {(h (- n 1)) (h (- n 1))} 0)) (h 60)', /Evaluation budget exceeded/);
  assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
});

test('the budget and depth limits are configurable', () => {
  assert.throws(() => run('(+ 1 (+ 2 3))', {}, { maxSteps: 3 }), /Evaluation budget exceeded \(3 steps\)/);
  assert.throws(
    () => run('(def f (n) (if (> n 0) (f (- n 1)) 0)) (f 10)', {}, { maxDepth: 5 }),
    /more than 5/,
  );
  assert.equal(run('(def f (n) (if (> n 0) (f (- n 1)) 0)) (f 10)', {}, { maxDepth: 11 }).values.at(-1), 0n);
});

test('if the process stack runs out first, the error blames the recursive call, not a crash', () => {
  assert.throws(
    () => run('(defvar x 1)\n(def f (n) (f n))\n(f 1)', {}, { maxDepth: 1_000_000 }),
    (err: unknown) => {
      assert.ok(err instanceof PolicyError);
      assert.match(err.message, /Recursion too deep \(the interpreter stack is full\)/);
      assert.equal(err.span.line, 2);
      return true;
    },
  );
});
