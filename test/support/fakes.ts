// Minimal in-memory stand-ins for unit tests of controllers and the engine's plumbing. The
// engine's behaviour on a whole host is tested on the simulator, and every real backend against
// the contract suite (test/hypervisors/), not on these.
import type { Capabilities, ControlContext, ControlRecord } from '../../src/controllers/controller.js';
import type { Entities } from '../../src/entities/snapshot.js';
import type { MomError } from '../../src/errors.js';
import type { GuestReading, HostReading } from '../../src/fields/catalogue.js';
import type {
  HostProbe,
  HostSource,
  KsmSettings,
  MemoryLimit,
  ZswapSettings,
} from '../../src/hypervisors/host.js';
import type { IoTuneValues } from '../../src/fields/io-tune.js';
import {
  HypervisorError,
  type CpuTuneSettings,
  type GuestInfo,
  type GuestRunState,
  type Hypervisor,
  type HypervisorCapability,
} from '../../src/hypervisors/hypervisor.js';

export function guestReading(over: GuestReading = {}): GuestReading {
  return {
    balloon_cur: 1048576,
    balloon_max: 1048576,
    balloon_min: null,
    mem_available: 1048576,
    mem_unused: 524288,
    mem_cache: 0,
    mem_usable: 524288,
    stats_age_s: 0,
    swap_in: 0,
    swap_out: 0,
    major_fault: 0,
    minor_fault: 0,
    swap_total: 0,
    swap_usage: 0,
    rss: 1048576,
    ...over,
  };
}

export const guestInfo = (name: string, pid: number | null = null): GuestInfo => ({
  id: `id-${name}`,
  name,
  uuid: `uuid-${name}`,
  pid,
});

export class FakeHypervisor implements Hypervisor {
  readonly name = 'fake';
  capabilities: ReadonlySet<HypervisorCapability> = new Set<HypervisorCapability>(['balloon', 'guest-stats']);
  readonly guests = new Map<string, { info: GuestInfo; stats: GuestReading }>();
  readonly calls: Array<{ id: string; kib: number }> = [];
  failWith: HypervisorError | undefined;

  add(name: string, stats: GuestReading = {}): void {
    this.guests.set(name, { info: guestInfo(name), stats: guestReading(stats) });
  }
  async listGuests(): Promise<GuestInfo[]> {
    return [...this.guests.values()].map((g) => g.info);
  }
  async guestStats(ids: readonly string[]): Promise<Map<string, GuestReading | HypervisorError>> {
    const out = new Map<string, GuestReading | HypervisorError>();
    for (const id of ids) {
      const g = [...this.guests.values()].find((x) => x.info.id === id);
      out.set(id, g ? g.stats : new HypervisorError('MOM_E_GUEST_GONE', `${id} is gone`));
    }
    return out;
  }
  async setBalloonTarget(id: string, kib: number): Promise<number> {
    if (this.failWith) throw this.failWith;
    if (![...this.guests.values()].some((g) => g.info.id === id))
      throw new HypervisorError('MOM_E_GUEST_GONE', `${id} is gone`);
    this.calls.push({ id, kib });
    return kib;
  }
  /** What guestTuning answers, by guest id (a guest left out is MOM_E_GUEST_GONE). */
  readonly tuning = new Map<string, GuestReading | HypervisorError>();
  async guestTuning(ids: readonly string[]): Promise<Map<string, GuestReading | HypervisorError>> {
    const gone = (id: string): HypervisorError => new HypervisorError('MOM_E_GUEST_GONE', `${id} is gone`);
    return new Map(ids.map((id) => [id, this.tuning.get(id) ?? gone(id)]));
  }
  /** What guestAgentStats answers, by guest id (there whatever `capabilities` declares); the ids asked. */
  readonly agent = new Map<string, GuestReading | HypervisorError>();
  readonly agentAsked: string[][] = [];
  async guestAgentStats(ids: readonly string[]): Promise<Map<string, GuestReading | HypervisorError>> {
    this.agentAsked.push([...ids]);
    const gone = (id: string): HypervisorError => new HypervisorError('MOM_E_GUEST_GONE', `${id} is gone`);
    return new Map(ids.map((id) => [id, this.agent.get(id) ?? gone(id)]));
  }
  /** guestTuning, setCpuTune and setIoTune are there whatever `capabilities` declares. */
  readonly cpuTuneCalls: Array<{ id: string; settings: CpuTuneSettings }> = [];
  readonly ioTuneCalls: Array<{ id: string; disk: string; limits: IoTuneValues }> = [];
  async setCpuTune(id: string, settings: CpuTuneSettings): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.cpuTuneCalls.push({ id, settings });
  }
  async setIoTune(id: string, disk: string, limits: IoTuneValues): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.ioTuneCalls.push({ id, disk, limits });
  }
  /**
   * runState, pause and resume are there whatever `capabilities` declares (add 'pause' to use
   * them). A guest's run state is 'running' unless set here; `pauseFailWith` fails both calls.
   */
  readonly runStates = new Map<string, GuestRunState>();
  readonly pauseCalls: Array<{ id: string; call: 'pause' | 'resume' }> = [];
  pauseFailWith: HypervisorError | undefined;
  private known(id: string): void {
    if (![...this.guests.values()].some((g) => g.info.id === id))
      throw new HypervisorError('MOM_E_GUEST_GONE', `${id} is gone`);
  }
  async runState(id: string): Promise<GuestRunState> {
    this.known(id);
    return this.runStates.get(id) ?? 'running';
  }
  async pause(id: string): Promise<void> {
    this.known(id);
    if (this.pauseFailWith) throw this.pauseFailWith;
    this.pauseCalls.push({ id, call: 'pause' });
    this.runStates.set(id, 'paused');
  }
  async resume(id: string): Promise<void> {
    this.known(id);
    if (this.pauseFailWith) throw this.pauseFailWith;
    this.pauseCalls.push({ id, call: 'resume' });
    this.runStates.set(id, 'running');
  }
  async close(): Promise<void> {}
}

