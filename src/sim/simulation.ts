// The simulated host: guests (src/sim/guest.ts) on a host with RAM, page cache, a swap device,
// the guests' storage, CPUs, KSM and per-guest memory cgroups, stepped in fixed time steps. This
// is the model only: the daemon reaches it through the adapter in src/hypervisors/simulated/,
// which implements the same ports a real host does.
import { PAGE_KIB, SimGuest, type StepContext, type StepReport } from './guest.js';
import { Rng, uuidFromName } from './random.js';
import type { Scenario } from './scenario.js';

const MIB = 1024;
const GIB = 1024 * 1024;

export interface SimResults {
  scenario: string;
  duration_s: number;
  /** Sum over guests of each guest's mean throughput (MiB/s), as seed 002's score. */
  throughput_total: number;
  host_swap_in_pages: number;
  host_swap_out_pages: number;
  guest_swap_in_pages: number;
  guest_swap_out_pages: number;
  guest_oom_kills: number;
  /** Guests the host's OOM killer ended (host RAM and swap both full). */
  host_oom_kills: number;
  /** setBalloonTarget calls that changed the target. */
  balloon_ops: number;
  ksm_pages_sharing_avg: number;
  guests: Array<{
    name: string;
    throughput: number;
    swap_in_pages: number;
    swap_out_pages: number;
    oom_kills: number;
  }>;
}

/** The host's memory as /proc/meminfo and /proc/vmstat would give it (KiB; swap counters in pages). */
export interface SimHostMemory {
  readonly total: number;
  readonly free: number;
  /** Buffers + Cached. */
  readonly cached: number;
  /** MemAvailable: free memory plus the cache the model can drop. */
  readonly available: number;
  readonly anon: number;
  readonly swapTotal: number;
  readonly swapFree: number;
  readonly swapInPages: number;
  readonly swapOutPages: number;
  readonly cpuCount: number;
}

/** The model's /sys/kernel/mm/ksm. */
export interface SimKsmState {
  readonly run: number;
  readonly pagesToScan: number;
  readonly sleepMillisecs: number;
  readonly mergeAcrossNodes: number;
  readonly pagesShared: number;
  readonly pagesSharing: number;
  readonly pagesUnshared: number;
  readonly pagesVolatile: number;
  readonly fullScans: number;
}

/** KSM knobs to write; an invalid value is a RangeError and nothing is written. */
export interface SimKsmKnobs {
  readonly run?: number;
  readonly pagesToScan?: number;
  readonly sleepMillisecs?: number;
  readonly mergeAcrossNodes?: number;
}

export interface Simulation {
  /** Simulated seconds since start. */
  readonly now: number;
  /** Steps the model forward by `seconds` (fixed steps of the scenario's step_s, then a partial one). */
  advance(seconds: number): void;
  results(): SimResults;
}

export interface SimulationOptions {
  /** Seed of the run's randomness (default 1): the same seed gives the same run. */
  seed?: number;
}

export function createSimulation(scenario: Scenario, options: SimulationOptions = {}): HostSimulation {
  return new HostSimulation(scenario, options.seed ?? 1);
}

/** The simulation; besides the Simulation interface it exposes its model for tests and tools. */
export class HostSimulation implements Simulation {
  readonly guests: readonly SimGuest[];
  private readonly byId = new Map<string, SimGuest>();
  private t = 0;

  readonly totalKib: number;
  readonly osKib: number;
  readonly swapTotalKib: number;
  hostCache: number;
  private readonly minFree: number;

  // Cumulative counters (pages) and control bookkeeping.
  hostSwapInPages = 0;
  hostSwapOutPages = 0;
  balloonOps = 0;
  hostOomKills = 0;

