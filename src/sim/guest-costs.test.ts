// Two effects the real-guest benchmark showed (docs/simulator.md, "Calibrated on real guests"):
// memory the guest touched at boot stays out of free page reporting even when a workload reuses it
// for a while, and a guest reading back its own swap spends vCPU time on it (swap_in_cpu_us).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootedGuest, context, emptyReport, MIB, tinyScenario } from '../../test/support/sim-testkit.js';
import { createSimulation } from './simulation.js';

test("boot's stale memory survives a workload reusing it; the balloon takes its share away", () => {
  const sc = tinyScenario(
    [
      {
        name: 'g',
        memory_mib: 1024,
        kernel_mib: 32,
        boot_touched_mib: 200,
        workload: { kind: 'memknobs', base_mib: 0, pattern: { kind: 'constant', mib: 300 } },
      },
    ],
    { balloon: { inflate_mib_s: 10000, deflate_mib_s: 10000, free_page_reporting: true } },
  );
  const g = bootedGuest(sc);
  const stale = g.staleR;
  assert.equal(stale, 200 * MIB);
  for (let i = 0; i < 20; i++) g.step(context({ now: 100 + i }));
  assert.ok(g.hot() > 250 * MIB, 'the workload took its memory');
  assert.equal(g.staleR, stale, 'reuse leaves the stale amount where it was');
  g.target = g.cur - 300 * MIB;
  g.stepBalloon(context({ now: 121 }), emptyReport());
  assert.ok(g.staleR < stale, `the balloon's pages take stale ones with them: ${g.staleR / MIB} MiB left`);
});

test('swap_in_cpu_us: a guest paging its own swap gets less done the more each swap-in costs its vCPU', () => {
  const throughput = (swapInCpuUs: number): number => {
    const sc = tinyScenario(
      [
        {
          name: 'g',
          memory_mib: 512,
          swap_mib: 1024,
          workload: { kind: 'memknobs', base_mib: 0, pattern: { kind: 'constant', mib: 600 } },
        },
      ],
      { guest_defaults: { swap_in_cpu_us: swapInCpuUs } },
    );
    const sim = createSimulation(sc, { seed: 1 });
    sim.advance(300);
    const r = sim.results();
    assert.ok(r.guest_swap_in_pages > 0, 'the guest pages its own swap');
    return r.throughput_total;
  };
  const free = throughput(0);
  const costly = throughput(200);
  assert.ok(costly < 0.9 * free, `${costly} vs ${free}`);
});
