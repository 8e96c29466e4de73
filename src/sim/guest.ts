// One simulated guest: its memory as amounts (KiB) per category and per host location, its
// balloon, and its workload. Pages are never modelled one by one.
//
// Guest RAM (`cur`, the balloon-adjusted size) = kernel + hot anon + cold anon + cache + free.
// Each category except the kernel is split by where the host keeps it: R (resident in host RAM)
// or H (in host swap). Free memory has a third state, U: never touched since boot (or since a
// balloon returned it), so not backed by any host page. Anonymous pages the guest itself
// swapped out live in the guest's swap (swapHot, swapCold), outside guest RAM.
import { PatternSampler } from './pattern.js';
import type { Rng } from './random.js';
import type { GuestSpec, Scenario } from './scenario.js';

export const PAGE_KIB = 4;
const MIB = 1024;
/** vCPU time to allocate and first-touch one page outside memknobs (boot, servers): 1 µs. */
const BOOT_TOUCH_S = 1e-6;

/** What the host offers a guest during one step: costs already include device queueing. */
export interface StepContext {
  readonly now: number;
  readonly dt: number;
  /** Share of a CPU a runnable vCPU gets (host CPUs / runnable vCPUs, at most 1). */
  readonly cpuShare: number;
  /** vCPU stall per page the host must bring back from its swap (s). */
  readonly hostSwapInS: number;
  /** Wait per page the guest brings back from its own swap (s), readahead included. */
  readonly guestSwapInS: number;
  /** Wait per page-cache miss served from the virtual disk (s). */
  readonly diskReadS: number;
  /** vCPU time to back a never-touched guest page with a fresh host page (s). */
  readonly freshPageS: number;
}

/** What one step of one guest did, for the host's accounting. */
export interface StepReport {
  /** Runnable vCPUs averaged over the step (CPU demand). */
  cpuDemand: number;
  /** vCPU time lost to the host's work on this guest's pages: swap-ins and fresh pages (s). */
  hostStallS: number;
  /** The part of hostStallS spent waiting for host swap-ins: memory pressure as PSI counts it (s). */
  swapStallS: number;
  /** Pages the host brought back from its swap for this guest. */
  hostSwapInPages: number;
  /** Operations on the guests' storage (guest swap, file reads). */
  storageOps: number;
  /** MiB/s the workload achieved (0 for idle guests). */
  throughput: number;
}

export type GuestState = 'pending' | 'running' | 'stopped' | 'killed';

interface Taken {
  r: number;
  h: number;
  u: number;
}

export class SimGuest {
  state: GuestState = 'pending';
  readonly maxKib: number;
  readonly minKib: number;
  readonly swapTotal: number;
  readonly kernel: number;
  cur: number;
  target: number;
  /** The memory cgroup limit of the guest's QEMU (KiB; null: none), set through the host port. */
  memLimitKib: number | null = null;
  hotR = 0;
  hotH = 0;
  coldR = 0;
  coldH = 0;
  cacheR = 0;
  cacheH = 0;
  freeU = 0;
  freeR = 0;
  freeH = 0;
  swapHot = 0;
  swapCold = 0;
  /** Of freeR, what booting touched and freed: free page reporting never gives it back. */
  staleR = 0;
  /**
   * vCPU time (at a whole CPU) the guest owes its own reclaim (swap-out), taken from the next
   * step's budget, stretched by the CPU share like any computing (s).
   */
  private owedS = 0;
  /** Wall time of this step the vCPU spent computing on its own swapping (s): CPU demand. */
  private swapCpuWallS = 0;
  /** KiB of this guest's resident memory merged by KSM. */
  merged = 0;
  /** Writes per hot page per second in the last step (KSM skips pages that change under it). */
  hotWriteRate = 0;

  // Cumulative counters, in pages.
  swapInPages = 0;
  swapOutPages = 0;
  majorFaults = 0;
  minorFaults = 0;
  oomKills = 0;
  hostSwapInPages = 0;
  /** Untouched guest pages the host had to back with a fresh page (its QEMU's minor faults). */
  hostFreshPages = 0;
  /** CPU time its vCPUs got, ms (the QEMU process's cpu_time; the simulated QEMU itself uses none). */
  cpuMs = 0;

  // Throughput bookkeeping.
  throughputIntegral = 0;
  runningTime = 0;
  lastThroughput = 0;
  startedAt = 0;