  // KSM knobs and state.
  ksmRun: number;
  ksmPagesToScan: number;
  ksmSleepMs: number;
  ksmMergeAcrossNodes = 1;
  private ksmFullScans = 0;
  private ksmCpuSeconds = 0;
  private ksmCpuNow = 0;
  private ksmQueried = { t: 0, cpu: 0 };
  private ksmSharingIntegral = 0;

  // Feedback from the previous step: CPU demand, device queueing, pressure averages.
  private cpuDemand = 0;
  private swapQueue = 1;
  private storageQueue = 1;
  private some10 = 0;
  private full10 = 0;
  /** Cumulative stall, microseconds, as PSI's total= counts it. */
  private someTotalUs = 0;
  private fullTotalUs = 0;

  constructor(
    readonly scenario: Scenario,
    readonly seed: number,
  ) {
    const rng = new Rng(seed);
    const h = scenario.host;
    this.totalKib = h.memory_gib * GIB;
    this.osKib = h.os_mib * MIB;
    this.swapTotalKib = h.swap_gib * GIB;
    this.hostCache = Math.min(h.cache_mib * MIB, Math.max(0, this.totalKib - this.osKib));
    // Linux: min_free_kbytes = sqrt(16 * MemTotal in KiB).
    this.minFree = h.min_free_mib !== undefined ? h.min_free_mib * MIB : Math.sqrt(16 * this.totalKib);
    this.ksmRun = scenario.ksm.run;
    this.ksmPagesToScan = scenario.ksm.pages_to_scan;
    this.ksmSleepMs = scenario.ksm.sleep_millisecs;
    this.guests = scenario.guests.map((spec) => {
      const g = new SimGuest(
        spec,
        uuidFromName(`${scenario.name}/${spec.name}`),
        scenario,
        rng.fork(spec.name),
      );
      this.byId.set(g.uuid, g);
      return g;
    });
    this.startAndStop();
  }

  get now(): number {
    return this.t;
  }

  advance(seconds: number): void {
    if (!(seconds >= 0) || !Number.isFinite(seconds))
      throw new RangeError(`advance: bad duration ${seconds}`);
    const dt = this.scenario.step_s;
    const end = this.t + seconds;
    while (end - this.t > 1e-9) this.step(Math.min(dt, end - this.t));
    this.t = end;
  }

  // ---- the model ------------------------------------------------------------------------------

  running(): SimGuest[] {
    return this.guests.filter((g) => g.state === 'running');
  }

  /** KiB saved by KSM: of every (ratio + 1) merged pages, one copy is kept. */
  ksmSaved(): number {
    const r = this.scenario.ksm.sharing_ratio;
    let merged = 0;
    for (const g of this.guests) merged += g.merged;
    return (merged * r) / (r + 1);
  }

  /** MemFree (KiB); negative inside a step means reclaim is due. */
  hostFree(): number {
    const overhead = this.scenario.host.qemu_overhead_mib * MIB;
    let used = this.osKib + this.hostCache;
    for (const g of this.guests) if (g.state === 'running') used += g.resident() + overhead;
    return this.totalKib - used + this.ksmSaved();
  }

  hostSwapUsed(): number {
    let used = 0;
    for (const g of this.guests) used += g.hostSwapped();
    return used;
  }

  private startAndStop(): void {
    for (const g of this.guests) {
      if (g.state === 'pending' && g.spec.start_s <= this.t + 1e-9) g.boot(this.t);
      if (g.state === 'running' && g.spec.stop_s !== undefined && g.spec.stop_s <= this.t + 1e-9)
        g.halt('stopped');
    }
  }

