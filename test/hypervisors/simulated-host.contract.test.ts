// The simulated host against the HostSource contract, with KSM and without.
import { createSimulatedBackend } from '../../src/hypervisors/simulated/index.js';
import { createSimulation } from '../../src/sim/index.js';
import { idleGuest, tinyScenario } from '../support/sim-testkit.js';
import { runHostContract } from './host-contract.js';

for (const available of [true, false]) {
  runHostContract(`simulated, ${available ? 'with' : 'without'} KSM`, async () => {
    const sim = createSimulation(tinyScenario([idleGuest('a'), idleGuest('b')], { ksm: { available } }));
    sim.advance(20);
    const { host } = createSimulatedBackend(sim);
    const a = sim.guests[0];
    if (a === undefined) throw new Error('no guest');
    return {
      host,
      writable: true,
      limitable: { id: a.uuid, name: a.name, uuid: a.uuid, pid: null },
      gone: { id: 'no-such-guest', name: 'x', uuid: 'no-such-guest', pid: null },
      ksmKnob: async (name) => (name === 'pages_to_scan' ? sim.ksmPagesToScan : sim.ksmSleepMs),
      close: async () => {},
    };
  });
}
