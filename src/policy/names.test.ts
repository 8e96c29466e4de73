import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localNames } from './names.js';
import { lex } from './lexer.js';
import { parse } from './parser.js';

function locals(src: string): string[] {
  const forms = parse(lex(src, 'n.policy').tokens).forms;
  return [...localNames({ forms, files: ['n.policy'] })].sort();
}

test('localNames: parameters, let and with variables, and defvar inside them are local', () => {
  assert.deepEqual(
    locals('(def f (a b) (defvar c 1)) (let ((d 1)) (defvar e 2)) (with Guests g (defvar h 3))'),
    ['a', 'b', 'c', 'd', 'e', 'g', 'h'],
  );
});

test('localNames: a defvar at top level, in if, in a block or in an operator stays global', () => {
  assert.deepEqual(locals('(defvar x 1) (if 1 (defvar y 2) 0) { (defvar z 3) } (+ (defvar w 4) 1)'), []);
});

test('localNames: a defvar in the arguments of a call runs in the callee scope, so it is local', () => {
  assert.deepEqual(locals('(def f (a) a) (f (defvar leak 5)) (Host.SetVar "k" (defvar v 1))'), [
    'a',
    'leak',
    'v',
  ]);
});
