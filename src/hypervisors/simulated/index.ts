// The simulated host (src/sim) behind the two ports, so that the daemon and `momctl simulate` run
// the same engine and controllers as on a real host: only this adapter and the clock differ.
// Every method settles at once (no timers, no I/O); an aborted signal rejects with its reason.
import type { MomError } from '../../errors.js';
import type { GuestReading, HostReading } from '../../fields/catalogue.js';
import type { HostSimulation } from '../../sim/index.js';
import type { SimGuest } from '../../sim/guest.js';
import {
  HOST_CAPABILITIES,
  ksmReading,
  memoryReading,
  timeReading,
  type HostCapability,
  type HostSource,
  type MemoryLimit,
} from '../host.js';
import {
  balloonTarget,
  HypervisorError,
  type GuestInfo,
  type Hypervisor,
  type HypervisorCapability,
} from '../hypervisor.js';

export interface SimulatedBackend {
  readonly hypervisor: Hypervisor;
  readonly host: HostSource;
}

export interface SimulatedBackendOptions {
  /**
   * The wall-clock time (ms since 1970) of simulated second 0: HostTime reads this plus the
   * simulator's clock. Default: local midnight of 1 January 2026, so that a run is reproducible.
   */
  readonly epochMs?: number;
}

const MIB = 1024;