  private step(dt: number): void {
    const sc = this.scenario;
    const cpuShare = Math.min(1, sc.host.cpus / Math.max(1e-9, this.cpuDemand + this.ksmCpuNow));
    const ctx: StepContext = {
      now: this.t,
      dt,
      cpuShare,
      hostSwapInS: (sc.host.swap_device.latency_ms / 1000) * this.swapQueue,
      guestSwapInS:
        ((sc.host.storage.latency_ms / 1000) * this.storageQueue) / sc.guest_defaults.swap_readahead_pages,
      diskReadS: (sc.host.storage.latency_ms / 1000) * this.storageQueue,
      freshPageS: sc.host.fresh_page_us * 1e-6,
    };
    let demand = 0;
    let storageOps = 0;
    let swapInPages = 0;
    let noStall = 1;
    let allStall = 1;
    let busy = 0;
    for (const g of this.guests) {
      if (g.state !== 'running') continue;
      const rep: StepReport = g.step(ctx);
      demand += Math.min(g.spec.vcpus, rep.cpuDemand);
      g.cpuMs += Math.min(g.spec.vcpus, rep.cpuDemand) * cpuShare * dt * 1000;
      storageOps += rep.storageOps;
      swapInPages += rep.hostSwapInPages;
      const stall = Math.min(1, rep.swapStallS / dt);
      noStall *= 1 - stall;
      if (rep.cpuDemand > 0 || stall > 0) {
        allStall *= stall;
        busy++;
      }
    }
    this.hostSwapInPages += swapInPages;
    this.stepKsm(dt, cpuShare);
    const swapOutPages = this.reclaimHost(dt);
    this.hostSwapOutPages += swapOutPages;

    // Feedback for the next step. A device's latency stretches while it is asked for more than
    // its capacity, until it serves just its capacity (a closed loop of waiting vCPUs).
    const swapOps = swapInPages + swapOutPages / sc.host.swap_write_cluster_pages;
    this.swapQueue = queueFactor(this.swapQueue, swapOps / (sc.host.swap_device.iops * dt), dt);
    this.storageQueue = queueFactor(this.storageQueue, storageOps / (sc.host.storage.iops * dt), dt);
    this.cpuDemand = demand;
    // PSI-like pressure of the vCPU threads: "some" = at least one stalled, "full" = all stalled.
    const decay = Math.exp(-dt / 10);
    const some = 1 - noStall;
    const full = busy > 0 ? allStall : 0;
    this.some10 = this.some10 * decay + 100 * some * (1 - decay);
    this.full10 = this.full10 * decay + 100 * full * (1 - decay);
    this.someTotalUs += some * dt * 1e6;
    this.fullTotalUs += full * dt * 1e6;
    this.ksmSharingIntegral += (this.ksmSaved() / PAGE_KIB) * dt;
    this.t += dt;
    this.startAndStop();
  }

  /** ksmd: scans guest memory at the configured rate, merging duplicate pages it finds. */
  private stepKsm(dt: number, cpuShare: number): void {
    const k = this.scenario.ksm;
    this.ksmCpuNow = 0;
    if (!k.available) return;
    const running = this.running();
    if (this.ksmRun === 2) {
      for (const g of running) g.merged = 0; // unmerge everything (the copies need host memory)
      return;
    }
    if (this.ksmRun !== 1 || this.ksmPagesToScan <= 0) return;
    // ksmd scans pages_to_scan pages (each costing scan_cost_us of CPU), then sleeps.
    const costS = (k.scan_cost_us * 1e-6) / cpuShare;
    const ratePages = this.ksmPagesToScan / (this.ksmSleepMs / 1000 + this.ksmPagesToScan * costS);
    this.ksmCpuNow = ratePages * k.scan_cost_us * 1e-6;
    this.ksmCpuSeconds += this.ksmCpuNow * dt;
    let registered = 0;
    const peers = new Map<string, number>();
    for (const g of running) {
      registered += g.resident();
      peers.set(g.spec.image, (peers.get(g.spec.image) ?? 0) + 1);
    }
    if (registered <= 0) return;
    const scanned = ratePages * dt * PAGE_KIB;
    this.ksmFullScans += scanned / registered;
    // KSM merges a page only if its checksum did not change since the previous pass: a hot page
    // written every few seconds while a pass takes minutes is almost never stable.
    const passS = registered / PAGE_KIB / ratePages;
    for (const g of running) {
      const res = g.resident();
      if (res <= 0) continue;
      const dup = g.ksmDup(peers.get(g.spec.image) ?? 0);
      const stableHot = Math.exp(-g.hotWriteRate * passS);
      const stableShare = (res - g.hotR + g.hotR * stableHot) / res;
      const candidates = Math.max(0, dup * res * stableShare - g.merged);
      // Scanned pages fall uniformly on registered memory; a stable duplicate found is merged.
      g.merged += Math.min(candidates, (scanned * candidates) / registered);
    }
  }

