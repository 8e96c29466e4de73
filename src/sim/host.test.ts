// The host's reclaim: its own page cache first, then guest memory, blind to what guests use it for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSimulation } from './simulation.js';
import { GIB, idleGuest, MIB, setMemory, tinyScenario, toMib } from '../../test/support/sim-testkit.js';

const twoGuests = (hotWeight = 1) =>
  tinyScenario([idleGuest('a', { memory_mib: 2048 }), idleGuest('b', { memory_mib: 2048 })], {
    host: { memory_gib: 8, swap_gib: 4, reclaim_hot_weight: hotWeight },
  });

test('host reclaim does not prefer guest free pages: it swaps free, cache and hot pages alike', () => {
  const sim = createSimulation(twoGuests());
  const [a, b] = sim.guests;
  assert.ok(a && b);
  setMemory(a, { hotR: 512, cacheR: 512 }); // free: 2048 - 96 - 1024 = 928 MiB
  setMemory(b, { hotR: 1536 }); // free: 416 MiB
  const moved = sim.swapOutFrom(sim.running(), 600 * MIB);
  assert.equal(toMib(moved), 600);
  // Every resident reclaimable page had the same chance, whatever the guest uses it for.
  const share = (swapped: number, resident: number): number => swapped / (swapped + resident);
  const s = share(a.freeH, a.freeR);
  assert.ok(Math.abs(share(a.hotH, a.hotR) - s) < 1e-9);
  assert.ok(Math.abs(share(a.cacheH, a.cacheR) - s) < 1e-9);
  assert.ok(Math.abs(share(b.hotH, b.hotR) - s) < 1e-9);
  assert.ok(a.hotH > 0, 'hot anonymous pages were swapped although free pages remained');
  // The swapped free pages cost host swap-ins of garbage when the guest reuses them (nested
  // LRU): the idle workload now allocates its 100 MiB of kept memory from the free pool.
  assert.equal(a.hostSwapInPages, 0);
  a.step({
    now: 100,
    dt: 1,
    cpuShare: 1,
    hostSwapInS: 1e-3,
    guestSwapInS: 2.5e-4,
    diskReadS: 1e-3,
    freshPageS: 2e-6,
  });
  const expected = ((100 * MIB) / 4) * s;
  assert.ok(Math.abs(a.hostSwapInPages / expected - 1) < 0.01, `${a.hostSwapInPages} vs ${expected}`);
});

test('with reclaim_hot_weight 0 the host would spare hot pages (the knob exists, blind is the default)', () => {
  const sim = createSimulation(twoGuests(0));
  const [a] = sim.guests;
  assert.ok(a);
  setMemory(a, { hotR: 512 });
  sim.swapOutFrom(sim.running(), 256 * MIB);
  assert.equal(a.hotH, 0);
  assert.ok(a.freeH > 0);
});

test('the host drops its own page cache before swapping guest memory, and swaps when it must', async () => {
  const sc = tinyScenario([idleGuest('a', { memory_mib: 3072 }), idleGuest('b', { memory_mib: 3072 })], {
    host: { memory_gib: 6, swap_gib: 4, os_mib: 512, cache_mib: 1024, cache_min_mib: 64 },
  });
  const sim = createSimulation(sc);
  const [a, b] = sim.guests;
  assert.ok(a && b);
  // 2.3 GiB of guest memory in use each: the host is ~0.3 GiB short, less than its cache.
  setMemory(a, { hotR: 2300 });
  setMemory(b, { hotR: 2300 });
  a.freeU = a.freeR;
  a.freeR = 0;
  b.freeU = b.freeR;
  b.freeR = 0;
  assert.ok(sim.hostFree() < 0);
  sim.reclaimHost(1);
  assert.ok(sim.hostFree() > 0);
  assert.equal(sim.hostSwapUsed(), 0, 'no swapping while the host cache could be dropped');
  assert.ok(sim.hostCache < 1024 * MIB);
  // Now more than the cache can give: the host swaps guest pages out.
  for (const g of [a, b]) {
    g.hotR += 600 * MIB;
    g.freeU -= 600 * MIB;
  }
  sim.reclaimHost(1);
  assert.equal(toMib(sim.hostCache), 64);
  assert.ok(sim.hostSwapUsed() > 0);
  const mem = sim.hostMemory();
  assert.ok(mem.swapFree < mem.swapTotal);
  assert.equal(mem.total, 6 * GIB);
});

test('when host RAM and swap are both full, the OOM killer ends the biggest guest', async () => {
  const sc = tinyScenario(
    [idleGuest('small', { memory_mib: 1024 }), idleGuest('big', { memory_mib: 4096 })],
    {
      host: { memory_gib: 4, swap_gib: 0, os_mib: 256, cache_mib: 0 },
    },
  );
  const sim = createSimulation(sc);
  const big = sim.guests[1];
  assert.ok(big);
  setMemory(big, { hotR: 3900 });
  sim.reclaimHost(1);
  assert.equal(big.state, 'killed');
  assert.deepEqual(
    sim.running().map((g) => g.name),
    ['small'],
  );
  assert.equal(sim.results().host_oom_kills, 1);
});
