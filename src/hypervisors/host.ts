// The one interface for the host's own state and knobs: memory as /proc/meminfo gives it, KSM as
// /sys/kernel/mm/ksm gives it, swap counters as /proc/vmstat gives them, and pressure (PSI).
// The simulator implements it; the /proc and sysfs reader of the real host will too.

export interface HostMemory {
  /** MemTotal (KiB). */
  readonly total: number;
  /** MemFree (KiB). */
  readonly free: number;
  /** Buffers + Cached (KiB): page cache the host can drop. */
  readonly cached: number;
  /** MemAvailable (KiB): the kernel's estimate of memory available without swapping; null if unknown. */
  readonly available: number | null;
  /** AnonPages (KiB). */
  readonly anon: number;
  readonly swapTotal: number;
  readonly swapFree: number;
  /** Cumulative pages swapped in / out since boot (pswpin / pswpout). */
  readonly swapInPages: number;
  readonly swapOutPages: number;
  /** Number of host CPUs. */
  readonly cpuCount: number;
}

export interface KsmState {
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

/** The KSM knobs a controller may write (sysfs run, pages_to_scan, sleep_millisecs, merge_across_nodes). */
export interface KsmSettings {
  readonly run: number;
  readonly pagesToScan: number;
  readonly sleepMillisecs: number;
  readonly mergeAcrossNodes: number;
}

/** PSI "some"/"full" avg10 percentages for memory; null when the kernel has no PSI. */
export interface MemoryPressure {
  readonly some10: number;
  readonly full10: number;
}

export interface HostSource {
  readonly name: string;
  memory(signal?: AbortSignal): Promise<HostMemory>;
  /** null when the kernel has no KSM. */
  ksm(signal?: AbortSignal): Promise<KsmState | null>;
  /** null when the kernel has no PSI. */
  pressure(signal?: AbortSignal): Promise<MemoryPressure | null>;
  /** Memory of guest processes KSM may merge (KiB): MOM's ksm_shareable. */
  ksmShareable(signal?: AbortSignal): Promise<number>;
  /** CPU share ksmd used since the last call, in percent of one CPU. */
  ksmdCpuUsage(signal?: AbortSignal): Promise<number | null>;
  /** Writes only the given KSM knobs. */
  setKsm(settings: Partial<KsmSettings>, signal?: AbortSignal): Promise<void>;
}
