// A guest's memory statistics from its own /proc/meminfo and /proc/vmstat, as the QEMU guest agent
// reads them (MOM's GuestQemuAgent collector): the GuestMemory fields, with the meaning the
// virtio-balloon driver gives them, so that a policy cannot tell which of the two it reads.
// Fields: https://docs.kernel.org/filesystems/proc.html (meminfo, vmstat)
import type { GuestReading } from '../../fields/catalogue.js';
import { parseKeyValues, type KeyValues } from '../linux/read.js';

/** vmstat's allocation-stall counters, one per memory zone; the balloon driver reports their sum. */
const ALLOC_STALL = /^allocstall(_|$)/;

/**
 * The GuestMemory fields of a guest whose meminfo and vmstat texts are given. `label` names the
 * guest in errors (CollectionError, naming the file and line). A counter the guest's kernel does
 * not have is null, as it is when the balloon driver leaves it out.
 */
export function memoryFromProc(meminfo: string, vmstat: string, label: string): GuestReading {
  const m = parseKeyValues(meminfo, `${label}:/proc/meminfo`);
  const v = parseKeyValues(vmstat, `${label}:/proc/vmstat`);
  const swapTotal = m.optionalInt('SwapTotal', 'kB');
  const swapFree = m.optionalInt('SwapFree', 'kB');
  return {
    mem_available: m.int('MemTotal', 'kB'),
    mem_unused: m.int('MemFree', 'kB'),
    mem_usable: m.optionalInt('MemAvailable', 'kB'),
    // The balloon's "disk caches" are the kernel's file pages: Cached, SwapCached and Buffers.
    mem_cache:
      m.int('Cached', 'kB') +
      (m.optionalInt('SwapCached', 'kB') ?? 0) +
      (m.optionalInt('Buffers', 'kB') ?? 0),
    swap_total: swapTotal,
    swap_usage: swapTotal === null || swapFree === null ? null : swapTotal - swapFree,
    swap_in: v.optionalInt('pswpin'),
    swap_out: v.optionalInt('pswpout'),
    major_fault: v.optionalInt('pgmajfault'),
    // As the balloon driver counts it: every fault, the major ones included.
    minor_fault: v.optionalInt('pgfault'),
    oom_kills: v.optionalInt('oom_kill'),
    alloc_stalls: sumOf(v, ALLOC_STALL),
    direct_scans: v.optionalInt('pgscan_direct'),
    direct_reclaims: v.optionalInt('pgsteal_direct'),
    async_scans: v.optionalInt('pgscan_kswapd'),
    async_reclaims: v.optionalInt('pgsteal_kswapd'),
    // Read just now, not cached by a driver.
    stats_age_s: 0,
  };
}

function sumOf(kv: KeyValues, key: RegExp): number | null {
  let sum: number | null = null;
  for (const k of kv.keys()) if (key.test(k)) sum = (sum ?? 0) + kv.int(k);
  return sum;
}