  /**
   * The host's reclaim, when MemFree falls under the low watermark, up to the high one: its own
   * page cache first (down to a floor), then guest memory, BLIND: in proportion to each guest's
   * resident free, cache, cold and hot pages alike (hot ones weighted by reclaim_hot_weight, 1 by
   * default), to host swap. Merged (KSM) pages and guest kernels are left alone. When swap is
   * full too, the OOM killer ends the guest with the most resident memory. Returns pages swapped.
   */
  reclaimHost(dt: number): number {
    const limited = this.enforceMemoryLimits();
    return limited + this.reclaimGlobal(dt);
  }

  /**
   * Per-guest memory cgroups: a guest whose QEMU (resident memory plus overhead) is over its limit
   * has the excess moved to host swap, as the kernel's cgroup reclaim would; with no swap left
   * the cgroup's OOM killer ends the guest. Returns pages swapped.
   */
  private enforceMemoryLimits(): number {
    const overhead = this.scenario.host.qemu_overhead_mib * MIB;
    let swapped = 0;
    for (const g of this.running()) {
      if (g.memLimitKib === null) continue;
      const excess = g.resident() + overhead - g.memLimitKib;
      if (excess <= 0) continue;
      const moved = this.swapOutFrom([g], Math.min(excess, this.swapTotalKib - this.hostSwapUsed()));
      swapped += moved;
      if (g.resident() + overhead - g.memLimitKib > 1) {
        g.halt('killed');
        this.hostOomKills++;
      }
    }
    return swapped / PAGE_KIB;
  }

  private reclaimGlobal(dt: number): number {
    const h = this.scenario.host;
    const low = this.minFree * 1.25;
    const high = this.minFree * 1.5;
    let free = this.hostFree();
    if (free < low) {
      let need = high - free;
      const fromCache = Math.min(need, Math.max(0, this.hostCache - h.cache_min_mib * MIB));
      this.hostCache -= fromCache;
      need -= fromCache;
      let swapped = 0;
      if (need > 0)
        swapped = this.swapOutFrom(this.running(), Math.min(need, this.swapTotalKib - this.hostSwapUsed()));
      free = this.hostFree();
      while (free < 0) {
        const victim = this.running().sort((a, b) => b.resident() - a.resident())[0];
        if (victim === undefined) break;
        victim.halt('killed');
        this.hostOomKills++;
        free = this.hostFree();
      }
      return swapped / PAGE_KIB;
    }
    // With memory to spare, the host's page cache grows back (host daemons, logs, images).
    const room = free - high - this.minFree;
    if (room > 0 && this.hostCache < h.cache_mib * MIB) {
      this.hostCache += Math.min(room, h.cache_growth_mib_s * MIB * dt, h.cache_mib * MIB - this.hostCache);
    }
    return 0;
  }