export function createSimulatedBackend(
  sim: HostSimulation,
  opts: SimulatedBackendOptions = {},
): SimulatedBackend {
  const epochMs = opts.epochMs ?? new Date(2026, 0, 1).getTime();
  const closed = { hypervisor: false, host: false };
  const enterPort =
    (port: keyof typeof closed) =>
    (signal?: AbortSignal): void => {
      signal?.throwIfAborted();
      if (closed[port]) throw new HypervisorError('MOM_E_CLOSED', `the simulated ${port} is closed`);
    };
  const enter = enterPort('hypervisor');
  const enterHost = enterPort('host');
  const running = (id: string): SimGuest => {
    const g = sim.guestById(id);
    if (g === undefined || g.state !== 'running')
      throw new HypervisorError('MOM_E_GUEST_GONE', `guest ${g?.name ?? id} is not running`);
    return g;
  };
  const ksmAvailable = sim.scenario.ksm.available;
  /** The KSM knobs before the first write, put back by close({ restore: true }), as on Linux. */
  let ksmBaseline: { run: number; pagesToScan: number; sleepMillisecs: number } | undefined;

  const reading = (g: SimGuest): GuestReading => {
    const rss = Math.round(g.resident() + sim.scenario.host.qemu_overhead_mib * MIB);
    const balloon = {
      balloon_cur: Math.round(g.cur),
      balloon_max: Math.round(g.maxKib),
      balloon_min: Math.round(g.minKib),
      rss,
      swapped: Math.round(g.hostSwapped()),
      cpu_time: Math.round(g.cpuMs),
      // Each page read back from host swap is a major fault of QEMU, each fresh host page a minor one.
      host_major_faults: Math.floor(g.hostSwapInPages),
      host_minor_faults: Math.floor(g.hostFreshPages),
    };
    // Without a driver the balloon device is still there (QEMU and libvirt report its size), but
    // the guest never answers: no statistics.
    if (!g.spec.balloon) return balloon;
    // Added to the same object, not spread into a new one: a spread copy of these ~20 fields cost
    // a fifth of a 1,000-guest cycle (bench/endurance.ts profile, 2026-12-03).
    return Object.assign(balloon, {
      mem_available: Math.round(g.cur),
      mem_unused: Math.round(g.free()),
      mem_cache: Math.round(g.cache()),
      mem_usable: Math.round(g.free() + g.cache()),
      // The simulated balloon driver refreshes its statistics continuously.
      stats_age_s: 0,
      swap_in: Math.floor(g.swapInPages),
      swap_out: Math.floor(g.swapOutPages),
      major_fault: Math.floor(g.majorFaults),
      minor_fault: Math.floor(g.minorFaults),
      swap_total: Math.round(g.swapTotal),
      swap_usage: Math.round(g.swapUsed()),
    });
  };

  const hypervisor: Hypervisor = {
    name: 'simulated',
    capabilities: new Set<HypervisorCapability>(['balloon', 'guest-stats']),
    async listGuests(signal) {
      enter(signal);
      return sim.running().map((g): GuestInfo => ({ id: g.uuid, name: g.name, uuid: g.uuid, pid: null }));
    },
    async guestStats(ids, signal) {
      enter(signal);
      const out = new Map<string, GuestReading | HypervisorError>();
      for (const id of ids) {
        try {
          out.set(id, reading(running(id)));
        } catch (err) {
          if (!(err instanceof HypervisorError)) throw err;
          out.set(id, err);
        }
      }
      return out;
    },
    async setBalloonTarget(id, kib, signal) {
      enter(signal);
      const g = running(id);
      const target = balloonTarget(kib, { floor: g.minKib, max: g.maxKib }, g.name);
      sim.setBalloonTarget(g, target);
      return target;
    },
    async close() {
      closed.hypervisor = true;
    },
  };

  const missing = new Map<HostCapability, string>([
    ...(ksmAvailable
      ? []
      : ([
          ['ksm', 'the scenario says ksm.available: false'],
          ['ksmd-cpu', 'the scenario says ksm.available: false'],
        ] as const)),
    // The model has no compressed swap cache: its zswap fields are nil, as on a kernel without it.
    ['zswap', 'the simulated host does not model zswap'],
  ]);
  const host: HostSource = {
    name: 'simulated',
    async probe(signal) {
      enterHost(signal);
      return { capabilities: new Set(HOST_CAPABILITIES.filter((c) => !missing.has(c))), missing };
    },
    async read(groups, signal) {
      enterHost(signal);
      const out: { -readonly [K in keyof HostReading]: HostReading[K] } = {};
      if (groups.has('HostMemory')) Object.assign(out, memoryReading(sim.hostMemory()));
      if (groups.has('HostCpu')) out.cpu_count = sim.scenario.host.cpus;
      if (groups.has('HostTime')) Object.assign(out, timeReading(epochMs + sim.now * 1000));
      if (groups.has('HostKSM')) {
        out.ksm_shareable = sim.ksmShareable();
        if (ksmAvailable)
          Object.assign(out, ksmReading(sim.ksmState()), { ksmd_cpu_usage: sim.ksmdCpuUsage() });
      }
      if (groups.has('HostPressure')) {
        const p = sim.pressure();
        out.psi_some_avg10 = p.some10;
        out.psi_full_avg10 = p.full10;
        out.psi_some_total = p.someTotalUs;
        out.psi_full_total = p.fullTotalUs;
      }
      return out;
    },
    async setKsm(settings, signal) {
      enterHost(signal);
      if (!ksmAvailable) throw new HypervisorError('MOM_E_UNSUPPORTED', 'this simulated host has no KSM');
      if (ksmBaseline === undefined) {
        const k = sim.ksmState();
        ksmBaseline = { run: k.run, pagesToScan: k.pagesToScan, sleepMillisecs: k.sleepMillisecs };
      }
      try {
        sim.setKsm(settings);
      } catch (err) {
        if (err instanceof RangeError) throw new HypervisorError('MOM_E_INVALID_ARGUMENT', err.message);
        throw err;
      }
    },
    async setZswap(_settings, signal) {
      enterHost(signal);
      throw new HypervisorError('MOM_E_UNSUPPORTED', 'the simulated host does not model zswap');
    },
    async restoreZswap(signal) {
      enterHost(signal);
      return {};
    },
    async memoryLimits(guests, signal) {
      enterHost(signal);
      const out = new Map<string, MemoryLimit | MomError>();
      for (const info of guests) {
        try {
          out.set(info.id, { limitKib: running(info.id).memLimitKib });
        } catch (err) {
          if (!(err instanceof HypervisorError)) throw err;
          out.set(info.id, err);
        }
      }
      return out;
    },
    async setMemoryLimit(info, kib, signal) {
      enterHost(signal);
      if (kib !== null && (!Number.isSafeInteger(kib) || kib <= 0))
        throw new HypervisorError('MOM_E_INVALID_ARGUMENT', `memory limit must be whole KiB > 0, got ${kib}`);
      running(info.id).memLimitKib = kib;
    },
    async close(opts) {
      closed.host = true;
      if (opts?.restore && ksmBaseline !== undefined) sim.setKsm(ksmBaseline);
    },
  };
  return { hypervisor, host };
}
