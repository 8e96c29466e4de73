// The balloon: what inflating takes inside the guest. Its rates and guests without a driver, as
// the daemon sees them, are tested through the adapter (src/hypervisors/simulated/).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bootedGuest,
  context,
  emptyReport,
  MIB,
  setMemory,
  tinyScenario,
  toMib,
} from '../../test/support/sim-testkit.js';

const memknobs = {
  kind: 'memknobs' as const,
  base_mib: 0,
  pattern: { kind: 'constant' as const, mib: 0 },
};

test('inflating takes free memory first, then page cache, then cold anon, then hot anon (to guest swap)', () => {
  const sc = tinyScenario(
    [{ name: 'g', memory_mib: 2048, kernel_mib: 96, swap_mib: 2048, workload: memknobs }],
    {
      balloon: { inflate_mib_s: 10000, deflate_mib_s: 10000, deflate_on_oom: false },
      guest_defaults: { swap_write_mib_s: 10000, swap_readahead_pages: 4, cache_min_mib: 8 },
    },
  );
  const g = bootedGuest(sc);
  setMemory(g, { hotR: 800, coldR: 300, cacheR: 352 }); // free = 2048 - 96 - 800 - 300 - 352 = 500
  assert.equal(toMib(g.free()), 500);
  const ctx = context();

  // 400 MiB: all from free memory.
  g.target = g.cur - 400 * MIB;
  g.stepBalloon(ctx, emptyReport());
  assert.equal(toMib(g.free()), 100);
  assert.equal(toMib(g.cache()), 352);
  assert.equal(toMib(g.cold()), 300);
  assert.equal(g.swapUsed(), 0);

  // 400 MiB more: the rest of free (above the watermark), then cache; anon untouched.
  g.target = g.cur - 400 * MIB;
  g.stepBalloon(ctx, emptyReport());
  assert.ok(g.cache() < 352 * MIB && g.cache() > 0);
  assert.equal(toMib(g.cold()), 300);
  assert.equal(g.coldR, 300 * MIB, 'cold anon still in RAM');
  assert.equal(g.swapUsed(), 0);

  // 200 MiB more: cache down to its floor, then cold anon goes to the guest's swap, hot stays.
  g.target = g.cur - 200 * MIB;
  g.stepBalloon(ctx, emptyReport());
  assert.equal(toMib(g.cache()), 8);
  assert.ok(g.swapCold > 0 && g.coldR > 0, 'part of the cold anon swapped out');
  assert.equal(g.swapHot, 0, 'hot anon untouched while cold remains');

  // Far more: hot anon is swapped only once cold anon is gone from RAM.
  g.target = g.cur - 600 * MIB;
  g.stepBalloon(ctx, emptyReport());
  assert.equal(g.coldR + g.coldH, 0);
  assert.ok(g.swapHot > 0);
  assert.ok(g.swapOutPages > 0);
});

test('inflating releases the host pages behind the ballooned memory', () => {
  const sc = tinyScenario([{ name: 'g', memory_mib: 1024, workload: memknobs }]);
  const g = bootedGuest(sc);
  setMemory(g, { hotR: 200 });
  const before = g.resident();
  g.target = g.cur - 300 * MIB;
  g.stepBalloon(context(), emptyReport());
  assert.equal(toMib(before - g.resident()), 256, 'inflate_mib_s default 256 in one second');
});
