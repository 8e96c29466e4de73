import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lex, type Token } from './lexer.js';

const kinds = (src: string): string[] => lex(src, 't.policy').tokens.map(show);
function show(t: Token): string {
  switch (t.kind) {
    case 'int':
      return `int:${t.value}`;
    case 'float':
      return `float:${t.value}`;
    case 'string':
      return `str:${t.value}`;
    case 'symbol':
      return `sym:${t.name}`;
    case 'operator':
      return `op:${t.op}`;
    default:
      return t.text;
  }
}

test('numbers: decimal, negative, float forms, hex, octal; exponent makes a float', () => {
  assert.deepEqual(kinds('42 -5 1.5 .25 -.5 1e3 2E-2 0x1F 0X1f 0o17 0'), [
    'int:42',
    'int:-5',
    'float:1.5',
    'float:0.25',
    'float:-0.5',
    'float:1000',
    'float:0.02',
    'int:31',
    'int:31',
    'int:15',
    'int:0',
  ]);
});

test('integers keep every digit (bigint)', () => {
  assert.deepEqual(kinds('123456789012345678901234567890'), ['int:123456789012345678901234567890']);
});

test('the minus sign belongs to a decimal literal but not to hex; alone it is the operator', () => {
  assert.deepEqual(kinds('(- 5 3) (-5) -0x10'), [
    '(',
    'op:-',
    'int:5',
    'int:3',
    ')',
    '(',
    'int:-5',
    ')',
    'op:-',
    'int:16',
  ]);
});

test('tokens need no separators', () => {
  assert.deepEqual(kinds('(+1 2)(<=2 2)'), [
    '(',
    'op:+',
    'int:1',
    'int:2',
    ')',
    '(',
    'op:<=',
    'int:2',
    'int:2',
    ')',
  ]);
});

test('operators: the longest match wins', () => {
  assert.deepEqual(kinds('<< >> <= >= == != < > + - * /'), [
    'op:<<',
    'op:>>',
    'op:<=',
    'op:>=',
    'op:==',
    'op:!=',
    'op:<',
    'op:>',
    'op:+',
    'op:-',
    'op:*',
    'op:/',
  ]);
});

test('symbols may hold dots and dashes; and/or/not/nil are plain symbols', () => {
  assert.deepEqual(kinds('guest.balloon_cur foo-bar _x and nil'), [
    'sym:guest.balloon_cur',
    'sym:foo-bar',
    'sym:_x',
    'sym:and',
    'sym:nil',
  ]);
});

test('strings: both quotes, raw text (a backslash only protects a quote), may span lines', () => {
  assert.deepEqual(kinds(`"a\\"b" 'c\\nd' "x\ny"`), ['str:a\\"b', 'str:c\\nd', 'str:x\ny']);
});

test('# comments run to the end of the line, even at the end of the file', () => {
  assert.deepEqual(kinds('1 # two\n3 # four'), ['int:1', 'int:3']);
});

test('every stray character is an error with its line and column, and lexing goes on', () => {
  const { tokens, errors } = lex('(a ; b)\n  @ 1', 'x.policy');
  assert.deepEqual(
    errors.map((e) => [e.span.file, e.span.line, e.span.col, e.message]),
    [
      ['x.policy', 1, 4, "Unexpected character ';'."],
      ['x.policy', 2, 3, "Unexpected character '@'."],
    ],
  );
  assert.deepEqual(tokens.map(show), ['(', 'sym:a', 'sym:b', ')', 'int:1']);
});

test('malformed numbers are errors, not silent truncation', () => {
  for (const [src, msg] of [
    ['007', /leading zeros/],
    ['5.', /decimal point/],
    ['1e', /exponent/],
    ['0x', /hex digits/],
  ] as const) {
    const { errors } = lex(src, 'n.policy');
    assert.equal(errors.length, 1, src);
    assert.match(errors[0]?.message ?? '', msg, src);
  }
});

test('an unterminated string is one error at its opening quote', () => {
  const { errors } = lex('(x "abc\n\n', 's.policy');
  assert.equal(errors.length, 1);
  assert.deepEqual([errors[0]?.span.line, errors[0]?.span.col], [1, 4]);
});

test('after an unterminated string, lexing resumes on the next line and finds later errors', () => {
  const { tokens, errors } = lex("(a \"abc)\n(b @)\n(c 'x')", 's.policy');
  assert.deepEqual(
    errors.map((e) => [e.span.line, e.span.col, e.message]),
    [
      [1, 4, 'Unterminated string starting with ".'],
      [2, 4, "Unexpected character '@'."],
    ],
  );
  assert.deepEqual(tokens.map(show), ['(', 'sym:a', '(', 'sym:b', ')', '(', 'sym:c', 'str:x', ')']);
});

test('a malformed number is skipped whole: its tail is not read as another token', () => {
  const { tokens, errors } = lex('(0xZZ 5.x 1ex @)', 'n.policy');
  assert.deepEqual(
    errors.map((e) => [e.span.col, e.span.endCol, e.message]),
    [
      [2, 6, "Malformed number '0x': hex digits must follow 0x."],
      [7, 10, "Malformed number '5.': a decimal point must be followed by digits."],
      [11, 14, "Malformed number '1e': incomplete exponent."],
      [15, 16, "Unexpected character '@'."],
    ],
  );
  assert.deepEqual(tokens.map(show), ['(', ')']);
});

test('spans give 1-based line and column of each token', () => {
  const { tokens } = lex('(a\n  bb)', 'p.policy');
  assert.deepEqual(
    tokens.map((t) => [t.span.line, t.span.col]),
    [
      [1, 1],
      [1, 2],
      [2, 3],
      [2, 5],
    ],
  );
});
