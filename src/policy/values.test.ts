import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  RecordValue,
  add,
  compare,
  div,
  equals,
  fromJson,
  isTruthy,
  mul,
  shl,
  shr,
  show,
  sub,
  toJson,
  ValueError,
} from './values.js';

test('int op int stays an int; any float makes a float; bool counts as an int', () => {
  assert.equal(add(2n, 3n), 5n);
  assert.equal(add(2n, 0.5), 2.5);
  assert.equal(sub(true, 3n), -2n);
  assert.equal(mul(4n, 2.0), 8);
  assert.equal(typeof mul(4n, 2.0), 'number');
});

test('division is always true division, and by zero is an error', () => {
  assert.equal(div(6n, 3n), 2);
  assert.equal(typeof div(6n, 3n), 'number');
  assert.equal(div(1n, 4n), 0.25);
  assert.throws(() => div(1n, 0n), /division by zero/i);
  assert.throws(() => div(1.5, 0.0), /division by zero/i);
});

test('integers are unbounded; shifts are integer-only', () => {
  assert.equal(shl(1n, 40n), 1099511627776n);
  assert.equal(mul(99999999999n, 99999999999n), 9999999999800000000001n);
  assert.equal(shr(1024n, 3n), 128n);
  assert.throws(() => shl(1.0, 2n), ValueError);
  assert.throws(() => shl(1n, -1n), /negative shift/i);
  assert.throws(() => shl(1n, 1n << 20n), /too large/i);
  assert.throws(() => mul(1n << 2000n, 1.0), /Integer too large to convert to a float/);
  assert.throws(() => div(1n << 2000n, 3n), /too large for a float/);
  assert.equal(div(9007199254740993n, 3n), 3002399751580331);
  assert.equal(div(1n << 1100n, 1n << 1000n), 2 ** 100);
});

test('strings: + concatenates, * repeats; mixing with numbers is an error', () => {
  assert.equal(add('ab', 'cd'), 'abcd');
  assert.equal(mul('ab', 3n), 'ababab');
  assert.equal(mul(2n, 'x'), 'xx');
  assert.throws(() => add('1', 1n), /unsupported operand types for '\+': string and int/i);
  assert.throws(() => mul('a', 1.5), ValueError);
});

test('equality: 1 == 1.0, "1" != 1, lists element-wise, nil only equals nil', () => {
  assert.equal(equals(1n, 1.0), true);
  assert.equal(equals(true, 1n), true);
  assert.equal(equals('1', 1n), false);
  assert.equal(equals([1n, 'a'], [1.0, 'a']), true);
  assert.equal(equals(null, null), true);
  assert.equal(equals(null, 0n), false);
  assert.equal(equals(2n ** 64n, 2 ** 64), true);
  assert.equal(equals(2n ** 64n + 1n, 2 ** 64), false); // exact, unlike a float comparison
});

test('ordering: numbers with numbers, strings with strings; nil or mixed kinds are errors', () => {
  assert.equal(compare(1n, 1.5, '<'), -1);
  assert.equal(compare('b', 'a', '<'), 1);
  assert.equal(compare([1n, 2n], [1n, 3n], '<'), -1);
  assert.throws(() => compare(null, 5n, '<'), /cannot compare nil with int using '<'/i);
  assert.throws(() => compare(null, null, '<'), /cannot compare nil with nil/i);
  assert.throws(() => compare('1', 1n, '>'), ValueError);
});

test('truthiness follows Python', () => {
  for (const v of [0n, 0, '', null, false, []]) assert.equal(isTruthy(v), false, show(v));
  for (const v of [1n, -1n, 0.1, 'x', true, [0n], Number.NaN]) assert.equal(isTruthy(v), true, show(v));
});

test('JSON form: integers beyond 2^53 become decimal strings, floats stay numbers', () => {
  assert.equal(toJson(2n ** 53n - 1n), 9007199254740991);
  assert.equal(toJson(2n ** 53n + 1n), '9007199254740993');
  assert.equal(toJson(-(2n ** 60n)), '-1152921504606846976');
  assert.deepEqual(toJson([1n, 2.5, null, 'x', true]), [1, 2.5, null, 'x', true]);
});

test('from JSON: integral numbers become ints, objects become records read by name', () => {
  assert.equal(fromJson(3), 3n);
  assert.equal(fromJson(3.5), 3.5);
  const rec = fromJson({ t: 0.2, inner: { n: 1 } });
  assert.ok(rec instanceof RecordValue);
  assert.equal(rec.getAttribute('t'), 0.2);
  assert.equal(rec.getAttribute('missing'), undefined);
});

test('show prints values as MOM (Python) would', () => {
  assert.equal(show(2), '2.0');
  assert.equal(show(2n), '2');
  assert.equal(show(true), 'True');
  assert.equal(show(null), 'nil');
  assert.equal(show([1n, 'a']), "[1, 'a']");
  assert.equal(show(1e16), '1e+16');
  assert.equal(show(1.5e-5), '1.5e-05');
  assert.equal(show(-0), '-0.0');
  assert.equal(show(0.1), '0.1');
});
