import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ring } from './ring.js';

test('a ring keeps the newest items, oldest first, and lists the newest N', () => {
  const r = new Ring<number>(3);
  assert.equal(r.latest(), undefined);
  for (let i = 1; i <= 5; i++) r.push(i);
  assert.deepEqual(r.list(), [3, 4, 5]);
  assert.deepEqual(r.list(2), [4, 5]);
  assert.deepEqual(r.list(0), []);
  assert.equal(r.latest(), 5);
  assert.equal(r.length, 3);
  assert.throws(() => new Ring(0), RangeError);
});