  /** Workload state: when an OOM-killed loop restarts; the spike currently killed. */
  private restartAt = -Infinity;
  private killedSpike = -1;
  private readonly sampler: PatternSampler | null;
  private readonly minFree: number;
  private readonly cacheMin: number;
  private readonly swapWriteKibS: number;
  private readonly readaheadPages: number;
  /** vCPU time per page read back from the guest's swap, at a whole CPU (s). */
  private readonly swapInCpuS: number;

  constructor(
    readonly spec: GuestSpec,
    readonly uuid: string,
    private readonly scenario: Scenario,
    rng: Rng,
  ) {
    this.maxKib = spec.memory_mib * MIB;
    this.minKib = spec.balloon_min_mib * MIB;
    this.swapTotal = spec.swap_mib * MIB;
    this.kernel = Math.min(spec.kernel_mib * MIB, this.maxKib);
    this.cur = this.maxKib;
    this.target = this.maxKib;
    // Linux's min_free_kbytes = sqrt(16 * RAM KiB); kswapd's high watermark is 1.5 times that.
    this.minFree = 1.5 * Math.sqrt(16 * this.maxKib);
    this.cacheMin = scenario.guest_defaults.cache_min_mib * MIB;
    this.swapWriteKibS = scenario.guest_defaults.swap_write_mib_s * MIB;
    this.readaheadPages = scenario.guest_defaults.swap_readahead_pages;
    this.swapInCpuS = scenario.guest_defaults.swap_in_cpu_us * 1e-6;
    const w = spec.workload;
    this.sampler = w.kind === 'memknobs' ? new PatternSampler(w.pattern, spec.index, rng) : null;
  }

  get name(): string {
    return this.spec.name;
  }

  // ---- amounts --------------------------------------------------------------------------------

  /** Guest memory backed by host RAM (KiB). */
  resident(): number {
    return this.kernel + this.hotR + this.coldR + this.cacheR + this.freeR;
  }
  /** Guest memory in host swap (KiB). */
  hostSwapped(): number {
    return this.hotH + this.coldH + this.cacheH + this.freeH;
  }
  free(): number {
    return this.freeU + this.freeR + this.freeH;
  }
  cache(): number {
    return this.cacheR + this.cacheH;
  }
  hot(): number {
    return this.hotR + this.hotH + this.swapHot;
  }
  cold(): number {
    return this.coldR + this.coldH + this.swapCold;
  }
  swapUsed(): number {
    return this.swapHot + this.swapCold;
  }
  /** Share of this guest's memory whose content exists elsewhere (KSM candidates). */
  ksmDup(imagePeers: number): number {
    const extra = imagePeers >= 2 ? this.scenario.ksm.image_share : 0;
    return Math.min(0.95, this.spec.workload.ksm_dup + extra);
  }

  // ---- life cycle -----------------------------------------------------------------------------

  /** Boots: the kernel and the boot page cache are touched, everything else is untouched. */
  boot(now: number): void {
    this.state = 'running';
    this.startedAt = now;
    const cache = Math.min(this.spec.boot_cache_mib * MIB, this.maxKib - this.kernel);
    this.cacheR = cache;
    const stale = Math.min(this.spec.boot_touched_mib * MIB, this.maxKib - this.kernel - cache);
    this.freeR = stale;
    this.staleR = stale;
    this.freeU = this.maxKib - this.kernel - cache - stale;
  }

  /** Stops (shut down or killed by the host): all its host memory and swap is released. */
  halt(state: 'stopped' | 'killed'): void {
    this.state = state;
    this.hotR = this.hotH = this.coldR = this.coldH = this.cacheR = this.cacheH = 0;
    this.freeU = this.freeR = this.freeH = this.swapHot = this.swapCold = this.merged = 0;
    this.staleR = this.owedS = 0;
    this.lastThroughput = 0;
  }

  /** Removes `kib` of resident pages from the host; merged pages go in proportion. */
  private dropResident(kib: number): void {
    const r = this.resident() + kib; // resident before the caller's removal
    if (r > 0 && this.merged > 0) this.merged = Math.max(0, this.merged * (1 - kib / r));
  }

