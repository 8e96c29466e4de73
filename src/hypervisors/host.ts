// The host-side port: the host's own memory, KSM, zswap, pressure, CPUs and clock, and the memory
// limits of the guests' QEMU processes, read and written. The Linux host (linux/) and the simulated host (simulated/)
// implement it, and both pass the contract suite in test/hypervisors/host-contract.ts. Readings
// are keyed by the field catalogue's names, memory in KiB, counters cumulative.
import type { MomError } from '../errors.js';
import type { HostGroup, HostReading } from '../fields/catalogue.js';
import type { GuestInfo } from './hypervisor.js';

/**
 * Kernel features a host may lack. `ksm`: /sys/kernel/mm/ksm; `ksmd-cpu`: a ksmd thread to time;
 * `psi`: /proc/pressure/memory; `cgroup-limits`: memory cgroups the guests' processes can be
 * limited in; `zswap`: /sys/module/zswap (a compressed cache in front of swap).
 */
export type HostCapability = 'ksm' | 'ksmd-cpu' | 'psi' | 'cgroup-limits' | 'zswap';

/** Every capability, in the order probes report them. */
export const HOST_CAPABILITIES: readonly HostCapability[] = [
  'ksm',
  'ksmd-cpu',
  'psi',
  'cgroup-limits',
  'zswap',
];

/** What a host can do, found once at start. A missing capability says why, naming the fix. */
export interface HostProbe {
  readonly capabilities: ReadonlySet<HostCapability>;
  readonly missing: ReadonlyMap<HostCapability, string>;
}

/** The KSM knobs a controller may write (sysfs run, pages_to_scan, sleep_millisecs, merge_across_nodes). */
export interface KsmSettings {
  readonly run: number;
  readonly pagesToScan: number;
  readonly sleepMillisecs: number;
  readonly mergeAcrossNodes: number;
}

/** The zswap knobs a controller may write (/sys/module/zswap/parameters enabled, max_pool_percent). */
export interface ZswapSettings {
  /** 0 or 1. */
  readonly enabled: number;
  /** Percent of the machine's RAM, 0 to 100. */
  readonly maxPoolPercent: number;
}

/** A guest's memory limit in force (KiB; null: none). `highKib`: cgroup v2's memory.high, kept equal. */
export interface MemoryLimit {
  readonly limitKib: number | null;
  readonly highKib?: number | null;
}

export interface HostSource {
  readonly name: string;
  /** Finds out what this host can do. Cheap enough to call once at start and after a reload. */
  probe(signal?: AbortSignal): Promise<HostProbe>;
  /**
   * One reading of the fields of the given groups. A field whose capability is missing is left
   * out (nil for policies), never an error. Throws on a real failure to read (MomError).
   */
  read(groups: ReadonlySet<HostGroup>, signal?: AbortSignal): Promise<HostReading>;
  /** Writes only the given KSM knobs. Without KSM: HypervisorError MOM_E_UNSUPPORTED. */
  setKsm(settings: Partial<KsmSettings>, signal?: AbortSignal): Promise<void>;
  /** Writes only the given zswap knobs. Without zswap: HypervisorError MOM_E_UNSUPPORTED. */
  setZswap(settings: Partial<ZswapSettings>, signal?: AbortSignal): Promise<void>;
  /**
   * Puts back the zswap knobs found at start, when momd has changed them since (at exit, and when
   * a reload gives zswap up); returns the knobs written back, {} when there was nothing to do.
   * zswap is not restored by close(): the daemon decides when momd lets go of it.
   */
  restoreZswap(signal?: AbortSignal): Promise<Partial<ZswapSettings>>;
  /**
   * The memory limit of each guest's QEMU process, by guest id; or why the guest cannot be
   * limited on its own: MOM_E_UNSUPPORTED (no pid, no own cgroup, a cgroup shared by several
   * guests or with momd), MOM_E_GUEST_GONE, or a failure to read.
   */
  memoryLimits(
    guests: readonly GuestInfo[],
    signal?: AbortSignal,
  ): Promise<Map<string, MemoryLimit | MomError>>;
  /** Sets (KiB) or removes (null) a guest's memory limit. Throws MomError. */
  setMemoryLimit(guest: GuestInfo, kib: number | null, signal?: AbortSignal): Promise<void>;
  /** Ends the session; with `restore`, puts back the KSM knobs found before momd changed any. */
  close(opts?: { restore?: boolean }): Promise<void>;
}

/** The host's memory as /proc/meminfo and /proc/vmstat give it (KiB; swap counters in pages). */
export interface MeminfoLike {
  readonly total: number;
  readonly free: number;
  /** Buffers + Cached. */
  readonly cached: number;
  readonly available: number | null;
  readonly anon: number;
  readonly swapTotal: number;
  readonly swapFree: number;
  readonly swapInPages: number;
  readonly swapOutPages: number;
}

/** The HostMemory fields of a reading, the same way for every host. */
export function memoryReading(m: MeminfoLike): HostReading {
  return {
    mem_available: m.total,
    mem_unused: m.free,
    mem_free: m.free + m.cached,
    swap_in: m.swapInPages,
    swap_out: m.swapOutPages,
    anon_pages: m.anon,
    swap_total: m.swapTotal,
    swap_usage: m.swapTotal - m.swapFree,
    mem_total: m.total,
    mem_cached: m.cached,
    mem_avail: m.available,
  };
}

/** /sys/kernel/mm/ksm as a host shows it (merge_across_nodes null without NUMA). */
export interface KsmLike {
  readonly run: number;
  readonly pagesToScan: number;
  readonly sleepMillisecs: number;
  readonly mergeAcrossNodes: number | null;
  readonly pagesShared: number;
  readonly pagesSharing: number;
  readonly pagesUnshared: number;
  readonly pagesVolatile: number;
  readonly fullScans: number;
}

/** The ksm_* fields of a reading, the same way for every host. */
export function ksmReading(k: KsmLike): HostReading {
  return {
    ksm_run: k.run,
    ksm_pages_to_scan: k.pagesToScan,
    ksm_sleep_millisecs: k.sleepMillisecs,
    ksm_merge_across_nodes: k.mergeAcrossNodes,
    ksm_pages_shared: k.pagesShared,
    ksm_pages_sharing: k.pagesSharing,
    ksm_pages_unshared: k.pagesUnshared,
    ksm_pages_volatile: k.pagesVolatile,
    ksm_full_scans: k.fullScans,
  };
}

/**
 * The HostTime fields of a reading: the calendar in the local time zone at `epochMs` (ms since
 * 1970, as Date.now() gives; a fraction of a millisecond counts in time_microsecond).
 */
export function timeReading(epochMs: number): HostReading {
  const ms = Math.floor(epochMs);
  const at = new Date(ms);
  const intoSecond = ms - Math.floor(ms / 1000) * 1000 + (epochMs - ms);
  return {
    time_year: at.getFullYear(),
    time_month: at.getMonth() + 1,
    time_day: at.getDate(),
    time_hour: at.getHours(),
    time_minute: at.getMinutes(),
    time_second: at.getSeconds(),
    time_microsecond: Math.min(999_999, Math.floor(intoSecond * 1000)),
  };
}
