import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { BalloonWatch } from './balloon-watch.js';

function watch(timeout = 30) {
  const clock = { t: 0 };
  return { clock, w: new BalloonWatch(timeout, () => clock.t, pino({ level: 'silent' })) };
}

test('a balloon that reaches its target is never stuck', () => {
  const { clock, w } = watch();
  w.targetSet('g', 800_000, 1_000_000);
  clock.t = 10;
  assert.equal(w.observe('g', 'g', 900_000), 0);
  clock.t = 20;
  assert.equal(w.observe('g', 'g', 800_500), 0);
  clock.t = 100;
  assert.equal(w.observe('g', 'g', 800_500), 0);
});

test('a balloon that does not move within the timeout is stuck until it moves', () => {
  const { clock, w } = watch(30);
  w.targetSet('g', 500_000, 1_000_000);
  clock.t = 29;
  assert.equal(w.observe('g', 'g', 1_000_000), 0);
  clock.t = 31;
  assert.equal(w.observe('g', 'g', 1_000_000), 1);
  // A new target does not clear the mark by itself.
  w.targetSet('g', 600_000, 1_000_000);
  assert.equal(w.observe('g', 'g', 1_000_000), 1);
  clock.t = 40;
  assert.equal(w.observe('g', 'g', 800_000), 0);
});

test('a slow but moving balloon is given more time', () => {
  const { clock, w } = watch(30);
  w.targetSet('g', 0, 1_000_000);
  for (let t = 20; t <= 200; t += 20) {
    clock.t = t;
    assert.equal(w.observe('g', 'g', 1_000_000 - t * 4_000), 0, `t=${t}`);
  }
});

test('a guest that is forgotten is no longer tracked', () => {
  const { clock, w } = watch(1);
  w.targetSet('g', 1, 1_000_000);
  w.forget('g');
  clock.t = 10;
  assert.equal(w.observe('g', 'g', 1_000_000), 0);
});
