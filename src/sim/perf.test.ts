// Speed: one simulated hour of memknobs-32 with no control must take well under a minute.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadScenario } from './scenario.js';
import { createSimulation } from './simulation.js';

test('one simulated hour of memknobs-32 with no control runs in well under 60 s', () => {
  const sc = loadScenario('memknobs-32');
  const sim = createSimulation(sc, { seed: 1 });
  const start = performance.now();
  // As the daemon's fast mode does: small advances, a look at the host in between.
  while (sim.now < 3600) {
    sim.advance(5);
    void sim.hostMemory();
  }
  const ms = performance.now() - start;
  const r = sim.results();
  console.log(
    `memknobs-32, 1 h, no control: ${ms.toFixed(0)} ms wall; throughput_total ${r.throughput_total.toFixed(1)} MiB/s; ` +
      `host swap in/out ${r.host_swap_in_pages}/${r.host_swap_out_pages} pages`,
  );
  assert.equal(sim.now, 3600);
  assert.ok(ms < 60_000, `${ms} ms`);
  assert.ok(r.host_swap_out_pages > 0, 'the scenario pushes the host into swapping');
});
