// Memory cgroups, v1 and v2: which cgroup a process is in, what the cgroup holds and may hold,
// and its limit. Used for the "host as a memory cgroup" mode (a cgroup's limit stands in for the
// machine's RAM) and by the CgroupLimit controller. Files only; bytes become KiB here.
// v1: https://docs.kernel.org/admin-guide/cgroup-v1/memory.html
// v2: https://docs.kernel.org/admin-guide/cgroup-v2.html#memory-interface-files
import { dirname, join, relative, sep } from 'node:path';
import { readProcessFile } from './process.js';
import {
  CollectionError,
  NotAvailable,
  readKernelBytes,
  readKeyValueFile,
  readText,
  writeKernelValue,
  type KeyValues,
  type ReadOptions,
} from './read.js';
import type { Meminfo } from './meminfo.js';

export type CgroupVersion = 1 | 2;

/** v1 reports "no limit" as 2^63 rounded down to a page; anything from 2^60 bytes (1 EiB) is no limit. */
const V1_UNLIMITED = 1n << 60n;

/** A cgroup's memory in KiB. Limits are null when there is none. */
export interface CgroupMemory {
  readonly version: CgroupVersion;
  readonly dir: string;
  /** This cgroup's own hard limit (v1 memory.limit_in_bytes, v2 memory.max). */
  readonly limitKib: number | null;
  /** v2 memory.high (the throttling limit); null when 'max' and on v1. */
  readonly highKib: number | null;
  /** The tightest limit in force, ancestors included (v1 hierarchical_memory_limit; v2 walks up). */
  readonly effectiveLimitKib: number | null;
  /** Memory charged to the cgroup, page cache included (v1 usage_in_bytes, v2 memory.current). */
  readonly usageKib: number;
  /** Page cache, shmem included (v1 total_cache, v2 file). */
  readonly cacheKib: number;
  /** Anonymous memory (v1 total_rss, v2 anon). */
  readonly anonKib: number;
  /** Page cache not recently used, the first to be reclaimed (inactive_file). */
  readonly inactiveFileKib: number;
  /** Swap used by the cgroup; null when the kernel does not account it (v1 without swapaccount=1). */
  readonly swapUsageKib: number | null;
  /** Swap the cgroup may use; null when unlimited or unknown. */
  readonly swapLimitKib: number | null;
  /** Pages swapped in / out by the cgroup (v2 memory.stat pswpin/pswpout, kernel 6.x); else null. */
  readonly swapInPages: number | null;
  readonly swapOutPages: number | null;
  /** What zswap holds for the cgroup, compressed and before compression (v2 memory.stat zswap and
   * zswapped, kernel 5.19+); null on v1 and on kernels without them. */
  readonly zswapKib: number | null;
  readonly zswappedKib: number | null;
}

const NO_MEMCG =
  'not a memory cgroup (no memory.limit_in_bytes or memory.max): is the memory controller enabled?';

/** v1 when memory.limit_in_bytes exists, v2 when memory.max does; else NotAvailable. */
export async function detectCgroupVersion(dir: string, opts: ReadOptions = {}): Promise<CgroupVersion> {
  for (const [file, version] of [
    ['memory.limit_in_bytes', 1],
    ['memory.max', 2],
  ] as const) {
    try {
      await readText(join(dir, file), opts);
      return version;
    } catch (err) {
      if (!(err instanceof NotAvailable)) throw err;
    }
  }
  throw new NotAvailable(dir, NO_MEMCG);
}

/** Resolves a cgroup given as a path under cgroupRoot ('/memory/momtest') or as a full path. */
export function resolveCgroupDir(cgroupRoot: string, cgroup: string): string {
  const root = cgroupRoot.endsWith(sep) ? cgroupRoot.slice(0, -1) : cgroupRoot;
  if (cgroup === root || cgroup.startsWith(root + sep)) return cgroup;
  return join(root, cgroup);
}

function toKib(bytes: bigint | null, path: string): number | null {
  if (bytes === null) return null;
  if (bytes < 0n) throw new CollectionError(path, String(bytes), 'expected a byte count >= 0');
  return Number(bytes / 1024n);
}

function statKib(kv: KeyValues, key: string): number {
  const v = kv.int(key);
  return Math.floor(v / 1024);
}

