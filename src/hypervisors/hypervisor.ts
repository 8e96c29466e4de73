// The one interface every hypervisor backend implements (simulated, libvirt, qmp). The engine
// only talks to guests through it. Memory crosses this boundary in KiB, whatever the backend's
// own unit; counters are cumulative since the guest started, as libvirt and QEMU report them.

/** A running guest as the backend lists it. `id` is the backend's stable handle (libvirt: uuid). */
export interface GuestInfo {
  readonly id: string;
  readonly name: string;
  readonly uuid: string;
  /** The QEMU process id on the host, or null when the backend cannot tell (simulated guests). */
  readonly pid: number | null;
}

/**
 * One reading of a guest's memory. Every field may be null: a guest without a balloon driver, or
 * whose driver has not reported statistics yet, has nulls, and that is not an error. A value the
 * hypervisor marks as "not reported" (QEMU's 2^64-1, a key libvirt leaves out) is null, never a
 * huge number.
 */
export interface GuestMemoryStats {
  /** Current balloon size: the memory the guest sees now (KiB). */
  readonly balloon_cur: number | null;
  /** The guest's configured maximum memory (KiB). */
  readonly balloon_max: number | null;
  /** A floor set by the administrator or the backend (KiB); null when none. */
  readonly balloon_min: number | null;
  /** Total memory as the guest kernel reports it (KiB). */
  readonly mem_available: number | null;
  /** Memory the guest kernel has free, not even used as cache (KiB). */
  readonly mem_unused: number | null;
  /** Guest disk caches: page cache that can be reclaimed without I/O (KiB). */
  readonly mem_cache: number | null;
  /** Memory the guest could use without swapping, its MemAvailable (KiB). */
  readonly mem_usable: number | null;
  /** Seconds since the guest last refreshed these statistics (null: never, or unknown). */
  readonly stats_age_s: number | null;
  /** Cumulative pages swapped in / out by the guest kernel. */
  readonly swap_in: number | null;
  readonly swap_out: number | null;
  /** Cumulative major and minor page faults inside the guest. */
  readonly major_fault: number | null;
  readonly minor_fault: number | null;
  /** Guest swap size and use (KiB). */
  readonly swap_total: number | null;
  readonly swap_usage: number | null;
  /** Resident memory of the guest's process on the host (KiB). */
  readonly rss: number | null;
}

export type HypervisorErrorCode = 'guest-gone' | 'timeout' | 'unsupported' | 'stale-stats' | 'transport';

/** Every backend failure: never a null or a silent pass. 'guest-gone' is normal churn, not a fault. */
export class HypervisorError extends Error {
  constructor(
    readonly code: HypervisorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HypervisorError';
  }
}

export interface Hypervisor {
  readonly name: string;
  /** The running guests now. */
  listGuests(signal?: AbortSignal): Promise<GuestInfo[]>;
  /**
   * Memory statistics of the given guests in ONE request (the cost of a cycle must stay flat as
   * guests are added). A guest that vanished maps to a HypervisorError('guest-gone').
   */
  guestStats(
    ids: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, GuestMemoryStats | HypervisorError>>;
  /** Asks the guest's balloon to reach `kib`. Throws HypervisorError. */
  setBalloonTarget(id: string, kib: number, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
