// The simulated host as a whole: time steps, memory that adds up, pressure, determinism, results.
// Its adapter to the daemon's ports is tested in src/hypervisors/simulated/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadScenario } from './scenario.js';
import { createSimulation } from './simulation.js';
import { idleGuest, tinyScenario } from '../../test/support/sim-testkit.js';

test('advance steps in fixed steps and lands exactly on the requested time', () => {
  const sim = createSimulation(tinyScenario([idleGuest('a')], { step_s: 1 }));
  for (let i = 0; i < 4; i++) sim.advance(0.25);
  assert.equal(sim.now, 1);
  sim.advance(2.5);
  assert.equal(sim.now, 3.5);
  assert.throws(() => sim.advance(-1), RangeError);
});

test('host memory adds up: free + cached + anon = total', async () => {
  const sim = createSimulation(loadScenario('small'), { seed: 3 });
  for (const t of [5, 30, 60, 120]) {
    sim.advance(t - sim.now);
    const m = sim.hostMemory();
    assert.ok(Math.abs(m.free + m.cached + m.anon - m.total) < 8, `at ${t}s: ${JSON.stringify(m)}`);
    assert.ok(m.swapFree <= m.swapTotal);
  }
});

test('host swapping shows as memory pressure', async () => {
  const sim = createSimulation(loadScenario('small'));
  sim.advance(20);
  assert.equal(sim.pressure().some10, 0);
  sim.advance(30); // the build guest's spike at 25 s pushes the host into swap
  const m = sim.hostMemory();
  assert.ok(m.swapInPages > 0);
  assert.ok((sim.pressure().some10 ?? 0) > 10);
});

test('deterministic: the same seed gives the same results, another seed different ones', () => {
  const run = (seed: number) => {
    const sim = createSimulation(loadScenario('memknobs-32'), { seed });
    sim.advance(600);
    return sim.results();
  };
  const a = run(1);
  assert.deepEqual(run(1), a);
  const b = run(2);
  assert.notEqual(b.throughput_total, a.throughput_total);
  assert.notEqual(b.host_swap_out_pages, a.host_swap_out_pages);
});

test('results sum the guests and name the scenario', () => {
  const sim = createSimulation(loadScenario('small'));
  sim.advance(120);
  const r = sim.results();
  assert.equal(r.scenario, 'small');
  assert.equal(r.duration_s, 120);
  assert.equal(r.guests.length, 4);
  const total = r.guests.reduce((s, g) => s + g.throughput, 0);
  assert.ok(Math.abs(r.throughput_total - total) < 1e-9);
  assert.equal(
    r.guest_swap_in_pages,
    r.guests.reduce((s, g) => s + g.swap_in_pages, 0),
  );
  assert.ok(r.throughput_total > 0);
});

test("a guest's CPU time grows by what its vCPUs ran: a busy one about a CPU, an idle one nothing after boot", () => {
  const sim = createSimulation(
    tinyScenario([
      idleGuest('idle'),
      {
        name: 'busy',
        memory_mib: 1024,
        workload: { kind: 'memknobs', pattern: { kind: 'constant', mib: 200 } },
      },
    ]),
  );
  sim.advance(30);
  const [idle, busy] = sim.guests;
  const before = { idle: idle?.cpuMs ?? NaN, busy: busy?.cpuMs ?? NaN };
  sim.advance(10);
  const perS = (now: number | undefined, then: number): number => ((now ?? NaN) - then) / 10;
  assert.ok(perS(busy?.cpuMs, before.busy) > 900, `busy: ${perS(busy?.cpuMs, before.busy)} ms/s`);
  assert.ok(perS(idle?.cpuMs, before.idle) < 10, `idle: ${perS(idle?.cpuMs, before.idle)} ms/s`);
});