function statKibOrNull(kv: KeyValues, key: string): number | null {
  return kv.has(key) ? statKib(kv, key) : null;
}

function minLimit(...limits: Array<number | null>): number | null {
  let out: number | null = null;
  for (const l of limits) if (l !== null && (out === null || l < out)) out = l;
  return out;
}

async function optional<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof NotAvailable) return undefined;
    throw err;
  }
}

/**
 * Reads a memory cgroup. `cgroupRoot` bounds the walk over v2 ancestors (the root cgroup has no
 * limit files). No such cgroup → NotAvailable; malformed files → CollectionError.
 */
export async function readCgroupMemory(
  dir: string,
  opts: ReadOptions & { cgroupRoot?: string } = {},
): Promise<CgroupMemory> {
  const version = await detectCgroupVersion(dir, opts);
  return version === 1 ? readV1(dir, opts) : readV2(dir, opts);
}

async function readV1(dir: string, opts: ReadOptions): Promise<CgroupMemory> {
  const f = (name: string): string => join(dir, name);
  const [limitBytes, usageBytes, stat, memswLimit, memswUsage] = await Promise.all([
    readKernelBytes(f('memory.limit_in_bytes'), opts),
    readKernelBytes(f('memory.usage_in_bytes'), opts),
    readKeyValueFile(f('memory.stat'), opts),
    // Present only with swap accounting (CONFIG_MEMCG_SWAP and swapaccount=1).
    optional(readKernelBytes(f('memory.memsw.limit_in_bytes'), opts)),
    optional(readKernelBytes(f('memory.memsw.usage_in_bytes'), opts)),
  ]);
  const limit = v1Limit(limitBytes, f('memory.limit_in_bytes'));
  const hier = stat.has('hierarchical_memory_limit')
    ? v1Limit(BigInt(stat.int('hierarchical_memory_limit')), stat.path)
    : null;
  const usage = toKib(usageBytes, f('memory.usage_in_bytes')) ?? 0;
  const memswL = memswLimit === undefined ? null : v1Limit(memswLimit, f('memory.memsw.limit_in_bytes'));
  const memswU = memswUsage === undefined ? null : toKib(memswUsage, f('memory.memsw.usage_in_bytes'));
  const swapUsage = memswU !== null ? Math.max(0, memswU - usage) : statKibOrNull(stat, 'total_swap');
  return {
    version: 1,
    dir,
    limitKib: limit,
    highKib: null,
    effectiveLimitKib: minLimit(limit, hier),
    usageKib: usage,
    cacheKib: statKib(stat, 'total_cache'),
    anonKib: statKib(stat, 'total_rss'),
    inactiveFileKib: statKib(stat, 'total_inactive_file'),
    swapUsageKib: swapUsage,
    swapLimitKib: memswL !== null && limit !== null ? Math.max(0, memswL - limit) : null,
    swapInPages: null,
    swapOutPages: null,
    zswapKib: null,
    zswappedKib: null,
  };
}

function v1Limit(bytes: bigint | null, path: string): number | null {
  // The kernel shows "none" as a huge value; -1 is how it is written (and what a fixture copy keeps).
  if (bytes === null || bytes >= V1_UNLIMITED || bytes === -1n) return null;
  return toKib(bytes, path);
}

