// The simulated host against the Hypervisor contract.
import { createSimulatedBackend } from '../../src/hypervisors/simulated/index.js';
import { createSimulation } from '../../src/sim/index.js';
import { idleGuest, tinyScenario } from '../support/sim-testkit.js';
import { runHypervisorContract } from './contract.js';

const MiB = 1024;

runHypervisorContract('simulated', async () => {
  const sim = createSimulation(
    tinyScenario([
      idleGuest('drv', { memory_mib: 1024, balloon_min_mib: 128 }),
      idleGuest('nodrv', { memory_mib: 768, balloon: false }),
      idleGuest('tmp', { memory_mib: 512 }),
    ]),
  );
  sim.advance(10); // booted
  const { hypervisor } = createSimulatedBackend(sim);
  return {
    hypervisor,
    withDriver: { name: 'drv', maxKib: 1024 * MiB, floorKib: 128 * MiB },
    withoutDriver: { name: 'nodrv', maxKib: 768 * MiB, floorKib: null },
    disposable: {
      name: 'tmp',
      end: async () => sim.guests.find((g) => g.name === 'tmp')?.halt('stopped'),
    },
    settle: async () => sim.advance(2),
    close: async () => {},
  };
});