  /** Moves `kib` of the guests' memory to host swap, blind to what the guests use it for. */
  swapOutFrom(guests: readonly SimGuest[], kib: number): number {
    if (kib <= 0) return 0;
    const w = this.scenario.host.reclaim_hot_weight;
    let pool = 0;
    const running = guests.filter((g) => g.state === 'running');
    for (const g of running) pool += unmergedShare(g) * (g.freeR + g.cacheR + g.coldR + w * g.hotR);
    if (pool <= 0) return 0;
    const k = Math.min(1, kib / pool);
    let moved = 0;
    for (const g of running) {
      const u = unmergedShare(g) * k;
      const f = Math.min(g.freeR, g.freeR * u);
      const c = Math.min(g.cacheR, g.cacheR * u);
      const o = Math.min(g.coldR, g.coldR * u);
      const x = Math.min(g.hotR, g.hotR * u * w);
      // Stale boot pages the host swaps out are no longer resident: they leave the stale count.
      if (g.freeR > 0) g.staleR -= g.staleR * Math.min(1, f / g.freeR);
      g.freeR -= f;
      g.freeH += f;
      g.cacheR -= c;
      g.cacheH += c;
      g.coldR -= o;
      g.coldH += o;
      g.hotR -= x;
      g.hotH += x;
      moved += f + c + o + x;
    }
    return moved;
  }

  // ---- results --------------------------------------------------------------------------------

  results(): SimResults {
    const guests = this.guests.map((g) => ({
      name: g.name,
      throughput: g.runningTime > 0 ? g.throughputIntegral / g.runningTime : 0,
      swap_in_pages: Math.round(g.swapInPages),
      swap_out_pages: Math.round(g.swapOutPages),
      oom_kills: g.oomKills,
    }));
    const sum = (f: (g: (typeof guests)[number]) => number): number => guests.reduce((s, g) => s + f(g), 0);
    return {
      scenario: this.scenario.name,
      duration_s: this.t,
      throughput_total: sum((g) => g.throughput),
      host_swap_in_pages: Math.round(this.hostSwapInPages),
      host_swap_out_pages: Math.round(this.hostSwapOutPages),
      guest_swap_in_pages: sum((g) => g.swap_in_pages),
      guest_swap_out_pages: sum((g) => g.swap_out_pages),
      guest_oom_kills: sum((g) => g.oom_kills),
      host_oom_kills: this.hostOomKills,
      balloon_ops: this.balloonOps,
      ksm_pages_sharing_avg: this.t > 0 ? this.ksmSharingIntegral / this.t : 0,
      guests,
    };
  }

  // ---- what the adapter (src/hypervisors/simulated) reads and writes -------------------------

  /** The guest of an id, whatever its state; undefined for an unknown id. */
  guestById(id: string): SimGuest | undefined {
    return this.byId.get(id);
  }

  /** Sets a running guest's balloon target (KiB, already rounded and clamped by the caller). */
  setBalloonTarget(g: SimGuest, kib: number): void {
    if (!g.spec.balloon) return; // no balloon driver: the device takes the target, the guest ignores it
    if (kib !== g.target) this.balloonOps++;
    g.target = kib;
  }

  hostMemory(): SimHostMemory {
    const overhead = this.scenario.host.qemu_overhead_mib * MIB;
    let anon = this.osKib;
    for (const g of this.running()) anon += g.resident() + overhead;
    const free = Math.max(0, this.hostFree());
    return {
      total: Math.round(this.totalKib),
      free: Math.round(free),
      cached: Math.round(this.hostCache),
      available: Math.round(free + this.hostCache),
      anon: Math.round(anon - this.ksmSaved()),
      swapTotal: Math.round(this.swapTotalKib),
      swapFree: Math.round(Math.max(0, this.swapTotalKib - this.hostSwapUsed())),
      swapInPages: Math.floor(this.hostSwapInPages),
      swapOutPages: Math.floor(this.hostSwapOutPages),
      cpuCount: this.scenario.host.cpus,
    };
  }

  /** PSI-like memory pressure of the vCPU threads: percent over ~10 s, and cumulative stall (µs). */
  pressure(): { some10: number; full10: number; someTotalUs: number; fullTotalUs: number } {
    return {
      some10: round2(this.some10),
      full10: round2(this.full10),
      someTotalUs: Math.floor(this.someTotalUs),
      fullTotalUs: Math.floor(this.fullTotalUs),
    };
  }