  /** Content written into `kib` of resident pages: merged ones among them are unshared. */
  unshareWritten(kib: number, poolR: number): number {
    const r = this.resident();
    if (r <= 0 || this.merged <= 0 || poolR <= 0 || kib <= 0) return 0;
    const mergedInPool = this.merged * (poolR / r);
    const unshared = Math.min(this.merged, mergedInPool * Math.min(1, kib / poolR));
    this.merged -= unshared;
    return unshared;
  }

  // ---- reclaim inside the guest (informed) ----------------------------------------------------

  /**
   * Frees up to `kib` into the free pool, in the guest kernel's order: page cache first (down to
   * its floor), then cold anonymous pages, then hot ones, to the guest's swap. Swap-outs are
   * limited by the free swap and by `swapBudget`. Writing out a page the host had swapped out
   * first needs a host swap-in (double paging), which stalls the vCPU. Returns the KiB freed.
   */
  reclaim(kib: number, swapBudget: number, ctx: StepContext, report: StepReport): number {
    let need = kib;
    let swappedOut = 0;
    // 1. Page cache: clean, dropped without I/O; the page stays where the host has it.
    const cacheTake = Math.min(need, Math.max(0, this.cache() - this.cacheMin));
    if (cacheTake > 0) {
      const fr = this.cacheR / this.cache();
      this.cacheR -= cacheTake * fr;
      this.cacheH -= cacheTake * (1 - fr);
      this.freeR += cacheTake * fr;
      this.freeH += cacheTake * (1 - fr);
      need -= cacheTake;
    }
    // 2. and 3. Anonymous pages, cold before hot, written to the guest's swap.
    for (const kind of ['cold', 'hot'] as const) {
      if (need <= 0) break;
      const inRam = kind === 'cold' ? this.coldR + this.coldH : this.hotR + this.hotH;
      const room = Math.min(this.swapTotal - this.swapUsed(), swapBudget - swappedOut);
      const take = Math.min(need, inRam, Math.max(0, room));
      if (take <= 0) continue;
      const fr = kind === 'cold' ? this.coldR / inRam : this.hotR / inRam;
      const fromR = take * fr;
      const fromH = take - fromR;
      if (kind === 'cold') {
        this.coldR -= fromR;
        this.coldH -= fromH;
        this.swapCold += take;
      } else {
        this.hotR -= fromR;
        this.hotH -= fromH;
        this.swapHot += take;
      }
      // The guest reads every page it writes to swap: host-swapped ones come back first.
      this.hostSwapInPages += fromH / PAGE_KIB;
      report.hostSwapInPages += fromH / PAGE_KIB;
      report.hostStallS += (fromH / PAGE_KIB) * ctx.hostSwapInS;
      report.swapStallS += (fromH / PAGE_KIB) * ctx.hostSwapInS;
      this.freeR += take;
      this.swapOutPages += take / PAGE_KIB;
      swappedOut += take;
      need -= take;
    }
    report.storageOps += swappedOut / PAGE_KIB / this.scenario.host.swap_write_cluster_pages;
    this.owedS += (swappedOut / PAGE_KIB) * this.scenario.guest_defaults.swap_out_cpu_us * 1e-6;
    return kib - need;
  }

  /**
   * Takes `kib` (at most the free pool) from free memory, blind to where the host keeps it. Pages
   * that leave the guest (`leaving`: the balloon) take their share of boot's stale pages with
   * them; pages the guest only uses for a while (an allocation) come back to the free lists as
   * the same scattered pieces, still too small to report, so the stale amount stays.
   */
  private takeFree(kib: number, leaving: boolean): Taken {
    const total = this.free();
    if (total <= 0 || kib <= 0) return { r: 0, h: 0, u: 0 };
    const k = Math.min(1, kib / total);
    const t = { r: this.freeR * k, h: this.freeH * k, u: this.freeU * k };
    if (leaving) this.staleR -= this.staleR * k;
    this.freeR -= t.r;
    this.freeH -= t.h;
    this.freeU -= t.u;
    return t;
  }

