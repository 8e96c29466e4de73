// Workloads: memknobs slowed by swapping (host swap worse than guest swap), page-cache reads
// slowed as the cache shrinks, and OOM kills when a spike exceeds memory plus swap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PatternSampler } from './pattern.js';
import { Rng } from './random.js';
import { createSimulation } from './simulation.js';
import { bootedGuest, context, setMemory, tinyScenario } from '../../test/support/sim-testkit.js';

const memknobsGuest = (mib: number) =>
  tinyScenario([
    {
      name: 'mk',
      memory_mib: 2048,
      swap_mib: 2048,
      workload: { kind: 'memknobs', base_mib: 0, touch_mib_s: 1024, pattern: { kind: 'constant', mib } },
    },
  ]);

test('memknobs throughput falls when its buffer is swapped, more for host swap than guest swap', () => {
  const sc = memknobsGuest(1024);
  const run = (mem: Parameters<typeof setMemory>[1]): number => {
    const g = bootedGuest(sc);
    setMemory(g, mem);
    return g.step(context()).throughput;
  };
  const resident = run({ hotR: 1024 });
  const guestSwapped = run({ hotR: 1024 - 100, swapHot: 100 });
  const hostSwapped = run({ hotR: 1024 - 100, hotH: 100 });
  assert.ok(Math.abs(resident - 1024) < 1, `resident: ${resident} MiB/s`);
  assert.ok(guestSwapped < resident * 0.5, `guest swap: ${guestSwapped} MiB/s`);
  assert.ok(hostSwapped < guestSwapped * 0.5, `host swap: ${hostSwapped} MiB/s`);
});

test('memknobs throughput also falls with CPU overcommitment', () => {
  const g = bootedGuest(memknobsGuest(512));
  setMemory(g, { hotR: 512 });
  assert.ok(Math.abs(g.step(context({ cpuShare: 0.5 })).throughput - 512) < 1);
});

test('pagecache throughput falls as the guest page cache shrinks below the working set', () => {
  const sc = tinyScenario([
    {
      name: 'web',
      memory_mib: 1024,
      workload: { kind: 'pagecache', working_set_mib: 512, max_read_mib_s: 64, anon_mib: 128 },
    },
  ]);
  const run = (cacheMib: number): number => {
    const g = bootedGuest(sc);
    setMemory(g, { hotR: 128, cacheR: cacheMib });
    return g.step(context()).throughput;
  };
  const full = run(512);
  const half = run(256);
  const little = run(64);
  assert.equal(Math.round(full), 64, 'a cached working set reads at the demanded rate');
  assert.ok(half < full, `${half} < ${full}`);
  assert.ok(little < half, `${little} < ${half}`);
});

test('pagecache reads fill the cache from free memory', () => {
  const sc = tinyScenario([
    { name: 'web', memory_mib: 1024, workload: { kind: 'pagecache', working_set_mib: 512, anon_mib: 128 } },
  ]);
  const sim = createSimulation(sc);
  const g = sim.guests[0];
  assert.ok(g);
  sim.advance(5);
  const early = g.cache();
  sim.advance(60);
  assert.ok(g.cache() > early);
  assert.ok(g.cache() <= 512 * 1024 + 64 * 1024);
});

const spike = (sizeMib: number) =>
  tinyScenario(
    [
      {
        name: 'sp',
        memory_mib: 1024,
        swap_mib: 256,
        workload: { kind: 'spike', boot_s: 5, keep_mib: 64, at_s: 10, size_mib: sizeMib, hold_s: 20 },
      },
    ],
    { host: { memory_gib: 8, swap_gib: 4 } },
  );

test('a spike beyond the guest memory plus its swap OOM-kills the workload', async () => {
  const sim = createSimulation(spike(1536));
  sim.advance(40);
  const r = sim.results();
  assert.equal(r.guest_oom_kills, 1);
  assert.equal(r.guests[0]?.oom_kills, 1);
  assert.equal(sim.running().length, 1, 'the guest itself keeps running');
  const g = sim.guests[0];
  assert.ok(g && g.hot() < 1024, 'the killed allocation was freed');
});

test('a spike within memory plus swap does not OOM-kill; it swaps inside the guest', () => {
  const sim = createSimulation(spike(900));
  sim.advance(40);
  const r = sim.results();
  assert.equal(r.guest_oom_kills, 0);
  assert.ok(r.guest_swap_out_pages > 0);
});

test('a balloon squeezing a guest makes an allocation that would have fit OOM-kill', async () => {
  const sim = createSimulation(spike(900));
  sim.advance(2);
  const [sp] = sim.running();
  assert.ok(sp);
  sim.setBalloonTarget(sp, 512 * 1024);
  sim.advance(40);
  assert.equal(sim.results().guest_oom_kills, 1);
});

test('patterns: waves, points with repetition and jitter', () => {
  const triangle = {
    kind: 'wave',
    shape: 'triangle',
    min_mib: 100,
    max_mib: 300,
    period_s: 100,
    phase_s: 0,
    phase_step_s: 25,
    period_step_s: 0,
    jitter_mib: 0,
    jitter_every_s: 60,
  } as const;
  const wave = new PatternSampler(triangle, 0, new Rng(1));
  assert.equal(wave.at(0), 100);
  assert.equal(wave.at(50), 300);
  assert.equal(wave.at(75), 200);
  // The same wave for the guest at index 1 of its group: shifted by phase_step_s.
  const shifted = new PatternSampler(triangle, 1, new Rng(1));
  assert.equal(shifted.at(25), 300);
  const pts = new PatternSampler(
    {
      kind: 'points',
      points: [
        [0, 0],
        [10, 100],
        [20, 100],
      ],
      interpolate: 'linear',
      repeat_s: 30,
      shift_step_s: 0,
      jitter_mib: 0,
      jitter_every_s: 60,
    },
    0,
    new Rng(1),
  );
  assert.equal(pts.at(5), 50);
  assert.equal(pts.at(35), 50);
  const jittery = (seed: number) =>
    new PatternSampler({ kind: 'constant', mib: 500, jitter_mib: 50, jitter_every_s: 10 }, 0, new Rng(seed));
  const a = jittery(1);
  const v = a.at(3);
  assert.ok(v >= 450 && v <= 550);
  assert.equal(a.at(9), v, 'constant within a jitter slot');
  assert.notEqual(jittery(2).at(3), v);
});
