import assert from 'node:assert/strict';
import { test } from 'node:test';
import { History } from './history.js';

test('keeps only the newest N samples, oldest first', () => {
  const h = new History(3);
  for (let i = 1; i <= 5; i++) h.push({ n: i });
  assert.deepEqual(h.list(), [{ n: 3 }, { n: 4 }, { n: 5 }]);
  assert.deepEqual(h.latest(), { n: 5 });
  assert.equal(h.length, 3);
});

test('list() is a copy', () => {
  const h = new History(2);
  h.push({ n: 1 });
  const l = h.list();
  h.push({ n: 2 });
  assert.equal(l.length, 1);
});

test('a capacity below 1 is refused', () => {
  assert.throws(() => new History(0), RangeError);
});