  /**
   * Gets `kib` of guest pages for new content (an allocation, a swap-in, a file read), reclaiming
   * if the free pool is short. The pages are written, so all become resident on the host: a
   * host-swapped free page is swapped in although its content is garbage (the nested-LRU
   * waste), and an untouched one gets a fresh host page. Returns how much was obtained.
   */
  obtain(kib: number, dest: 'hot' | 'cold' | 'cache', ctx: StepContext, report: StepReport): number {
    if (kib <= 0) return 0;
    const short = kib + this.minFree - this.free();
    if (short > 0) {
      this.reclaim(short, Infinity, ctx, report);
    }
    const got = Math.min(kib, Math.max(0, this.free() - this.minFree));
    const poolR = this.freeR;
    const t = this.takeFree(got, false);
    if (dest === 'hot') this.hotR += got;
    else if (dest === 'cold') this.coldR += got;
    else this.cacheR += got;
    this.unshareWritten(t.r, poolR);
    this.hostSwapInPages += t.h / PAGE_KIB;
    this.hostFreshPages += t.u / PAGE_KIB;
    report.hostSwapInPages += t.h / PAGE_KIB;
    report.hostStallS += (t.h / PAGE_KIB) * ctx.hostSwapInS + (t.u / PAGE_KIB) * ctx.freshPageS;
    report.swapStallS += (t.h / PAGE_KIB) * ctx.hostSwapInS;
    this.minorFaults += got / PAGE_KIB;
    return got;
  }

  // ---- balloon --------------------------------------------------------------------------------

  /** Moves the balloon toward its target at the configured rates. */
  stepBalloon(ctx: StepContext, report: StepReport): void {
    if (!this.spec.balloon) return;
    const want = this.target - this.cur;
    if (want > 0) {
      const x = Math.min(want, this.scenario.balloon.deflate_mib_s * MIB * ctx.dt);
      this.cur += x;
      this.freeU += x; // returned pages are untouched: the host backs them again on first use
    } else if (want < 0) {
      const amount = Math.min(-want, this.scenario.balloon.inflate_mib_s * MIB * ctx.dt);
      const avail = Math.max(0, this.free() - this.minFree);
      if (avail < amount) {
        this.reclaim(amount - avail, this.swapWriteKibS * ctx.dt, ctx, report);
      }
      const x = Math.min(amount, Math.max(0, this.free() - this.minFree));
      const t = this.takeFree(x, true);
      // Balloon pages go back to the host: resident ones free host RAM, swapped ones a swap slot.
      this.dropResident(t.r);
      this.cur -= x;
    }
  }

  /**
   * Free page reporting: free pages the guest freed since boot leave host RAM (they become
   * untouched, backed again on first use), at the reporting rate; boot's stale pages stay.
   */
  private reportFreePages(ctx: StepContext): void {
    const b = this.scenario.balloon;
    if (!b.free_page_reporting || !this.spec.balloon) return;
    const reportable = Math.max(0, this.freeR - this.staleR);
    const x = Math.min(reportable, b.reporting_mib_s * MIB * ctx.dt);
    if (x <= 0) return;
    this.freeR -= x;
    this.freeU += x;
    this.dropResident(x);
  }

  // ---- workloads ------------------------------------------------------------------------------

