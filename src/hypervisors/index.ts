// One way to get a backend from the configuration: the hypervisor port, the host port and the
// clock the engine runs on, for `hypervisor-interface` simulated, libvirt or qmp. A table, not an
// if-chain: a new backend is a new entry.
import { realClock, simulatedClock, type Clock } from '../clock.js';
import type { HypervisorInterface, MomConfig } from '../config/index.js';
import { createSimulation, loadScenario, type HostSimulation } from '../sim/index.js';
import type { HostSource } from './host.js';
import type { Hypervisor } from './hypervisor.js';
import { createLibvirtBackend } from './libvirt/index.js';
import { createLinuxHost, type LinuxHost } from './linux/index.js';
import { createQmpBackend } from './qmp/index.js';
import { createSimulatedBackend } from './simulated/index.js';

export interface Backend {
  readonly kind: HypervisorInterface;
  readonly hypervisor: Hypervisor;
  readonly host: HostSource;
  readonly clock: Clock;
  /** What the daemon's start line says about it. */
  readonly description: Readonly<Record<string, unknown>>;
  /** The model, when the backend is the simulated host. */
  readonly simulation?: HostSimulation;
  /** Closes both ports; with `restore`, puts back the KSM settings found at start (zswap: host.restoreZswap). */
  close(opts: { restore: boolean }): Promise<void>;
}

export interface BackendOptions {
  /** Trouble with one guest or socket, said once per kind. */
  readonly onWarning?: (message: string) => void;
  /** The backend this one replaces (a reload): its KSM and zswap baselines are carried over. */
  readonly previous?: Backend;
  /** For the simulated host: how fast its clock runs ('fast': as fast as possible). */
  readonly speed?: number | 'fast';
}

type Factory = (config: MomConfig, opts: BackendOptions) => Backend;

function linuxHost(config: MomConfig, previous: Backend | undefined): LinuxHost {
  const prior = previous?.host as Partial<LinuxHost> | undefined;
  const baseline = typeof prior?.ksmBaseline === 'function' ? prior.ksmBaseline() : undefined;
  const zswap = typeof prior?.zswapBaseline === 'function' ? prior.zswapBaseline() : undefined;
  return createLinuxHost({
    ...(config.main.hostMemorySource ? { memorySource: { cgroup: config.main.hostMemorySource } } : {}),
    ...(baseline !== undefined ? { ksmBaseline: baseline } : {}),
    ...(zswap !== undefined ? { zswapBaseline: zswap } : {}),
  });
}

function realBackend(
  kind: HypervisorInterface,
  hypervisor: Hypervisor,
  host: HostSource,
  description: Record<string, unknown>,
): Backend {
  return {
    kind,
    hypervisor,
    host,
    clock: realClock,
    description,
    async close(opts) {
      await hypervisor.close();
      await host.close(opts);
    },
  };
}

const FACTORIES: Readonly<Record<HypervisorInterface, Factory>> = {
  simulated(config, opts) {
    const main = config.main;
    const scenario = loadScenario(main.simulatorScenario);
    const simulation = createSimulation(scenario, { seed: main.simulatorSeed });
    // The simulated host's calendar (HostTime) starts now and runs on the simulator's clock.
    const ports = createSimulatedBackend(simulation, { epochMs: Date.now() });
    const speed = opts.speed ?? main.simulatorSpeed;
    return {
      kind: 'simulated',
      ...ports,
      clock: simulatedClock(simulation, speed),
      simulation,
      description: { hypervisor: 'simulated', scenario: scenario.name, seed: main.simulatorSeed, speed },
      async close(closeOpts) {
        await ports.hypervisor.close();
        await ports.host.close(closeOpts);
      },
    };
  },
  libvirt(config, opts) {
    const main = config.main;
    const hypervisor = createLibvirtBackend({
      uri: main.libvirtHypervisorUri,
      ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
    });
    return realBackend('libvirt', hypervisor, linuxHost(config, opts.previous), {
      hypervisor: 'libvirt',
      uri: main.libvirtHypervisorUri,
      host_memory: main.hostMemorySource ?? 'the whole machine',
    });
  },
  qmp(config, opts) {
    const main = config.main;
    const hypervisor = createQmpBackend({
      socketGlob: main.qmpSocketGlob,
      agentSocket: config.guest.agentSocket,
      ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
    });
    return realBackend('qmp', hypervisor, linuxHost(config, opts.previous), {
      hypervisor: 'qmp',
      sockets: main.qmpSocketGlob,
      host_memory: main.hostMemorySource ?? 'the whole machine',
    });
  },
};

/** The backend the configuration names. Throws (MomError) when it cannot be set up. */
export function createBackend(config: MomConfig, opts: BackendOptions = {}): Backend {
  return FACTORIES[config.main.hypervisorInterface](config, opts);
}