async function readV2(dir: string, opts: ReadOptions & { cgroupRoot?: string }): Promise<CgroupMemory> {
  const f = (name: string): string => join(dir, name);
  const [maxBytes, highBytes, currentBytes, stat, swapCurrent, swapMax] = await Promise.all([
    readKernelBytes(f('memory.max'), opts),
    optional(readKernelBytes(f('memory.high'), opts)),
    readKernelBytes(f('memory.current'), opts),
    readKeyValueFile(f('memory.stat'), opts),
    // Present only with swap accounting (CONFIG_MEMCG_SWAP).
    optional(readKernelBytes(f('memory.swap.current'), opts)),
    optional(readKernelBytes(f('memory.swap.max'), opts)),
  ]);
  const limit = toKib(maxBytes, f('memory.max'));
  const high = highBytes === undefined ? null : toKib(highBytes, f('memory.high'));
  let effective = minLimit(limit, high);
  // Ancestors' limits bind too. The walk stops at cgroupRoot (or at the first directory that is not
  // a memory cgroup: the root cgroup has no memory.max).
  const stop = opts.cgroupRoot;
  let d = dir;
  while (dirname(d) !== d && (stop === undefined || isBelow(dirname(d), stop))) {
    d = dirname(d);
    const m = await optional(readKernelBytes(join(d, 'memory.max'), opts));
    if (m === undefined) break;
    const h = await optional(readKernelBytes(join(d, 'memory.high'), opts));
    effective = minLimit(
      effective,
      toKib(m, join(d, 'memory.max')),
      h === undefined ? null : toKib(h, join(d, 'memory.high')),
    );
  }
  return {
    version: 2,
    dir,
    limitKib: limit,
    highKib: high,
    effectiveLimitKib: effective,
    usageKib: toKib(currentBytes, f('memory.current')) ?? 0,
    cacheKib: statKib(stat, 'file'),
    anonKib: statKib(stat, 'anon'),
    inactiveFileKib: statKib(stat, 'inactive_file'),
    swapUsageKib: swapCurrent === undefined ? null : toKib(swapCurrent, f('memory.swap.current')),
    swapLimitKib: swapMax === undefined ? null : toKib(swapMax, f('memory.swap.max')),
    swapInPages: stat.optionalInt('pswpin'),
    swapOutPages: stat.optionalInt('pswpout'),
    zswapKib: statKibOrNull(stat, 'zswap'),
    zswappedKib: statKibOrNull(stat, 'zswapped'),
  };
}

function isBelow(dir: string, root: string): boolean {
  const rel = relative(root, dir);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep);
}

/** What HostMemory needs, in KiB, for a host that is a memory cgroup. */
export interface CgroupHostMemory {
  /** The effective limit, or MemTotal when there is none (or the limit exceeds the RAM). */
  readonly total: number;
  /** total - usage, at least 0. */
  readonly free: number;
  readonly cached: number;
  /** free + inactive page cache (at most total), as kubelet computes memory.available. */
  readonly available: number;
  readonly anon: number;
  readonly swapTotal: number;
  readonly swapFree: number;
}

/** Combines a cgroup's reading with the machine's meminfo (for what the cgroup does not bound). */
export function cgroupHostMemory(cg: CgroupMemory, machine: Meminfo): CgroupHostMemory {
  const total = Math.min(cg.effectiveLimitKib ?? machine.memTotal, machine.memTotal);
  const free = Math.max(0, total - cg.usageKib);
  const swapTotal = Math.min(cg.swapLimitKib ?? machine.swapTotal, machine.swapTotal);
  const swapFree =
    cg.swapUsageKib === null
      ? Math.min(machine.swapFree, swapTotal)
      : Math.max(0, Math.min(swapTotal - cg.swapUsageKib, machine.swapFree));
  return {
    total,
    free,
    cached: cg.cacheKib,
    available: Math.min(total, free + cg.inactiveFileKib),
    anon: cg.anonKib,
    swapTotal,
    swapFree,
  };
}

/** A cgroup's own limit as the CgroupLimit controller compares it (KiB; null = none). */
export interface MemoryLimit {
  readonly version: CgroupVersion;
  readonly limitKib: number | null;
  /** v2 only: memory.high, which setMemoryLimit keeps equal to memory.max. */
  readonly highKib?: number | null;
}

export async function readMemoryLimit(dir: string, opts: ReadOptions = {}): Promise<MemoryLimit> {
  const version = await detectCgroupVersion(dir, opts);
  if (version === 1) {
    const path = join(dir, 'memory.limit_in_bytes');
    return { version, limitKib: v1Limit(await readKernelBytes(path, opts), path) };
  }
  const [max, high] = await Promise.all([
    readKernelBytes(join(dir, 'memory.max'), opts),
    readKernelBytes(join(dir, 'memory.high'), opts),
  ]);
  return {
    version,
    limitKib: toKib(max, join(dir, 'memory.max')),
    highKib: toKib(high, join(dir, 'memory.high')),
  };
}

/**
 * Sets (kib) or removes (null) a cgroup's memory limit: v1 memory.limit_in_bytes (-1 for none);
 * v2 memory.high then memory.max ('max' for none). The kernel rounds down to a whole page.
 * Lowering below the usage makes the kernel reclaim: v1 answers EBUSY when it cannot (the limit
 * stays as it was); v2 accepts and, if reclaim fails, OOM-kills in the cgroup.
 * Throws RangeError for a bad kib, NotAvailable for no such cgroup, KernelWriteError on refusal.
 */
