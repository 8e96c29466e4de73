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

test('a scope opened for known names holds each only once defined, in order, and takes others too', () => {
  const g = new Scope(null);
  g.define('b', 10n);
  const params = ['a', 'b'];
  const call = g.child(params);
  assert.equal(call.lookup('b', undefined), 10n, 'a parameter not yet defined is not there');
  call.define('a', 1n);
  assert.equal(call.lookup('a', undefined), 1n);
  assert.equal(call.lookup('b', undefined), 10n);
  call.define('b', 2n);
  assert.equal(call.lookup('b', undefined), 2n);
  call.define('c', 3n);
  assert.equal(call.lookup('c', undefined), 3n);
  assert.deepEqual(params, ['a', 'b'], 'the shared list of names is left as it was');
  assert.equal(call.assign('a', 5n), true);
  assert.equal(call.lookup('a', undefined), 5n);
  const other = g.child(params);
  other.define('x', 1n);
  assert.equal(other.lookup('a', undefined), undefined);
  assert.equal(other.lookup('x', undefined), 1n);
});

test("a call's head finds the object whose own method it names, passing over a value without it", () => {
  const calls: string[] = [];
  const owner = {
    kind: 'object' as const,
    label: 'owner',
    getAttribute: (name: string) => (name === 'Go' ? null : undefined),
    hasMethod: (name: string) => name === 'Go',
    invoke: (name: string) => (calls.push(name), null),
  };
  const g = new Scope(null);
  g.define('e', owner);
  const inner = g.child(['e']);
  inner.define('e', new RecordValue({ other: 1 }, 'inner'));
  assert.equal(inner.methodOwner('e', 'Go'), owner);
  const shadow = g.child(['e']);
  shadow.define('e', new RecordValue({ Go: 1 }, 'shadow'));
  assert.equal(shadow.methodOwner('e', 'Go'), undefined, 'an attribute of the inner value wins');
  assert.equal(g.methodOwner('nothing', 'Go'), undefined);
});