  /** The guests' resident memory (MOM's ksm_shareable: the RSS of all QEMU processes). */
  ksmShareable(): number {
    let kib = 0;
    for (const g of this.running()) kib += g.resident();
    return Math.round(kib);
  }

  /** ksmd's CPU in percent of one CPU since the previous call. */
  ksmdCpuUsage(): number {
    const dt = this.t - this.ksmQueried.t;
    const used = this.ksmCpuSeconds - this.ksmQueried.cpu;
    this.ksmQueried = { t: this.t, cpu: this.ksmCpuSeconds };
    return dt > 0 ? round2((100 * used) / dt) : round2(100 * this.ksmCpuNow);
  }

  /** Writes the given KSM knobs; an invalid value is a RangeError and nothing is written. */
  setKsm(knobs: SimKsmKnobs): void {
    const check = (v: number | undefined, name: string, max: number): void => {
      if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > max))
        throw new RangeError(`ksm ${name}: invalid value ${v}`);
    };
    check(knobs.run, 'run', 2);
    check(knobs.pagesToScan, 'pages_to_scan', 1e7);
    check(knobs.sleepMillisecs, 'sleep_millisecs', 1e7);
    check(knobs.mergeAcrossNodes, 'merge_across_nodes', 1);
    if (knobs.run !== undefined) this.ksmRun = knobs.run;
    if (knobs.pagesToScan !== undefined) this.ksmPagesToScan = knobs.pagesToScan;
    if (knobs.sleepMillisecs !== undefined) this.ksmSleepMs = knobs.sleepMillisecs;
    if (knobs.mergeAcrossNodes !== undefined) this.ksmMergeAcrossNodes = knobs.mergeAcrossNodes;
  }

  /** /sys/kernel/mm/ksm as this model sees it. */
  ksmState(): SimKsmState {
    const r = this.scenario.ksm.sharing_ratio;
    let merged = 0;
    let unique = 0;
    let volatile = 0;
    const peers = new Map<string, number>();
    const running = this.running();
    for (const g of running) peers.set(g.spec.image, (peers.get(g.spec.image) ?? 0) + 1);
    const seen = Math.min(1, this.ksmFullScans);
    for (const g of this.guests) merged += g.merged;
    for (const g of running) {
      const dup = g.ksmDup(peers.get(g.spec.image) ?? 0);
      const res = g.resident();
      unique += (1 - dup) * res * seen;
      // Candidates in the hot buffer change between scans: KSM calls them volatile.
      if (res > 0) volatile += Math.max(0, dup * res - g.merged) * (g.hotR / res) * seen;
    }
    return {
      run: this.ksmRun,
      pagesToScan: this.ksmPagesToScan,
      sleepMillisecs: this.ksmSleepMs,
      mergeAcrossNodes: this.ksmMergeAcrossNodes,
      pagesShared: Math.round(merged / PAGE_KIB / (r + 1)),
      pagesSharing: Math.round(((merged / PAGE_KIB) * r) / (r + 1)),
      pagesUnshared: Math.round(unique / PAGE_KIB),
      pagesVolatile: Math.round(volatile / PAGE_KIB),
      fullScans: Math.floor(this.ksmFullScans),
    };
  }
}

/** The share of a guest's reclaimable resident pages that are not merged by KSM. */
function unmergedShare(g: SimGuest): number {
  const res = g.resident();
  return res > 0 ? Math.max(0, 1 - g.merged / res) : 0;
}

/** Multiplies a device's latency factor by its utilisation, smoothed over about 2 s, floor 1. */
function queueFactor(current: number, utilisation: number, dt: number): number {
  const alpha = Math.min(1, dt / 2);
  const next = current * Math.pow(Math.max(utilisation, 1e-6), alpha);
  return Math.min(1000, Math.max(1, next));
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
