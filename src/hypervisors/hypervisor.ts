// The guest-side port: how the engine lists guests, reads their statistics and moves their
// balloons, whatever the backend (simulated, libvirt, qmp). Memory crosses this boundary in KiB;
// readings are keyed by the field catalogue's names, counters cumulative since the guest started.
// Every implementation passes the contract suite in test/hypervisors/contract.ts.
import { MomError } from '../errors.js';
import type { GuestReading } from '../fields/catalogue.js';
import { IO_TUNE_KEYS, type IoTuneValues } from '../fields/io-tune.js';

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
 * memory and its memory cgroup); `cpu-tune`: read (GuestCpuTune) and set (setCpuTune) the guests'
 * vCPU quota and period; `io-tune`: read (GuestIoTune) and set (setIoTune) their disks' throttles;
 * `pause`: stop a guest's vCPUs and let them run again (pause, resume), and tell which (runState);
 * `guest-agent`: read a guest's memory statistics through its QEMU guest agent (guestAgentStats).
 * A backend declaring `cpu-tune` or `io-tune` has guestTuning and the matching setter; one
 * declaring `pause` has pause, resume and runState; one declaring `guest-agent` has guestAgentStats.
 */
export type HypervisorCapability =
  'balloon' | 'guest-stats' | 'guest-pid' | 'cpu-tune' | 'io-tune' | 'pause' | 'guest-agent';

/**
 * Whether a guest's vCPUs run: 'paused' is stopped by a pause (ours or anyone's: QMP `stop`,
 * `virsh suspend`); 'other' is any other state (shutting down, crashed, migrating, suspended to RAM).
 */
export type GuestRunState = 'running' | 'paused' | 'other';

/** Which tuning groups guestTuning reads. */
export interface TuningRequest {
  /** vcpu_quota, vcpu_period, vcpu_user_limit, vcpu_count. */
  readonly cpu: boolean;
  /** io_tune. */
  readonly io: boolean;
}

/** What setCpuTune changes; a key left out is left as it is. */
export interface CpuTuneSettings {
  /** CPU time each vCPU may use per period, µs; -1: no limit. */
  readonly quota?: number;
  /** The enforcement period, µs. */
  readonly period?: number;
}

/** libvirt's bounds of a vCPU period and quota (µs), which the CFS scheduler shares. */
export const VCPU_PERIOD_RANGE = { min: 1000, max: 1_000_000 } as const;
export const VCPU_QUOTA_RANGE = { min: 1000, max: 17_592_186_044_415 } as const;

/** A quota as readings and controls carry it: any negative value, or one beyond the range, is -1. */
export function normalQuota(quota: number): number {
  return quota < 0 || quota >= VCPU_QUOTA_RANGE.max ? -1 : quota;
}

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

/** A quota and period every backend takes (libvirt's bounds): period within VCPU_PERIOD_RANGE, quota -1 or within VCPU_QUOTA_RANGE. */
export function checkCpuTune(settings: CpuTuneSettings, guest: string): void {
  const { quota, period } = settings;
  if (
    period !== undefined &&
    !(Number.isSafeInteger(period) && period >= VCPU_PERIOD_RANGE.min && period <= VCPU_PERIOD_RANGE.max)
  )
    throw new HypervisorError(
      'MOM_E_INVALID_ARGUMENT',
      `guest ${guest}: vCPU period ${period} µs is out of [${VCPU_PERIOD_RANGE.min}, ${VCPU_PERIOD_RANGE.max}]`,
    );
  if (
    quota !== undefined &&
    quota !== -1 &&
    !(Number.isSafeInteger(quota) && quota >= VCPU_QUOTA_RANGE.min && quota < VCPU_QUOTA_RANGE.max)
  )
    throw new HypervisorError(
      'MOM_E_INVALID_ARGUMENT',
      `guest ${guest}: vCPU quota ${quota} µs is neither -1 (no limit) nor within [${VCPU_QUOTA_RANGE.min}, ${VCPU_QUOTA_RANGE.max})`,
    );
}

/** A throttle every backend takes: six whole numbers >= 0. */
export function checkIoTune(limits: IoTuneValues, what: string): void {
  for (const k of IO_TUNE_KEYS) {
    const v = limits[k];
    if (!Number.isSafeInteger(v) || v < 0)
      throw new HypervisorError('MOM_E_INVALID_ARGUMENT', `${what}: ${k} ${v} is not a whole number >= 0`);
  }
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
  /**
   * With `cpu-tune` or `io-tune`: the tuning fields of the given guests (vcpu_* and io_tune, as
   * asked), one or a few calls per guest. A field the backend cannot read for a guest is null; a
   * guest that is gone maps to MOM_E_GUEST_GONE.
   */
  guestTuning?(
    ids: readonly string[],
    want: TuningRequest,
    signal?: AbortSignal,
  ): Promise<Map<string, GuestReading | HypervisorError>>;
  /**
   * With `cpu-tune`: sets the guest's vCPU quota and/or period (µs; quota -1 removes the limit).
   * Out of VCPU_*_RANGE is MOM_E_INVALID_ARGUMENT; a guest whose CPU limit this backend cannot
   * reach is MOM_E_UNSUPPORTED. Throws HypervisorError.
   */
  setCpuTune?(id: string, settings: CpuTuneSettings, signal?: AbortSignal): Promise<void>;
  /**
   * With `io-tune`: sets the throttle of the guest's disk `disk` (a name io_tune lists) to
   * `limits` (0: no limit). A disk the guest does not have is MOM_E_INVALID_ARGUMENT; a throttle the
   * hypervisor refuses (a total and a read or write limit at once) is MOM_E_INVALID_ARGUMENT.
   */
  setIoTune?(id: string, disk: string, limits: IoTuneValues, signal?: AbortSignal): Promise<void>;
  /**
   * With `guest-agent`: the GuestMemory fields of the given guests as their QEMU guest agents read
   * the guests' /proc/meminfo and /proc/vmstat (MOM's GuestQemuAgent), for guests whose balloon
   * driver gives none. A guest whose agent cannot be reached maps to a HypervisorError naming why;
   * a guest that is gone maps to MOM_E_GUEST_GONE.
   */
  guestAgentStats?(
    ids: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, GuestReading | HypervisorError>>;
  /** With `pause`: whether the guest runs now. A guest that is gone is MOM_E_GUEST_GONE. */
  runState?(id: string, signal?: AbortSignal): Promise<GuestRunState>;
  /**
   * With `pause`: stops the guest's vCPUs (QMP `stop`, `virsh suspend`). Its memory stays as it is
   * and it stays listed. Pausing a paused guest does nothing; a guest that is gone is
   * MOM_E_GUEST_GONE. Throws HypervisorError.
   */
  pause?(id: string, signal?: AbortSignal): Promise<void>;
  /**
   * With `pause`: lets a paused guest's vCPUs run again (QMP `cont`, `virsh resume`). Resuming a
   * running guest does nothing; a guest that is gone is MOM_E_GUEST_GONE. Throws HypervisorError.
   */
  resume?(id: string, signal?: AbortSignal): Promise<void>;
  /** Releases connections; every later call fails with MOM_E_CLOSED. */
  close(): Promise<void>;
}
