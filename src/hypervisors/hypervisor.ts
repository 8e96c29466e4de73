// The guest-side port: how the engine lists guests, reads their statistics and moves their
// balloons, whatever the backend (simulated, libvirt, qmp). Memory crosses this boundary in KiB;
// readings are keyed by the field catalogue's names, counters cumulative since the guest started.
// Every implementation passes the contract suite in test/hypervisors/contract.ts.
import { MomError } from '../errors.js';
import type { GuestReading } from '../fields/catalogue.js';

/** A running guest as the backend lists it. `id` is the backend's stable handle (libvirt: uuid). */
export interface GuestInfo {
  readonly id: string;
  readonly name: string;
  readonly uuid: string;
  /** The QEMU process id on the host, or null when the backend cannot tell (simulated guests). */
  readonly pid: number | null;
}

/**
 * What a backend can do. `balloon`: set balloon targets; `guest-stats`: the guests' own memory
 * statistics (virtio-balloon stats); `guest-pid`: the QEMU process of each guest (for its resident
 * memory and its memory cgroup).
 */
export type HypervisorCapability = 'balloon' | 'guest-stats' | 'guest-pid';

export type HypervisorErrorCode =
  | 'MOM_E_GUEST_GONE'
  | 'MOM_E_TIMEOUT'
  | 'MOM_E_UNSUPPORTED'
  | 'MOM_E_TRANSPORT'
  | 'MOM_E_INVALID_ARGUMENT'
  | 'MOM_E_CLOSED';

/**
 * Every failure of either port (this one and HostSource): never a null or a silent pass.
 * MOM_E_GUEST_GONE is normal churn, not a fault.
 */
export class HypervisorError extends MomError {
  constructor(
    override readonly code: HypervisorErrorCode,
    message: string,
  ) {
    super(code, message);
    this.name = 'HypervisorError';
  }
}

/** No backend sets a balloon below this (KiB), unless the guest's maximum is lower. */
export const MIN_BALLOON_KIB = 64 * 1024;
/** Guest pages: balloon targets are whole pages, so that a balloon can land exactly on one. */
export const GUEST_PAGE_KIB = 4;

/**
 * The balloon target a backend applies for a request of `kib`: rounded down to whole 4 KiB pages
 * and kept within [max(floor, MIN_BALLOON_KIB), max] (a target of 0 would take all of a guest's
 * memory). A non-finite or negative request is MOM_E_INVALID_ARGUMENT. `floor` is the backend's
 * own floor for the guest (libvirt's guarantee), `max` its maximum; null when unknown.
 */
export function balloonTarget(
  kib: number,
  bounds: { readonly floor: number | null; readonly max: number | null },
  guest: string,
): number {
  if (!Number.isFinite(kib) || kib < 0) {
    throw new HypervisorError('MOM_E_INVALID_ARGUMENT', `guest ${guest}: bad balloon target ${kib} KiB`);
  }
  const max = bounds.max === null ? Infinity : bounds.max;
  const floor = Math.min(Math.max(bounds.floor ?? 0, MIN_BALLOON_KIB), max);
  const clamped = Math.min(Math.max(kib, floor), max);
  if (clamped === max) return max; // all the way back: exactly the maximum, page-aligned or not
  return Math.max(Math.floor(clamped / GUEST_PAGE_KIB) * GUEST_PAGE_KIB, floor);
}

export interface Hypervisor {
  readonly name: string;
  readonly capabilities: ReadonlySet<HypervisorCapability>;
  /** The running guests now. */
  listGuests(signal?: AbortSignal): Promise<GuestInfo[]>;
  /**
   * Readings of the given guests in ONE request (the cost of a cycle must stay flat as guests are
   * added). A guest that vanished, or an id never listed, maps to MOM_E_GUEST_GONE. A guest
   * without a balloon driver has balloon_cur and balloon_max and nothing else.
   */
  guestStats(
    ids: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, GuestReading | HypervisorError>>;
  /**
   * Asks the guest's balloon to reach `kib`, as balloonTarget() settles it; resolves with the
   * target actually sent. A guest without a balloon driver accepts the target and ignores it; a
   * guest without a balloon device is MOM_E_UNSUPPORTED. Throws HypervisorError.
   */
  setBalloonTarget(id: string, kib: number, signal?: AbortSignal): Promise<number>;
  /** Releases connections; every later call fails with MOM_E_CLOSED. */
  close(): Promise<void>;
}
