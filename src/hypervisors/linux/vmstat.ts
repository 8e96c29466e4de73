// /proc/vmstat's swap counters: pages swapped in and out, and stored in zswap, since boot (cumulative).
// Fields: https://docs.kernel.org/filesystems/proc.html (vmstat; the names are those of include/linux/vm_event_item.h)
import { join } from 'node:path';
import { readKeyValueFile, type ReadOptions } from './read.js';

export interface Vmstat {
  /** Pages swapped in / out since boot; null on a kernel without CONFIG_VM_EVENT_COUNTERS. */
  readonly pswpin: number | null;
  readonly pswpout: number | null;
  /** Major page faults since boot (pages read from disk, swap included); null when absent. */
  readonly pgmajfault: number | null;
  /** Pages zswap compressed into RAM instead of writing them to swap, and loaded back since boot
   * (they are not in pswpout/pswpin); null on a kernel without zswap. */
  readonly zswpin: number | null;
  readonly zswpout: number | null;
}

export async function readVmstat(procRoot: string, opts: ReadOptions = {}): Promise<Vmstat> {
  const kv = await readKeyValueFile(join(procRoot, 'vmstat'), {
    hint: 'is /proc mounted (or procRoot wrong)?',
    ...opts,
  });
  return {
    pswpin: kv.optionalInt('pswpin'),
    pswpout: kv.optionalInt('pswpout'),
    pgmajfault: kv.optionalInt('pgmajfault'),
    zswpin: kv.optionalInt('zswpin'),
    zswpout: kv.optionalInt('zswpout'),
  };
}
