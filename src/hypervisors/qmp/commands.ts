// The QMP commands the backend uses, with the shapes of their replies and their conversion to
// momd's units. QEMU speaks bytes; momd speaks KiB: the conversion happens here and nowhere else.
// Reference: QEMU's QMP reference (qapi/*.json) and docs/interop/virtio-balloon-stats.rst.
import { z } from 'zod';
import { IO_TUNE_KEYS, type IoTuneKey, type IoTuneValues } from '../../fields/io-tune.js';
import { HypervisorError } from '../hypervisor.js';
import type { Json, JsonObject, QmpRequestOptions } from './client.js';

/** What the commands need from a connection (QmpClient, or a stand-in in tests). */
export interface QmpExecutor {
  readonly path: string;
  execute(command: string, args?: JsonObject, options?: QmpRequestOptions): Promise<Json>;
}

const KIB = 1024;
/**
 * The Linux balloon driver reports swap-in/out as bytes (pages_to_bytes(PSWPIN)); momd counts
 * pages, as /proc/vmstat does. Guests are assumed to use 4 KiB pages (x86; a 64 KiB-page guest
 * would be counted in 4 KiB units, still consistent across cycles).
 */
const GUEST_PAGE_BYTES = 4096;

/**
 * QEMU reports a statistic the guest did not provide as 2^64-1 (the docs say "-1"). JSON.parse
 * rounds 18446744073709551615 to 2^64, so anything at or above 2^64-1 as a double, or negative,
 * means "not reported".
 */
export function reported(value: number | undefined): number | null {
  if (value === undefined || !Number.isFinite(value) || value < 0 || value >= 2 ** 64 - 1) return null;
  return value;
}

export function bytesToKiB(bytes: number): number {
  return Math.floor(bytes / KIB);
}

function kibOrNull(bytes: number | undefined): number | null {
  const b = reported(bytes);
  return b === null ? null : bytesToKiB(b);
}

function pagesOrNull(bytes: number | undefined): number | null {
  const b = reported(bytes);
  return b === null ? null : Math.floor(b / GUEST_PAGE_BYTES);
}

function parse<T>(schema: z.ZodType<T>, value: Json, qmp: QmpExecutor, command: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  throw new HypervisorError(
    'MOM_E_TRANSPORT',
    `${qmp.path}: ${command}: unexpected reply${where}: ${issue?.message ?? 'invalid'}`,
  );
}

// ---- reply shapes ----------------------------------------------------------------------------

/** query-name: `{"name": "vm1"}`, or `{}` when QEMU was started without -name. */
export const NameInfo = z.object({ name: z.string().optional() });
/** query-status: `{"status": "running", "running": true, ...}`. */
export const StatusInfo = z.object({ status: z.string(), running: z.boolean() });
/** query-uuid: `{"UUID": "..."}`, all zeros when QEMU was started without -uuid. */
export const UuidInfo = z.object({ UUID: z.string() });
/** query-balloon: `{"actual": <bytes>}`: the memory the guest has now. */
export const BalloonInfo = z.object({ actual: z.number() });
/** query-memory-size-summary: `{"base-memory": <bytes>, "plugged-memory": <bytes>}` (QEMU >= 2.11). */
export const MemorySizeSummary = z.object({
  'base-memory': z.number(),
  'plugged-memory': z.number().optional(),
});
/** qom-list: the properties of a QOM object; a child device has type `child<TYPE>`. */
export const ObjectPropertyInfoList = z.array(z.object({ name: z.string(), type: z.string() }));
/** qom-get of `guest-stats` on a virtio-balloon device. */
export const GuestStatsReply = z.object({
  stats: z.record(z.string(), z.number()),
  'last-update': z.number(),
});
/** The data of a BALLOON_CHANGE event. */
export const BalloonChangeData = z.object({ actual: z.number() });
/** query-cpus-fast: one entry per vCPU. */
export const CpuInfoFastList = z.array(z.object({ 'cpu-index': z.number() }));
/**
 * query-block: each drive; `inserted` (its medium, with the throttle in force) only when it has
 * one. `device` is the drive's name ('' for a -blockdev), `qdev` the guest device's id or QOM path.
 */
export const BlockInfoList = z.array(
  z.object({
    device: z.string(),
    qdev: z.string().optional(),
    inserted: z
      .object({
        file: z.string(),
        bps: z.number(),
        bps_rd: z.number(),
        bps_wr: z.number(),
        iops: z.number(),
        iops_rd: z.number(),
        iops_wr: z.number(),
      })
      .optional(),
  }),
);

// ---- converted results -----------------------------------------------------------------------

/** The guest's own view of its memory, from `guest-stats` (KiB and pages). */
export interface GuestStatsKiB {
  mem_available: number | null;
  mem_unused: number | null;
  mem_usable: number | null;
  mem_cache: number | null;
  swap_in: number | null;
  swap_out: number | null;
  major_fault: number | null;
  minor_fault: number | null;
  stats_age_s: number | null;
  oom_kills: number | null;
  alloc_stalls: number | null;
  direct_scans: number | null;
  direct_reclaims: number | null;
  async_scans: number | null;
  async_reclaims: number | null;
}

