import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Snapshot } from '../entities/snapshot.js';
import { ContentionWatch, exhausted } from './contention.js';

const MiB = 1024;
function snap(psiFull: number | null, guests: Array<[number, number, number]>): Snapshot {
  return {
    host: { properties: {}, stats: [{ psi_full_avg10: psiFull }] },
    guests: guests.map(([cur, min, swapIn], i) => ({
      properties: { name: `g${i}` },
      stats: [{ balloon_cur: cur, balloon_min: min, swap_in_rate: swapIn }],
    })),
  };
}
const atFloor: [number, number, number] = [512 * MiB, 512 * MiB, 0];
const swapping: [number, number, number] = [900 * MiB, 512 * MiB, 40];
const roomy: [number, number, number] = [900 * MiB, 512 * MiB, 0];

test('a guest is exhausted at its floor (or the backends’ minimum) or while it swaps in', () => {
  assert.equal(exhausted({ name: 'a', balloonKib: 512 * MiB, floorKib: 512 * MiB, swapInRate: 0 }), true);
  assert.equal(exhausted({ name: 'a', balloonKib: 64 * MiB, floorKib: 0, swapInRate: 0 }), true);
  assert.equal(exhausted({ name: 'a', balloonKib: 600 * MiB, floorKib: 512 * MiB, swapInRate: 3 }), true);
  assert.equal(exhausted({ name: 'a', balloonKib: 600 * MiB, floorKib: 512 * MiB, swapInRate: 0 }), false);
  assert.equal(exhausted({ name: 'a', balloonKib: null, floorKib: null, swapInRate: null }), false);
});

test('an episode starts once the host stalls for afterS with every guest exhausted, and ends after as long a calm', () => {
  const w = new ContentionWatch({ psiFull: 10, afterS: 30 });
  assert.equal(w.observe(snap(25, [atFloor, swapping]), 0), null);
  assert.equal(w.observe(snap(25, [atFloor, swapping]), 20), null);
  const started = w.observe(snap(30, [atFloor, swapping]), 30);
  assert.deepEqual(started, {
    change: 'started',
    facts: {
      psiFull: 30,
      sinceS: 30,
      guests: [
        { name: 'g0', balloonKib: 512 * MiB, floorKib: 512 * MiB, swapInRate: 0 },
        { name: 'g1', balloonKib: 900 * MiB, floorKib: 512 * MiB, swapInRate: 40 },
      ],
    },
  });
  assert.equal(w.active, true);
  assert.equal(w.observe(snap(30, [atFloor, swapping]), 40), null, 'said once');
  // Under the threshold but not under half of it: not calm.
  assert.equal(w.observe(snap(8, [atFloor, roomy]), 50), null);
  assert.equal(w.observe(snap(4, [atFloor, roomy]), 60), null);
  assert.equal(w.observe(snap(4, [atFloor, roomy]), 80), null);
  assert.deepEqual(w.observe(snap(2, [atFloor, roomy]), 90), { change: 'ended', durationS: 60 });
  assert.equal(w.active, false);
});

test('no episode while one guest could still give, when the stall breaks off, or when turned off', () => {
  const w = new ContentionWatch({ psiFull: 10, afterS: 30 });
  for (const t of [0, 10, 20, 30, 40]) assert.equal(w.observe(snap(50, [atFloor, roomy]), t), null);
  // The stall breaks off at 50: the 30 s start again.
  for (const [t, psi] of [
    [60, 50],
    [70, 5],
    [80, 50],
    [100, 50],
  ] as const)
    assert.equal(w.observe(snap(psi, [atFloor, atFloor]), t), null, `t=${t}`);
  assert.equal(w.observe(snap(50, [atFloor, atFloor]), 110)?.change, 'started');
  const off = new ContentionWatch({ psiFull: 0, afterS: 30 });
  for (const t of [0, 100, 200]) assert.equal(off.observe(snap(100, [atFloor]), t), null);
  const noPsi = new ContentionWatch({ psiFull: 10, afterS: 0 });
  assert.equal(noPsi.observe(snap(null, [atFloor]), 0), null, 'a host without PSI never contends');
});