  /** One step of the guest: balloon, then the workload. */
  step(ctx: StepContext): StepReport {
    const report: StepReport = {
      cpuDemand: 0,
      hostStallS: 0,
      swapStallS: 0,
      hostSwapInPages: 0,
      storageOps: 0,
      throughput: 0,
    };
    this.stepBalloon(ctx, report);
    this.reportFreePages(ctx);
    const t = ctx.now - this.startedAt;
    const w = this.spec.workload;
    // What the guest's own reclaim cost its vCPU since the last step comes first: computing, so
    // it takes longer when the vCPU gets only a share of a CPU, and it keeps the vCPU runnable.
    const owed = Math.min(ctx.dt, this.owedS / ctx.cpuShare);
    this.owedS = Math.max(0, this.owedS - owed * ctx.cpuShare);
    this.swapCpuWallS = owed;
    let budget = ctx.dt - owed;
    let touched = 0;
    switch (w.kind) {
      case 'memknobs': {
        const running = t >= this.restartAt;
        const hotTarget = running ? (this.sampler?.at(t) ?? 0) * MIB : 0;
        this.settleCold(w.base_mib * MIB, ctx, report);
        const rate = (w.touch_mib_s * MIB) / PAGE_KIB;
        const hitS = 1 / (rate * ctx.cpuShare);
        const alloc = this.settleHot(hotTarget, this.affordable(budget, hitS, ctx), ctx, report);
        if (alloc.oom) {
          this.restartAt = t + w.restart_s;
          break;
        }
        budget -= alloc.pages * hitS;
        touched += alloc.pages;
        if (running) touched += this.touchLoop(Math.max(0, budget), rate, ctx, report);
        break;
      }
      case 'spike': {
        this.settleCold(t < w.boot_s ? 0 : w.keep_mib * MIB, ctx, report);
        const rate = (w.touch_mib_s * MIB) / PAGE_KIB;
        let hotTarget = 0;
        let spikeIndex = -1;
        if (t < w.boot_s) hotTarget = (w.keep_mib * MIB * t) / w.boot_s;
        else if (t >= w.at_s) {
          const since = t - w.at_s;
          spikeIndex = w.every_s === undefined ? 0 : Math.floor(since / w.every_s);
          const into = w.every_s === undefined ? since : since % w.every_s;
          if (
            (w.every_s !== undefined || spikeIndex === 0) &&
            into < w.hold_s &&
            spikeIndex !== this.killedSpike
          ) {
            hotTarget = w.size_mib * MIB;
          }
        }
        const hitS = 1 / (rate * ctx.cpuShare);
        const maxGrow = Math.min(w.alloc_mib_s * MIB * ctx.dt, this.affordable(budget, hitS, ctx));
        const alloc = this.settleHot(hotTarget, maxGrow, ctx, report);
        if (alloc.oom) {
          this.killedSpike = spikeIndex;
          break;
        }
        if (spikeIndex < 0) break;
        budget -= alloc.pages * hitS;
        touched += alloc.pages;
        if (this.hot() > 0) touched += this.touchLoop(Math.max(0, budget), rate, ctx, report);
        break;
      }
      case 'idle': {
        const touch = (w.touch_mib ?? 0.8 * this.spec.memory_mib) * MIB;
        // Boot touches memory once (a ramp of anonymous memory), then keeps only keep_mib, cold.
        const hotTarget = t < w.boot_s ? (touch * t) / w.boot_s : 0;
        this.settleHot(hotTarget, this.affordable(budget, BOOT_TOUCH_S, ctx), ctx, report);
        this.settleCold(t < w.boot_s ? 0 : w.keep_mib * MIB, ctx, report);
        break;
      }
      case 'pagecache': {
        this.settleCold(0, ctx, report);
        const alloc = this.settleHot(
          w.anon_mib * MIB,
          this.affordable(budget, BOOT_TOUCH_S, ctx),
          ctx,
          report,
        );
        if (alloc.oom) break;
        budget -= alloc.pages * BOOT_TOUCH_S;
        report.throughput = this.readFiles(Math.max(0, budget), w, ctx, report);
        break;
      }
    }
    if (w.kind === 'memknobs' || w.kind === 'spike') {
      report.throughput = (touched * PAGE_KIB) / MIB / ctx.dt;
      // Runnable time: the touches' CPU time at full speed, stretched by the CPU share.
      const rate = (w.touch_mib_s * MIB) / PAGE_KIB;
      report.cpuDemand += Math.min(1, (touched / (rate * ctx.cpuShare) + this.swapCpuWallS) / ctx.dt);
    } else {
      report.cpuDemand = Math.min(1, report.cpuDemand + this.swapCpuWallS / ctx.dt);
    }
    this.lastThroughput = report.throughput;
    this.throughputIntegral += report.throughput * ctx.dt;
    this.runningTime += ctx.dt;
    return report;
  }

  /**
   * Brings the hot (workload) anonymous memory to `target`: freeing gives pages back to the free
   * pool wherever they are; growing (at most `maxGrow`) allocates. An allocation that cannot be
   * satisfied even with the guest's swap full OOM-kills the workload, whose anon is then freed.
   */
  private settleHot(
    target: number,
    maxGrow: number,
    ctx: StepContext,
    report: StepReport,
  ): { pages: number; oom: boolean } {
    const have = this.hot();
    if (target < have) {
      this.freeAnon('hot', have - target);
      return { pages: 0, oom: false };
    }
    const want = Math.min(target - have, maxGrow);
    if (want <= 0) return { pages: 0, oom: false };
    let got = this.obtain(want, 'hot', ctx, report);
    if (got < want - 1e-6 && this.scenario.balloon.deflate_on_oom && this.cur < this.maxKib) {
      const give = Math.min(this.maxKib - this.cur, want - got + this.minFree);
      this.cur += give;
      this.freeU += give;
      got += this.obtain(want - got, 'hot', ctx, report);
    }
    if (got < want - 1e-6 && this.cannotGrow()) {
      this.oomKills++;
      this.freeAnon('hot', this.hot());
      return { pages: 0, oom: true };
    }
    return { pages: got / PAGE_KIB, oom: false };
  }