export async function setMemoryLimit(
  dir: string,
  kib: number | null,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  if (kib !== null && (!Number.isSafeInteger(kib) || kib <= 0)) {
    throw new RangeError(`memory limit must be a whole number of KiB > 0, got ${kib}`);
  }
  const version = await detectCgroupVersion(dir, opts);
  const bytes = kib === null ? null : (BigInt(kib) * 1024n).toString();
  if (version === 1) {
    await writeKernelValue(join(dir, 'memory.limit_in_bytes'), bytes ?? '-1', {
      signal: opts.signal,
      explain: explainV1LimitError,
    });
    return;
  }
  const value = bytes ?? 'max';
  // Lowering: memory.high first, so reclaim starts by throttling before the hard limit bites.
  for (const file of ['memory.high', 'memory.max']) {
    await writeKernelValue(join(dir, file), value, { signal: opts.signal });
  }
}

/** A clearer message for the v1 limit's documented refusals; undefined for the rest. */
export function explainV1LimitError(code: string): string | undefined {
  if (code === 'EBUSY') {
    return 'the kernel could not reclaim the cgroup below the new limit, so the limit is unchanged';
  }
  if (code === 'EINVAL') {
    return 'rejected: memory.limit_in_bytes may not exceed memory.memsw.limit_in_bytes (raise that first)';
  }
  return undefined;
}

/** Where a process sits in the memory controller's hierarchy. */
export interface CgroupMembership {
  readonly version: CgroupVersion;
  /** The path inside the hierarchy, e.g. '/machine.slice/machine-qemu\x2d1\x2dvm01.scope'. */
  readonly path: string;
}

/** Where a process sits in one controller's hierarchy, with that hierarchy's controller list. */
export interface ControllerMembership extends CgroupMembership {
  /** v1: the hierarchy's controllers as mounted ('memory', 'cpu,cpuacct'); v2: ''. */
  readonly controllers: string;
}

/**
 * Parses /proc/<pid>/cgroup for one controller: the v1 line whose controllers include it, else
 * the v2 '0::' line (on a hybrid host a controller on v1 wins over the '0::' line). null when
 * neither exists. Lines are "hierarchy-ID:controller-list:cgroup-path"
 * (https://docs.kernel.org/admin-guide/cgroup-v2.html#processes, proc(5)).
 */
export function parseControllerCgroup(
  text: string,
  path: string,
  controller: string,
): ControllerMembership | null {
  let v2: string | null = null;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (m === null) throw new CollectionError(path, line, 'expected "hierarchy-ID:controllers:path"');
    const [, id, controllers = '', cgPath = ''] = m;
    const clean = cgPath.replace(/ \(deleted\)$/, '');
    if (controllers.split(',').includes(controller)) return { version: 1, controllers, path: clean };
    if (id === '0' && controllers === '') v2 = clean;
  }
  return v2 === null ? null : { version: 2, controllers: '', path: v2 };
}

/** The memory controller's line of /proc/<pid>/cgroup (parseControllerCgroup), or null. */
export function parseProcCgroup(text: string, path: string): CgroupMembership | null {
  const m = parseControllerCgroup(text, path, 'memory');
  return m === null ? null : { version: m.version, path: m.path };
}

/** The memory cgroup of a process. ProcessGone when it exited. */
export async function cgroupOfPid(
  procRoot: string,
  pid: number | 'self',
  opts: ReadOptions = {},
): Promise<CgroupMembership | null> {
  const text = await readProcessFile(procRoot, pid, 'cgroup', opts);
  return parseProcCgroup(text, join(procRoot, String(pid), 'cgroup'));
}

/**
 * The directory of a membership: v1 under <cgroupRoot>/memory, v2 under <cgroupRoot> (a host
 * whose memory controller is on the v2 hierarchy mounts it there).
 */
export function memoryCgroupDir(cgroupRoot: string, m: CgroupMembership): string {
  return m.version === 1 ? join(cgroupRoot, 'memory', m.path) : join(cgroupRoot, m.path);
}
