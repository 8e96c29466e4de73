// zswap, the compressed cache in front of swap: its knobs in <sysRoot>/module/zswap/parameters,
// read and written as files, and what its pool holds (meminfo's Zswap and Zswapped, or a v2
// cgroup's memory.stat zswap and zswapped), as HostMemory fields.
// Knobs and counters: https://docs.kernel.org/admin-guide/mm/zswap.html
import { join } from 'node:path';
import type { HostReading } from '../../fields/catalogue.js';
import type { ZswapSettings } from '../host.js';
import type { CgroupMemory } from './cgroup.js';
import type { Meminfo } from './meminfo.js';
import { CollectionError, readText, writeKernelValue, type ReadOptions } from './read.js';

export const ZSWAP_HINT = 'zswap not in this kernel (CONFIG_ZSWAP)';

/** The sysfs file of each writable knob. */
export const ZSWAP_KNOB_FILES: Readonly<Record<keyof ZswapSettings, string>> = {
  enabled: 'enabled',
  maxPoolPercent: 'max_pool_percent',
};

/** The knobs as the kernel shows them: enabled as 0 or 1, max_pool_percent in percent of RAM. */
export type ZswapParameters = ZswapSettings;

export function zswapDir(sysRoot: string): string {
  return join(sysRoot, 'module', 'zswap', 'parameters');
}

/** A boolean module parameter: the kernel shows Y or N (1 or 0 are accepted too). */
function parseBool(text: string, path: string): number {
  const t = text.trim();
  if (t === 'Y' || t === 'y' || t === '1') return 1;
  if (t === 'N' || t === 'n' || t === '0') return 0;
  throw new CollectionError(path, text, 'expected Y or N');
}

/** No zswap directory → NotAvailable(ZSWAP_HINT); a malformed value → CollectionError. */
export async function readZswapParameters(sysRoot: string, opts: ReadOptions = {}): Promise<ZswapParameters> {
  const dir = zswapDir(sysRoot);
  const read = (knob: keyof ZswapSettings): Promise<string> =>
    readText(join(dir, ZSWAP_KNOB_FILES[knob]), { hint: ZSWAP_HINT, ...opts });
  const [enabled, percent] = await Promise.all([read('enabled'), read('maxPoolPercent')]);
  const percentPath = join(dir, ZSWAP_KNOB_FILES.maxPoolPercent);
  if (!/^\d+$/.test(percent.trim())) throw new CollectionError(percentPath, percent, 'expected a percent');
  return {
    enabled: parseBool(enabled, join(dir, ZSWAP_KNOB_FILES.enabled)),
    maxPoolPercent: Number(percent),
  };
}

const LIMITS: Readonly<Record<keyof ZswapSettings, (n: number) => boolean>> = {
  enabled: (n) => n === 0 || n === 1,
  maxPoolPercent: (n) => n >= 0 && n <= 100,
};

/**
 * Writes only the given knobs. Turning zswap on comes after the pool's new size, turning it off
 * before it, so that zswap never runs with a pool size nobody asked for. An invalid value is
 * rejected before anything is written (RangeError); the kernel's refusal → KernelWriteError.
 */
export async function writeZswap(
  sysRoot: string,
  settings: Partial<ZswapSettings>,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  const order: Array<keyof ZswapSettings> =
    settings.enabled === 1 ? ['maxPoolPercent', 'enabled'] : ['enabled', 'maxPoolPercent'];
  const writes: Array<[keyof ZswapSettings, number]> = [];
  for (const key of order) {
    const v = settings[key];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || !LIMITS[key](v))
      throw new RangeError(`zswap ${ZSWAP_KNOB_FILES[key]}: invalid value ${v}`);
    writes.push([key, v]);
  }
  for (const [key, value] of writes) {
    await writeKernelValue(
      join(zswapDir(sysRoot), ZSWAP_KNOB_FILES[key]),
      key === 'enabled' ? (value === 1 ? 'Y' : 'N') : value,
      {
        ...(opts.signal ? { signal: opts.signal } : {}),
        hint: ZSWAP_HINT,
        explain: (code) => explainZswapWriteError(ZSWAP_KNOB_FILES[key], code),
      },
    );
  }
}

/** A clearer message for the refusals zswap is known for; undefined for the rest. */
export function explainZswapWriteError(file: string, code: string): string | undefined {
  if (file === 'enabled' && (code === 'ENODEV' || code === 'EINVAL'))
    return 'the kernel could not set up a zswap pool (its compressor or allocator is missing or failed)';
  return undefined;
}

/**
 * The zswap fields of a HostMemory reading. The knobs and the pool's fill are the machine's (the
 * pool is machine-wide, sized in percent of MemTotal); what zswap holds is the host cgroup's own
 * when a v2 cgroup stands for the host and reports it, else the machine's (v1 cgroups have no
 * such counter: the machine's stands in, as for swap traffic). Kernels before 5.19 have no
 * Zswap lines: those fields are nil.
 */
export function zswapReading(p: ZswapParameters, machine: Meminfo, cgroup?: CgroupMemory): HostReading {
  const limitKib = (machine.memTotal * p.maxPoolPercent) / 100;
  const fill =
    machine.zswap === null
      ? null
      : limitKib > 0
        ? Math.round((1000 * machine.zswap) / limitKib) / 10
        : // A pool allowed no memory at all is full: every page goes to the swap device.
          100;
  return {
    zswap_enabled: p.enabled,
    zswap_max_pool_percent: p.maxPoolPercent,
    zswap_pool_fill: fill,
    zswap_compressed: cgroup?.zswapKib ?? machine.zswap,
    zswap_stored: cgroup?.zswappedKib ?? machine.zswapped,
  };
}
