import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scope } from './env.js';
import { RecordValue } from './values.js';

test('define never overwrites in the same scope, but shadows an outer one', () => {
  const g = new Scope(null);
  assert.equal(g.define('x', 1n), 1n);
  assert.equal(g.define('x', 2n), 1n);
  const inner = g.child();
  inner.define('x', 3n);
  assert.equal(inner.lookup('x', undefined), 3n);
  assert.equal(g.lookup('x', undefined), 1n);
});

test('assign updates the nearest scope holding the name, and fails for an unknown one', () => {
  const g = new Scope(null);
  g.define('x', 1n);
  const inner = g.child();
  assert.equal(inner.assign('x', 5n), true);
  assert.equal(g.lookup('x', undefined), 5n);
  assert.equal(inner.assign('nope', 1n), false);
});

test('a nil value is found (not confused with absence)', () => {
  const g = new Scope(null);
  g.define('n', null);
  assert.equal(g.lookup('n', undefined), null);
  assert.equal(g.lookup('absent', undefined), undefined);
});

test('a dotted name falls back outward when the inner value lacks the attribute', () => {
  const g = new Scope(null);
  g.define('cfg', new RecordValue({ a: 1 }, 'outer'));
  const inner = g.child();
  inner.define('cfg', new RecordValue({ b: 2 }, 'inner'));
  assert.equal(inner.lookup('cfg', 'b'), 2n);
  assert.equal(inner.lookup('cfg', 'a'), 1n);
  assert.equal(inner.lookup('cfg', 'c'), undefined);
});

test('a scope keeps working past its small-array size', () => {
  const g = new Scope(null);
  for (let i = 0; i < 50; i++) g.define(`v${i}`, BigInt(i));
  assert.equal(g.define('v3', 99n), 3n);
  assert.equal(g.assign('v40', 7n), true);
  assert.equal(g.lookup('v40', undefined), 7n);
  assert.equal(g.lookup('v49', undefined), 49n);
});