/**
 * Converts a `guest-stats` reply. `nowS` is the host's wall clock (Unix seconds), the same clock
 * QEMU stamps `last-update` with; `last-update: 0` means the guest never reported.
 */
export function convertGuestStats(reply: z.infer<typeof GuestStatsReply>, nowS: number): GuestStatsKiB {
  const s = reply.stats;
  const last = reply['last-update'];
  return {
    mem_available: kibOrNull(s['stat-total-memory']),
    mem_unused: kibOrNull(s['stat-free-memory']),
    mem_usable: kibOrNull(s['stat-available-memory']),
    mem_cache: kibOrNull(s['stat-disk-caches']),
    swap_in: pagesOrNull(s['stat-swap-in']),
    swap_out: pagesOrNull(s['stat-swap-out']),
    major_fault: reported(s['stat-major-faults']),
    minor_fault: reported(s['stat-minor-faults']),
    // Linux 6.12+ guests and QEMU 9.2+; an older guest or QEMU leaves them out (null).
    oom_kills: reported(s['stat-oom-kills']),
    alloc_stalls: reported(s['stat-alloc-stalls']),
    direct_scans: reported(s['stat-direct-scans']),
    direct_reclaims: reported(s['stat-direct-reclaims']),
    async_scans: reported(s['stat-async-scans']),
    async_reclaims: reported(s['stat-async-reclaims']),
    // To the millisecond: Unix seconds as doubles leave noise like 0.937000036 in the difference.
    stats_age_s: last > 0 ? Math.max(0, Math.round((nowS - last) * 1000) / 1000) : null,
  };
}

/** balloon_max: the guest's boot memory plus hot-plugged DIMMs, as query-balloon counts them. */
export function maxKiBOf(summary: z.infer<typeof MemorySizeSummary>): number {
  return bytesToKiB(summary['base-memory'] + (summary['plugged-memory'] ?? 0));
}

/**
 * The size of QEMU's `-m` option in KiB, from the process's arguments, for a QEMU too old for
 * query-memory-size-summary. Accepts `-m 512`, `-m 2G`, `-m size=2G,slots=4,maxmem=8G`; a
 * number without a suffix means MiB, as in QEMU. Null when absent or unreadable.
 */
export function memoryOptionKiB(args: readonly string[]): number | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    let value: string | undefined;
    if (a === '-m' || a === '--m') value = args[i + 1];
    else if (a?.startsWith('-m=')) value = a.slice(3);
    if (value === undefined) continue;
    const size = value.split(',').find((part) => !part.includes('=') || part.startsWith('size='));
    const m = /^(?:size=)?(\d+(?:\.\d+)?)([bkmgt]?)b?$/i.exec(size ?? '');
    if (!m || m[1] === undefined) return null;
    const unit = (m[2] ?? '').toLowerCase();
    const kibPer: Record<string, number> = {
      '': 1024,
      b: 1 / 1024,
      k: 1,
      m: 1024,
      g: 1024 ** 2,
      t: 1024 ** 3,
    };
    const per = kibPer[unit];
    return per === undefined ? null : Math.floor(Number(m[1]) * per);
  }
  return null;
}

// ---- the commands ----------------------------------------------------------------------------

export async function queryName(qmp: QmpExecutor, opts?: QmpRequestOptions): Promise<string | null> {
  const r = parse(NameInfo, await qmp.execute('query-name', undefined, opts), qmp, 'query-name');
  return r.name !== undefined && r.name !== '' ? r.name : null;
}

export async function queryStatus(qmp: QmpExecutor, opts?: QmpRequestOptions): Promise<string> {
  return parse(StatusInfo, await qmp.execute('query-status', undefined, opts), qmp, 'query-status').status;
}

/** Stops the guest's vCPUs (QMP `stop`); a guest already stopped stays so. */
export async function stopGuest(qmp: QmpExecutor, opts?: QmpRequestOptions): Promise<void> {
  await qmp.execute('stop', undefined, opts);
}

/** Lets a stopped guest's vCPUs run again (QMP `cont`); a running guest is left as it is. */
export async function contGuest(qmp: QmpExecutor, opts?: QmpRequestOptions): Promise<void> {
  await qmp.execute('cont', undefined, opts);
}

export async function queryUuid(qmp: QmpExecutor, opts?: QmpRequestOptions): Promise<string> {
  return parse(UuidInfo, await qmp.execute('query-uuid', undefined, opts), qmp, 'query-uuid').UUID;
}

/** The balloon's current size (KiB). Throws 'MOM_E_UNSUPPORTED' (DeviceNotActive) without a balloon device. */
export async function queryBalloonKiB(qmp: QmpExecutor, opts?: QmpRequestOptions): Promise<number> {
  const r = parse(BalloonInfo, await qmp.execute('query-balloon', undefined, opts), qmp, 'query-balloon');
  return bytesToKiB(r.actual);
}

