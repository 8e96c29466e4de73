// The balloon: what inflating takes inside the guest, its rates, and guests without a driver.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSimulation } from './simulation.js';
import {
  bootedGuest,
  context,
  emptyReport,
  idleGuest,
  MIB,
  setMemory,
  tinyScenario,
  toMib,
} from './testkit.js';

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

test('inflating and deflating proceed at the configured rates', async () => {
  const sc = tinyScenario([idleGuest('vm', { memory_mib: 2048 })], {
    balloon: { inflate_mib_s: 100, deflate_mib_s: 50, deflate_on_oom: false },
  });
  const sim = createSimulation(sc, { seed: 1 });
  sim.advance(10);
  const [vm] = await sim.hypervisor.listGuests();
  assert.ok(vm);
  const cur = async (): Promise<number> => {
    const s = (await sim.hypervisor.guestStats([vm.id])).get(vm.id);
    assert.ok(s && !(s instanceof Error));
    return (s.balloon_cur ?? NaN) / MIB;
  };
  assert.equal(await cur(), 2048);
  await sim.hypervisor.setBalloonTarget(vm.id, 1024 * MIB);
  sim.advance(1);
  assert.equal(Math.round(await cur()), 1948);
  sim.advance(4);
  assert.equal(Math.round(await cur()), 1548);
  sim.advance(10);
  assert.equal(Math.round(await cur()), 1024, 'stops at the target');
  await sim.hypervisor.setBalloonTarget(vm.id, 2048 * MIB);
  sim.advance(2);
  assert.equal(Math.round(await cur()), 1124);
  assert.equal(sim.results().balloon_ops, 2);
  // The same target again is not an operation; a target above the maximum is clamped to it.
  await sim.hypervisor.setBalloonTarget(vm.id, 2048 * MIB);
  await sim.hypervisor.setBalloonTarget(vm.id, 4096 * MIB);
  assert.equal(sim.results().balloon_ops, 2);
});

test('a guest without a balloon driver ignores targets and reports only its balloon size', async () => {
  const sc = tinyScenario([idleGuest('nodrv', { balloon: false }), idleGuest('drv')]);
  const sim = createSimulation(sc);
  sim.advance(10);
  const guests = await sim.hypervisor.listGuests();
  const nodrv = guests.find((g) => g.name === 'nodrv');
  assert.ok(nodrv);
  const model = sim.guests.find((g) => g.name === 'nodrv');
  assert.ok(model);
  const before = model.cur;
  await sim.hypervisor.setBalloonTarget(nodrv.id, 256 * MIB);
  sim.advance(30);
  assert.equal(model.cur, before);
  assert.equal(sim.results().balloon_ops, 0);
  const stats = (await sim.hypervisor.guestStats([nodrv.id])).get(nodrv.id);
  assert.ok(stats && !(stats instanceof Error));
  assert.equal(stats.balloon_cur, before);
  assert.equal(stats.mem_unused, null);
  assert.equal(stats.swap_in, null);
  assert.ok((stats.rss ?? 0) > 0, 'the host still knows its RSS');
});
