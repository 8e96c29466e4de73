import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node } from './ast.js';
import { lex } from './lexer.js';
import { MAX_NESTING, parse } from './parser.js';

function parseText(src: string, file = 'p.policy'): ReturnType<typeof parse> {
  return parse(lex(src, file).tokens);
}
function shape(n: Node): unknown {
  switch (n.kind) {
    case 'list':
      return n.items.map(shape);
    case 'symbol':
      return n.name;
    case 'operator':
      return n.op;
    case 'int':
      return Number(n.value);
    default:
      return n.value;
  }
}

test('lists, bracket lists and nesting', () => {
  const { forms, errors } = parseText('(a [b 1] (c (d)))');
  assert.deepEqual(errors, []);
  assert.deepEqual(forms.map(shape), [['a', ['b', 1], ['c', ['d']]]]);
});

test('a { } block becomes (eval ...), as in MOM', () => {
  const { forms } = parseText('{1 2}');
  assert.deepEqual(forms.map(shape), [['eval', 1, 2]]);
});

test('call args are the items after the head', () => {
  const { forms } = parseText('(f 1 2)');
  const list = forms[0];
  assert.ok(list?.kind === 'list');
  assert.deepEqual(list.args.map(shape), [1, 2]);
});

test('several top-level forms keep their order and positions', () => {
  const { forms } = parseText('(a)\n  (b)');
  assert.deepEqual(
    forms.map((f) => [f.span.line, f.span.col]),
    [
      [1, 1],
      [2, 3],
    ],
  );
});

test('an unclosed list is reported at its opening, naming where it was opened', () => {
  const { errors } = parseText('(a\n (b 1)');
  assert.equal(errors.length, 1);
  assert.equal(
    errors[0]?.message,
    "Expected ')' to close the list opened at p.policy:1:1; the policy ended first.",
  );
  assert.deepEqual([errors[0]?.span.line, errors[0]?.span.col], [1, 1]);
});

test('a mismatched closer and a stray closer are both reported; parsing goes on', () => {
  const { forms, errors } = parseText('(a b]\n)\n(c)');
  assert.deepEqual(
    errors.map((e) => [e.span.line, e.span.col, e.message]),
    [
      [1, 5, "Expected ')' to close the list opened at p.policy:1:1, found ']'."],
      [2, 1, "Unexpected ')' with no list open."],
    ],
  );
  assert.deepEqual(forms.map(shape), [['a', 'b'], ['c']]);
});

test('a closer an enclosing list waits for closes that list: the inner one was left open', () => {
  const { forms, errors } = parseText('(defvar x [+ 1 2)\n(defvar y {3)\n(c)');
  assert.deepEqual(
    errors.map((e) => [e.span.line, e.span.col, e.message]),
    [
      [1, 17, "Expected ']' to close the list opened at p.policy:1:11, found ')'."],
      [2, 13, "Expected '}' to close the list opened at p.policy:2:11, found ')'."],
    ],
  );
  assert.deepEqual(forms.map(shape), [['defvar', 'x', ['+', 1, 2]], ['defvar', 'y', ['eval', 3]], ['c']]);
});

test('a list may span two files of a set, as when MOM joins the texts', () => {
  const tokens = [...lex('(defvar x', 'a.policy').tokens, ...lex('5)', 'b.policy').tokens];
  const { forms, errors } = parse(tokens);
  assert.deepEqual(errors, []);
  assert.deepEqual(forms.map(shape), [['defvar', 'x', 5]]);
  const inner = forms[0]?.kind === 'list' ? forms[0].items[2] : undefined;
  assert.equal(inner?.span.file, 'b.policy');
});

test('absurd nesting is refused instead of overflowing the stack', () => {
  const deep = '('.repeat(MAX_NESTING + 5) + ')'.repeat(MAX_NESTING + 5);
  const { errors } = parseText(deep);
  assert.equal(errors.length, 1);
  assert.match(errors[0]?.message ?? '', /nested more than/);
});
