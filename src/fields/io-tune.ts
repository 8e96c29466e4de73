// The shape of the io_tune statistic (GuestIoTune): per disk of a guest, the throttle in force
// ("current") and the bounds an administrator set for it ("guaranteed", "maximum"; oVirt keeps
// them in the domain's metadata). The only statistic that is not a number: backends report it as
// this plain data, the snapshot carries it as JSON, and src/entities/io-tune.ts shows it to
// policies as MOM's objects. Rates are bytes or operations per second; 0 means "no limit".
import { z } from 'zod';

/** The six throttle keys of MOM, libvirt (blkdeviotune) and QEMU (block_set_io_throttle), in order. */
export const IO_TUNE_KEYS = [
  'total_bytes_sec',
  'read_bytes_sec',
  'write_bytes_sec',
  'total_iops_sec',
  'read_iops_sec',
  'write_iops_sec',
] as const;
export type IoTuneKey = (typeof IO_TUNE_KEYS)[number];

/** A disk's throttle in force: every key, whole numbers >= 0 (0: no limit). */
export type IoTuneValues = { readonly [K in IoTuneKey]: number };
/** No throttle on any key: what a disk nobody limited reports. */
export const NO_IO_LIMITS: IoTuneValues = Object.freeze({
  total_bytes_sec: 0,
  read_bytes_sec: 0,
  write_bytes_sec: 0,
  total_iops_sec: 0,
  read_iops_sec: 0,
  write_iops_sec: 0,
});
/** Bounds from an administrator: a key left out is not bounded (a policy reads it as nil). */
export type IoTuneBounds = { readonly [K in IoTuneKey]?: number };

// A type, not an interface: a sample holds it as a plain JSON record.
export type IoTuneDisk = {
  /** The disk as the guest sees it (libvirt's target dev, e.g. vda; QEMU's drive or device id). */
  readonly name: string;
  /** Its source on the host (a file or device), or null when it has none. */
  readonly path: string | null;
  readonly guaranteed: IoTuneBounds;
  readonly maximum: IoTuneBounds;
  readonly current: IoTuneValues;
};

const rate = z.number().int().nonnegative();
const boundsSchema = z.partialRecord(z.enum(IO_TUNE_KEYS), rate);

/** One disk as a snapshot or a reading holds it; `current` must be complete. */
export const ioTuneDiskSchema = z.object({
  name: z.string(),
  path: z.string().nullable().default(null),
  guaranteed: boundsSchema.default({}),
  maximum: boundsSchema.default({}),
  current: z.object(Object.fromEntries(IO_TUNE_KEYS.map((k) => [k, rate])) as Record<IoTuneKey, typeof rate>),
});

/**
 * io_tune as a snapshot file holds it: a list. A malformed one reads as nil rather than half a list,
 * or than failing the whole snapshot: a policy guards io_tune with (valid ...), as MOM's do.
 */
const disksSchema = z.array(ioTuneDiskSchema);
export const ioTuneListSchema = z.array(z.unknown()).transform((list): IoTuneDisk[] | null => {
  const r = disksSchema.safeParse(list);
  return r.success ? r.data : null;
});

/** Whether two throttles are the same on every key. */
export function sameIoTune(a: IoTuneValues, b: IoTuneValues): boolean {
  return IO_TUNE_KEYS.every((k) => a[k] === b[k]);
}

/** "total_bytes_sec 0 → 1048576, read_iops_sec 100 → 0": the keys that differ. */
export function describeIoTuneChange(from: IoTuneValues, to: IoTuneValues): string {
  return IO_TUNE_KEYS.filter((k) => from[k] !== to[k])
    .map((k) => `${k} ${from[k]} → ${to[k]}`)
    .join(', ');
}

/**
 * Which disk of `disks` an entry names, by MOM's rule: the same path, or, when either has no path,
 * the same name.
 */
export function findDisk<T extends { readonly name: string | null; readonly path: string | null }>(
  disks: readonly T[],
  name: string | null,
  path: string | null,
): T | undefined {
  return disks.find(
    (d) => (path !== null && d.path === path) || ((path === null || d.path === null) && d.name === name),
  );
}