  /**
   * KiB a workload can allocate (first-touch) in `budget` seconds: each new page costs its write
   * plus, on average, the host's work to back it (a fresh page, or a swap-in of a free page the
   * host had swapped out). Allocation is thereby slowed by the same costs as everything else.
   */
  private affordable(budget: number, writeS: number, ctx: StepContext): number {
    const f = this.free();
    const stall =
      f > 0 ? (this.freeH / f) * ctx.hostSwapInS + (this.freeU / f) * ctx.freshPageS : ctx.freshPageS;
    return (Math.max(0, budget) / (writeS + stall)) * PAGE_KIB;
  }

  /** True when the guest has nothing left to reclaim: its swap is full and its cache at its floor. */
  private cannotGrow(): boolean {
    return (
      this.swapUsed() >= this.swapTotal - 1e-6 || this.coldR + this.coldH + this.hotR + this.hotH <= 1e-6
    );
  }

  private settleCold(target: number, ctx: StepContext, report: StepReport): void {
    const have = this.cold();
    if (target < have) this.freeAnon('cold', have - target);
    else if (target > have) this.obtain(target - have, 'cold', ctx, report);
  }

  /** Frees anonymous memory in proportion to where it is: RAM pages join the free pool. */
  private freeAnon(kind: 'hot' | 'cold', kib: number): void {
    const total = kind === 'hot' ? this.hot() : this.cold();
    if (total <= 0 || kib <= 0) return;
    const k = Math.min(1, kib / total);
    if (kind === 'hot') {
      this.freeR += this.hotR * k;
      this.freeH += this.hotH * k;
      this.hotR -= this.hotR * k;
      this.hotH -= this.hotH * k;
      this.swapHot -= this.swapHot * k;
    } else {
      this.freeR += this.coldR * k;
      this.freeH += this.coldH * k;
      this.coldR -= this.coldR * k;
      this.coldH -= this.coldH * k;
      this.swapCold -= this.swapCold * k;
    }
  }

  /**
   * The memknobs loop: write one byte per page over the hot buffer, as many pages as `budget`
   * seconds allow. A resident page costs CPU only; a page in host swap stalls the vCPU for a
   * host swap-in; a page in the guest's swap costs a guest swap-in (readahead helps the
   * sequential loop) and a free guest page to put it in. Returns the pages touched.
   */
  private touchLoop(budget: number, ratePages: number, ctx: StepContext, report: StepReport): number {
    const a = this.hot();
    if (a <= 0 || budget <= 0) return 0;
    const hitS = 1 / (ratePages * ctx.cpuShare);
    const fH = this.hotH / a;
    const fS = this.swapHot / a;
    const guestInS = ctx.guestSwapInS + this.swapInCpuS / ctx.cpuShare;
    const perTouch = hitS + fH * ctx.hostSwapInS + fS * guestInS;
    const n = budget / perTouch;
    const hostIns = Math.min(this.hotH / PAGE_KIB, n * fH);
    let guestIns = Math.min(this.swapHot / PAGE_KIB, n * fS);
    // Host swap-ins: the page comes back into host RAM.
    this.hotH -= hostIns * PAGE_KIB;
    this.hotR += hostIns * PAGE_KIB;
    this.hostSwapInPages += hostIns;
    report.hostSwapInPages += hostIns;
    report.hostStallS += hostIns * ctx.hostSwapInS;
    report.swapStallS += hostIns * ctx.hostSwapInS;
    // Guest swap-ins: the slot is released, then a free page is found (maybe by swapping another out).
    if (guestIns > 0) {
      const kib = guestIns * PAGE_KIB;
      this.swapHot -= kib;
      const stallBefore = report.hostStallS;
      const got = this.obtain(kib, 'hot', ctx, report);
      this.swapHot += kib - got;
      guestIns = got / PAGE_KIB;
      this.swapInPages += guestIns;
      this.majorFaults += guestIns;
      report.storageOps += guestIns / this.readaheadPages;
      budget -= report.hostStallS - stallBefore; // garbage swap-ins and double paging
    }
    this.swapCpuWallS += (guestIns * this.swapInCpuS) / ctx.cpuShare;
    const faultS = hostIns * (ctx.hostSwapInS + hitS) + guestIns * (guestInS + hitS);
    const hits = Math.max(0, (budget - faultS) / hitS);
    const touched = hits + hostIns + guestIns;
    // Every touch writes: merged (KSM) pages of the buffer are unshared, each a copy-on-write
    // fault that costs about as much as backing a fresh page, in place of a plain touch.
    const cow = this.unshareWritten(touched * PAGE_KIB, this.hotR) / PAGE_KIB;
    this.hotWriteRate = (touched * PAGE_KIB) / a / ctx.dt;
    return Math.max(0, touched - (cow * ctx.freshPageS) / hitS);
  }

