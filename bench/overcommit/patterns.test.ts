import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  delayPattern,
  GUEST_OVERHEAD_MIB,
  hostDemand,
  memloadArgs,
  sizeAt,
  workloads,
  type Point,
} from './patterns.js';

// The default invocation: 4 guests of 576 MiB, a budget of 67% of their RAM.
const BUDGET_MIB = 0.67 * 4 * 576;
const shape: Point[] = [
  { t: 0, mib: 60 },
  { t: 110, mib: 300 },
];

test('sizeAt follows the points and loops', () => {
  assert.equal(sizeAt(shape, 240, 0), 60);
  assert.equal(sizeAt(shape, 240, 109), 60);
  assert.equal(sizeAt(shape, 240, 110), 300);
  assert.equal(sizeAt(shape, 240, 250), 60);
});

test('a delayed pattern is the same shape later', () => {
  for (const delay of [0, 60, 120, 180, 130]) {
    const moved = delayPattern(shape, 240, delay);
    assert.equal(moved[0]?.t, 0);
    for (let t = 0; t < 480; t += 7) assert.equal(sizeAt(moved, 240, t + delay), sizeAt(shape, 240, t));
  }
});

test('moderate: the mean fits the default budget, the peaks do not', () => {
  const d = hostDemand(workloads('moderate', 4, 576));
  assert.ok(d.meanMiB < BUDGET_MIB, `mean ${d.meanMiB}`);
  assert.ok(d.peakMiB > BUDGET_MIB, `peak ${d.peakMiB}`);
});

test('heavy: the demand is over the default budget all the time', () => {
  const ws = workloads('heavy', 4, 576);
  for (let t = 0; t < 240; t += 5) {
    const now = ws.reduce((s, w) => s + sizeAt(w.points, w.periodS, t) + GUEST_OVERHEAD_MIB, 0);
    assert.ok(now > BUDGET_MIB, `t=${t}: ${now} MiB`);
  }
});

test('idle-heavy: two busy guests, two idle ones holding cache and unfreed pages', () => {
  const ws = workloads('idle-heavy', 4, 576);
  assert.deepEqual(
    ws.map((w) => w.idle),
    [false, false, true, true],
  );
  assert.ok(ws.slice(2).every((w) => w.cacheMiB > 0 && !w.free));
  assert.ok(hostDemand(ws).meanMiB > BUDGET_MIB);
  // The busy guests alone (with every guest's overhead) would fit.
  const busyPeak = hostDemand(ws.slice(0, 2)).peakMiB + 2 * GUEST_OVERHEAD_MIB;
  assert.ok(busyPeak < BUDGET_MIB, `busy peak ${busyPeak}`);
});

test('every working set fits inside its guest', () => {
  for (const p of ['moderate', 'heavy', 'idle-heavy'] as const)
    for (const w of workloads(p, 4, 576)) {
      const biggest = Math.max(...w.points.map((x) => x.mib)) + w.cacheMiB;
      assert.ok(biggest + 40 <= 531, `${p}: ${biggest} MiB`);
    }
});

test('memload arguments: no spaces, a period, --free when pages are given back', () => {
  const [first] = workloads('moderate', 4, 576);
  assert.ok(first);
  assert.deepEqual(memloadArgs(first), ['--pattern', '0:60,110:300', '--period', '240', '--free']);
  const idle = workloads('idle-heavy', 4, 576)[3];
  assert.ok(idle && !memloadArgs(idle).includes('--free'));
});

test('sizes scale with the guest size', () => {
  const [w] = workloads('moderate', 4, 1152);
  assert.deepEqual(w?.points, [
    { t: 0, mib: 120 },
    { t: 110, mib: 600 },
  ]);
});
