// /proc/meminfo, the machine's memory as the kernel counts it, in KiB (the file's 'kB' is KiB).
// Fields: https://docs.kernel.org/filesystems/proc.html#meminfo
import { join } from 'node:path';
import { readKeyValueFile, type ReadOptions } from './read.js';

export interface Meminfo {
  readonly memTotal: number;
  readonly memFree: number;
  /** null on kernels before 3.14, which do not estimate it. */
  readonly memAvailable: number | null;
  readonly buffers: number;
  /** Page cache, excluding SwapCached and Buffers. */
  readonly cached: number;
  readonly swapCached: number;
  readonly anonPages: number;
  readonly shmem: number;
  readonly swapTotal: number;
  readonly swapFree: number;
  /** zswap's compressed pool and what it holds before compression; null without zswap or before 5.19. */
  readonly zswap: number | null;
  readonly zswapped: number | null;
}

/** Throws NotAvailable when the file is missing (no /proc mounted), CollectionError on bad text. */
export async function readMeminfo(procRoot: string, opts: ReadOptions = {}): Promise<Meminfo> {
  const kv = await readKeyValueFile(join(procRoot, 'meminfo'), {
    hint: 'is /proc mounted (or procRoot wrong)?',
    ...opts,
  });
  return {
    memTotal: kv.int('MemTotal', 'kB'),
    memFree: kv.int('MemFree', 'kB'),
    memAvailable: kv.optionalInt('MemAvailable', 'kB'),
    buffers: kv.int('Buffers', 'kB'),
    cached: kv.int('Cached', 'kB'),
    swapCached: kv.optionalInt('SwapCached', 'kB') ?? 0,
    anonPages: kv.int('AnonPages', 'kB'),
    shmem: kv.optionalInt('Shmem', 'kB') ?? 0,
    swapTotal: kv.optionalInt('SwapTotal', 'kB') ?? 0,
    swapFree: kv.optionalInt('SwapFree', 'kB') ?? 0,
    zswap: kv.optionalInt('Zswap', 'kB'),
    zswapped: kv.optionalInt('Zswapped', 'kB'),
  };
}