export async function queryMaxKiB(qmp: QmpExecutor, opts?: QmpRequestOptions): Promise<number> {
  const cmd = 'query-memory-size-summary';
  return maxKiBOf(parse(MemorySizeSummary, await qmp.execute(cmd, undefined, opts), qmp, cmd));
}

/** Asks the balloon to give the guest `kib` KiB. QEMU takes bytes and clamps to the guest's maximum. */
export async function setBalloon(qmp: QmpExecutor, kib: number, opts?: QmpRequestOptions): Promise<void> {
  if (!Number.isFinite(kib) || kib < 1) {
    throw new HypervisorError('MOM_E_UNSUPPORTED', `${qmp.path}: bad balloon target ${kib} KiB`);
  }
  await qmp.execute('balloon', { value: Math.round(kib) * KIB }, opts);
}

export async function qomList(
  qmp: QmpExecutor,
  path: string,
  opts?: QmpRequestOptions,
): Promise<z.infer<typeof ObjectPropertyInfoList>> {
  return parse(ObjectPropertyInfoList, await qmp.execute('qom-list', { path }, opts), qmp, 'qom-list');
}

export async function qomSet(
  qmp: QmpExecutor,
  path: string,
  property: string,
  value: Json,
  opts?: QmpRequestOptions,
): Promise<void> {
  await qmp.execute('qom-set', { path, property, value }, opts);
}

export async function qomGetGuestStats(
  qmp: QmpExecutor,
  path: string,
  nowS: number,
  opts?: QmpRequestOptions,
): Promise<GuestStatsKiB> {
  const r = await qmp.execute('qom-get', { path, property: 'guest-stats' }, opts);
  return convertGuestStats(parse(GuestStatsReply, r, qmp, 'qom-get guest-stats'), nowS);
}

/** The new balloon size (KiB) a BALLOON_CHANGE event announces, or null for a malformed event. */
export function balloonChangeKiB(data: JsonObject): number | null {
  const r = BalloonChangeData.safeParse(data);
  return r.success ? bytesToKiB(r.data.actual) : null;
}

/** A QOM child property type naming a virtio-balloon device (pci, ccw, mmio "device" variants). */
export function isBalloonChild(type: string): boolean {
  return /^child<virtio-balloon(-[a-z-]+)?>$/.test(type);
}

/** QEMU's name of each throttle key (query-block's `inserted`, block_set_io_throttle's arguments). */
const QEMU_THROTTLE: Readonly<
  Record<IoTuneKey, 'bps' | 'bps_rd' | 'bps_wr' | 'iops' | 'iops_rd' | 'iops_wr'>
> = {
  total_bytes_sec: 'bps',
  read_bytes_sec: 'bps_rd',
  write_bytes_sec: 'bps_wr',
  total_iops_sec: 'iops',
  read_iops_sec: 'iops_rd',
  write_iops_sec: 'iops_wr',
};

/** The number of vCPUs the guest runs (query-cpus-fast). */
export async function queryVcpuCount(qmp: QmpExecutor, opts?: QmpRequestOptions): Promise<number> {
  const cmd = 'query-cpus-fast';
  return parse(CpuInfoFastList, await qmp.execute(cmd, undefined, opts), qmp, cmd).length;
}

/** A drive that can be throttled: one with a medium. */
export interface BlockThrottle {
  /** What policies call it: the drive's name, or its guest device when the drive has none. */
  readonly name: string;
  /** How block_set_io_throttle addresses it: the guest device (id) when known, else the drive. */
  readonly target: { readonly id: string } | { readonly device: string };
  /** The image or device behind it. */
  readonly path: string;
  readonly current: IoTuneValues;
}

/** The drives with a medium and their throttles in force (query-block). */
export async function queryBlockThrottles(
  qmp: QmpExecutor,
  opts?: QmpRequestOptions,
): Promise<BlockThrottle[]> {
  const blocks = parse(BlockInfoList, await qmp.execute('query-block', undefined, opts), qmp, 'query-block');
  const out: BlockThrottle[] = [];
  for (const b of blocks) {
    const ins = b.inserted;
    const name = b.device !== '' ? b.device : (b.qdev ?? '');
    if (ins === undefined || name === '') continue;
    const current = Object.fromEntries(
      IO_TUNE_KEYS.map((k) => [k, Math.max(0, Math.floor(ins[QEMU_THROTTLE[k]]))]),
    ) as IoTuneValues;
    out.push({
      name,
      target: b.qdev !== undefined && b.qdev !== '' ? { id: b.qdev } : { device: b.device },
      path: ins.file,
      current,
    });
  }
  return out;
}

/** Sets a drive's throttle; QEMU takes all six values at once (0: no limit). */
export async function setBlockThrottle(
  qmp: QmpExecutor,
  target: BlockThrottle['target'],
  limits: IoTuneValues,
  opts?: QmpRequestOptions,
): Promise<void> {
  const args: JsonObject = { ...target };
  for (const k of IO_TUNE_KEYS) args[QEMU_THROTTLE[k]] = limits[k];
  await qmp.execute('block_set_io_throttle', args, opts);
}