  /**
   * The pagecache workload: reads pages of a file working set uniformly at up to the demanded
   * rate. A page in the guest's cache costs CPU (or a host swap-in if the host swapped that cache
   * page out); a miss waits for the virtual disk (overlapped across requests in flight) and puts
   * the page into the cache, which takes free memory, else replaces other cache. Returns MiB/s.
   */
  private readFiles(
    budget: number,
    w: {
      working_set_mib: number;
      max_read_mib_s: number;
      read_cpu_us: number;
      io_parallelism: number;
      anon_touches_per_page: number;
    },
    ctx: StepContext,
    report: StepReport,
  ): number {
    const ws = w.working_set_mib * MIB;
    const c = this.cache();
    const hit = Math.min(1, c / ws);
    const fCH = c > 0 ? this.cacheH / c : 0;
    const a = this.hot();
    const fAH = a > 0 ? this.hotH / a : 0;
    const fAS = a > 0 ? this.swapHot / a : 0;
    const k = w.anon_touches_per_page;
    const cpuS = (w.read_cpu_us * 1e-6) / ctx.cpuShare;
    const perPage =
      cpuS +
      hit * fCH * ctx.hostSwapInS +
      ((1 - hit) * ctx.diskReadS) / w.io_parallelism +
      k * (fAH * ctx.hostSwapInS + fAS * (ctx.guestSwapInS + this.swapInCpuS / ctx.cpuShare));
    const cap = ((w.max_read_mib_s * MIB) / PAGE_KIB) * ctx.dt;
    const n = Math.min(cap, budget / perPage);
    // Hits on cache pages the host swapped out.
    const cacheHostIns = Math.min(this.cacheH / PAGE_KIB, n * hit * fCH);
    this.cacheH -= cacheHostIns * PAGE_KIB;
    this.cacheR += cacheHostIns * PAGE_KIB;
    // Anonymous pages touched while serving.
    const anonHostIns = Math.min(this.hotH / PAGE_KIB, n * k * fAH);
    this.hotH -= anonHostIns * PAGE_KIB;
    this.hotR += anonHostIns * PAGE_KIB;
    const hostIns = cacheHostIns + anonHostIns;
    this.hostSwapInPages += hostIns;
    report.hostSwapInPages += hostIns;
    report.hostStallS += hostIns * ctx.hostSwapInS;
    report.swapStallS += hostIns * ctx.hostSwapInS;
    let anonGuestIns = Math.min(this.swapHot / PAGE_KIB, n * k * fAS);
    if (anonGuestIns > 0) {
      const kib = anonGuestIns * PAGE_KIB;
      this.swapHot -= kib;
      const got = this.obtain(kib, 'hot', ctx, report);
      this.swapHot += kib - got;
      anonGuestIns = got / PAGE_KIB;
      this.swapCpuWallS += (anonGuestIns * this.swapInCpuS) / ctx.cpuShare;
      this.swapInPages += anonGuestIns;
      this.majorFaults += anonGuestIns;
      report.storageOps += anonGuestIns / this.readaheadPages;
    }
    // Misses: read from disk into the cache.
    const misses = n * (1 - hit);
    if (misses > 0) {
      this.obtain(misses * PAGE_KIB, 'cache', ctx, report);
      this.majorFaults += misses;
      report.storageOps += misses;
    }
    this.unshareWritten(k * n * PAGE_KIB, this.hotR);
    this.hotWriteRate = a > 0 ? (k * n * PAGE_KIB) / a / ctx.dt : 0;
    report.cpuDemand += Math.min(1, (n * cpuS) / ctx.dt);
    return (n * PAGE_KIB) / MIB / ctx.dt;
  }
}
