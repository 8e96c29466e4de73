import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPolicySet, loadPolicySet } from './index.js';

function check(src: string, extra: string[] = []): string[] {
  const loaded = loadPolicySet([{ file: 'c.policy', text: src }]);
  if (!loaded.ok) throw loaded.errors[0];
  return checkPolicySet(loaded.set, extra).map(
    (e) => `${e.span.line}:${e.span.col} ${e.severity}: ${e.message}`,
  );
}

test('a clean set has no problems', () => {
  assert.deepEqual(check('(defvar x 1) (def f (a) (+ a x)) (f 2) (with Guests g (g.Control "x" 1))'), []);
});

test('unknown functions are reported at their name', () => {
  assert.deepEqual(check('(defvar x 1)\n(frob x)'), ["2:2 error: Unknown function 'frob'."]);
});

test('wrong arity to a def, a form, an operator and a builtin function', () => {
  assert.deepEqual(check('(def f (a b) a)\n(f 1)\n(if 1 2)\n(- 1)\n(abs 1 2)\n(not)'), [
    "2:1 error: Function 'f' expects 2 arguments, got 1.",
    "3:1 error: 'if' expects 3 arguments, got 2.",
    "4:1 error: '-' expects 2 arguments, got 1.",
    "5:1 error: 'abs' expects 1 argument, got 2.",
    "6:1 error: 'not' expects 1 argument, got 0.",
  ]);
});

test('problems inside functions that never run are still found', () => {
  assert.deepEqual(check('(def never () (if 1 2))'), ["1:15 error: 'if' expects 3 arguments, got 2."]);
});

test('malformed let/def/with/defvar shapes', () => {
  assert.deepEqual(check('(let (x 1) x)\n(def f 3 1)\n(with Guests (g) 1)\n(defvar "x" 1)'), [
    '1:7 error: let expects each binding to be a (name value) pair.',
    '2:8 error: def expects a parameter list such as (a b) as its second argument.',
    '3:14 error: with expects the loop variable to be a name, not a list.',
    '4:9 error: defvar expects its first argument to be a name, not a string.',
  ]);
});

test('a call through a name some form binds as a variable is not judged (it may hold a function)', () => {
  assert.deepEqual(check('(def apply1 (f x) (f x)) (apply1 abs -1)'), []);
});

test('names from --env count as variables', () => {
  assert.deepEqual(check('(hook 1)', ['hook']), []);
  assert.deepEqual(check('(hook 1)'), ["1:2 error: Unknown function 'hook'."]);
});

test('a def shadowed by a built-in form is a warning, not an error', () => {
  assert.deepEqual(check('(def max (a b) 0)'), [
    "1:1 warning: Function 'max' has the name of a built-in form, so calls to it run the built-in instead.",
  ]);
});

test('calling a non-name is reported', () => {
  assert.deepEqual(check('(1 2)\n("s")\n()'), [
    '1:2 error: Cannot call the number 1; a list must start with a function name.',
    '2:2 error: Cannot call the string "s"; a list must start with a function name.',
    '3:1 error: Cannot evaluate an empty list ().',
  ]);
});
