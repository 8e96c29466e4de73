import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostReading } from '../fields/catalogue.js';
import { PressureWatch } from './pressure-watch.js';

const GiB = 1024 * 1024;
const reading = (over: Partial<Record<keyof HostReading, number | null>> = {}): HostReading => ({
  mem_available: 4 * GiB,
  mem_free: 2 * GiB,
  swap_out: 1000,
  psi_some_total: 5_000_000,
  ...over,
});

test('a calm host wakes nothing', () => {
  const w = new PressureWatch({ wakeFree: 0.08, wakeStall: 0.05 });
  for (let t = 0; t < 5; t += 0.5) assert.equal(w.check(reading(), t), null);
});

test('each sign wakes on its rise, once, until the host is calm again', () => {
  const w = new PressureWatch({ wakeFree: 0.08, wakeStall: 0.05 });
  assert.equal(w.check(reading(), 0), null);
  assert.match(w.check(reading({ swap_out: 1200 }), 0.5) ?? '', /swapped out 200 pages in 0.5 s/);
  assert.equal(w.check(reading({ swap_out: 1500 }), 1), null, 'still swapping: no second wake');
  assert.equal(w.check(reading({ swap_out: 1500 }), 1.5), null, 'calm again');
  assert.match(
    w.check(reading({ swap_out: 1500, psi_some_total: 5_100_000 }), 2) ?? '',
    /stalled on memory 20% of the last 0.5 s/,
  );
  assert.equal(w.check(reading({ swap_out: 1500, psi_some_total: 5_100_000 }), 2.5), null);
  assert.match(
    w.check(reading({ swap_out: 1500, psi_some_total: 5_100_000, mem_free: 0.2 * GiB }), 3) ?? '',
    /freeable memory 5% < 8%/,
  );
});

test('a stall under the threshold, counters reset, or missing fields wake nothing', () => {
  const w = new PressureWatch({ wakeFree: 0.08, wakeStall: 0.05 });
  w.check(reading(), 0);
  assert.equal(w.check(reading({ psi_some_total: 5_010_000 }), 1), null, '1% stall');
  assert.equal(w.check(reading({ swap_out: 10 }), 2), null, 'a counter that went back');
  assert.equal(w.check({ mem_available: null, mem_free: null }, 3), null);
});

test('little free memory that turns into paging wakes a second time; easing back to little free memory does not', () => {
  const w = new PressureWatch({ wakeFree: 0.08, wakeStall: 0.05 });
  const low = { mem_free: 0.2 * GiB };
  w.check(reading(), 0);
  assert.match(w.check(reading(low), 0.5) ?? '', /freeable memory 5% < 8%/);
  assert.equal(w.check(reading(low), 1), null, 'still low: no second wake');
  assert.match(w.check(reading({ ...low, swap_out: 1100 }), 1.5) ?? '', /swapped out 100 pages/);
  assert.equal(w.check(reading({ ...low, swap_out: 1200 }), 2), null, 'still paging');
  assert.equal(w.check(reading({ ...low, swap_out: 1200 }), 2.5), null, 'eased to little free memory');
  assert.match(w.check(reading({ ...low, swap_out: 1300 }), 3) ?? '', /swapped out 100 pages/);
});

test('freeable memory falling by a further quarter of the threshold wakes again; holding steady does not', () => {
  const w = new PressureWatch({ wakeFree: 0.08, wakeStall: 0.05 });
  const free = (share: number): HostReading => reading({ mem_free: share * 4 * GiB });
  w.check(reading(), 0);
  assert.match(w.check(free(0.07), 0.5) ?? '', /freeable memory 7% < 8%/);
  assert.equal(w.check(free(0.06), 1), null, 'only 1% further: no wake');
  assert.match(w.check(free(0.045), 1.5) ?? '', /freeable memory 4.5% < 8%/, '2.5% under the last wake');
  assert.equal(w.check(free(0.045), 2), null, 'steady');
  assert.equal(w.check(free(0.06), 2.5), null, 'easing');
  assert.equal(w.check(free(0.04), 3), null, 'only 0.5% under the last wake');
  assert.match(w.check(free(0.02), 3.5) ?? '', /freeable memory 2% < 8%/);
  assert.match(
    w.check(reading({ mem_free: 0.02 * 4 * GiB, swap_out: 1100 }), 4) ?? '',
    /swapped out 100 pages/,
  );
  w.check(reading(), 4.5);
  assert.match(w.check(free(0.07), 5) ?? '', /7% < 8%/, 'calm in between: a first sign again');
});

test('a wake the engine refused (an early cycle ran too recently) wakes again at the next look', () => {
  const w = new PressureWatch({ wakeFree: 0.08, wakeStall: 0.05 });
  const free = (share: number): HostReading => reading({ mem_free: share * 4 * GiB });
  w.check(reading(), 0);
  assert.match(w.check(free(0.07), 0.5) ?? '', /7% < 8%/);
  assert.match(w.check(free(0.045), 1) ?? '', /4.5% < 8%/);
  w.refused();
  assert.match(w.check(free(0.044), 1.5) ?? '', /4.4% < 8%/, 'still 2% under the wake that was acted on');
  assert.equal(w.check(free(0.044), 2), null);
});