export const ALL_HOST_CAPABILITIES: HostProbe = {
  capabilities: new Set(['ksm', 'ksmd-cpu', 'psi', 'cgroup-limits', 'zswap']),
  missing: new Map(),
};

export class FakeHost implements HostSource {
  readonly name = 'fake-host';
  probeResult: HostProbe = ALL_HOST_CAPABILITIES;
  reading: HostReading = {
    mem_available: 16777216,
    mem_unused: 2000000,
    mem_free: 3000000,
    swap_in: 0,
    swap_out: 0,
    anon_pages: 10000000,
    swap_total: 0,
    swap_usage: 0,
    cpu_count: 4,
    mem_total: 16777216,
    mem_cached: 1000000,
    mem_avail: 3000000,
    ksm_run: 0,
    ksm_pages_to_scan: 100,
    ksm_sleep_millisecs: 20,
    ksm_merge_across_nodes: 1,
    ksm_shareable: 8000000,
  };
  readonly ksmWrites: Array<Partial<KsmSettings>> = [];
  readonly zswapWrites: Array<Partial<ZswapSettings>> = [];
  /** What restoreZswap() returns; each call is counted. */
  zswapRestored: Partial<ZswapSettings> = {};
  zswapRestores = 0;
  /** Limits in force by guest id; a MomError says why a guest cannot be limited. */
  readonly limits = new Map<string, MemoryLimit | MomError>();
  readonly limitWrites: Array<{ id: string; kib: number | null }> = [];
  /** Thrown by setZswap when set. */
  failWith: Error | undefined;
  async probe(): Promise<HostProbe> {
    return this.probeResult;
  }
  async read(): Promise<HostReading> {
    return this.reading;
  }
  async setKsm(settings: Partial<KsmSettings>): Promise<void> {
    this.ksmWrites.push(settings);
  }
  async setZswap(settings: Partial<ZswapSettings>): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.zswapWrites.push(settings);
  }
  async restoreZswap(): Promise<Partial<ZswapSettings>> {
    this.zswapRestores++;
    return this.zswapRestored;
  }
  async memoryLimits(guests: readonly GuestInfo[]): Promise<Map<string, MemoryLimit | MomError>> {
    const out = new Map<string, MemoryLimit | MomError>();
    for (const g of guests) out.set(g.id, this.limits.get(g.id) ?? { limitKib: null });
    return out;
  }
  async setMemoryLimit(guest: GuestInfo, kib: number | null): Promise<void> {
    this.limitWrites.push({ id: guest.id, kib });
    this.limits.set(guest.id, { limitKib: kib });
  }
  async close(): Promise<void> {}
}

/** A controller's context over fakes; every guest of `entities` is listed unless `guests` says otherwise. */
export function controlContext(opts: {
  entities: Entities;
  hypervisor?: Hypervisor;
  host?: HostSource;
  guests?: readonly GuestInfo[];
  records?: ReadonlyMap<string, ControlRecord>;
  capabilities?: Partial<Capabilities>;
  now?: number;
}): ControlContext {
  const hypervisor = opts.hypervisor ?? new FakeHypervisor();
  const guests = opts.guests ?? opts.entities.guests.map((g) => guestInfo(String(g.properties['name'])));
  return {
    entities: opts.entities,
    guests: new Map(guests.map((g) => [g.name, g])),
    hypervisor,
    host: opts.host ?? new FakeHost(),
    capabilities: {
      host: opts.capabilities?.host ?? ALL_HOST_CAPABILITIES,
      hypervisor: opts.capabilities?.hypervisor ?? hypervisor.capabilities,
    },
    previous: (entity, control) => opts.records?.get(`${entity}/${control}`),
    now: opts.now ?? 1000,
  };
}
