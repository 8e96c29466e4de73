// The real host as a HostSource: /proc and sysfs files read (and KSM knobs written) through the
// modules beside this one, every path under an injected procRoot, sysRoot or cgroupRoot. With
// `memorySource`, a memory cgroup stands in for the machine's RAM (host-memory-source).
import type {
  HostMemory,
  HostSource,
  KsmSettings,
  KsmState,
  MemoryPressure,
} from '../../hypervisors/host.js';
import { cgroupHostMemory, readCgroupMemory, resolveCgroupDir } from './cgroup.js';
import { readCpuCount } from './cpu.js';
import { readKsm, writeKsm, type KsmReading } from './ksm.js';
import { createKsmdMeter } from './ksmd.js';
import { readMeminfo } from './meminfo.js';
import { readMemoryPressure } from './pressure.js';
import { sumQemuRss } from './qemu-processes.js';
import { NotAvailable } from './read.js';
import { readVmstat } from './vmstat.js';

export interface LinuxHostOptions {
  /** Default '/proc'. */
  readonly procRoot?: string;
  /** Default '/sys'. */
  readonly sysRoot?: string;
  /** Default '/sys/fs/cgroup'. */
  readonly cgroupRoot?: string;
  /**
   * Read the host's memory from this memory cgroup instead of /proc/meminfo: its limit is the
   * total, its usage the used memory. A path under cgroupRoot ('/memory/momtest') or a full path.
   */
  readonly memorySource?: { readonly cgroup: string };
}

/** The extra host fields the engine exposes to policies (KiB). */
export interface ExtraMemoryFields {
  /** MemTotal, or the cgroup's limit in cgroup mode. */
  readonly mem_total: number;
  /** MemAvailable (null on kernels before 3.14); in cgroup mode free + inactive page cache. */
  readonly mem_avail: number | null;
  /** Buffers + Cached; in cgroup mode the cgroup's page cache. */
  readonly mem_cached: number;
}

export interface LinuxHost extends HostSource {
  /** Writes back the KSM knobs as first read by ksm() or setKsm(); nothing if neither ran. */
  restoreKsm(signal?: AbortSignal): Promise<void>;
  /** MemTotal, MemAvailable and Buffers + Cached (or their cgroup counterparts), for the engine. */
  extraMemory(signal?: AbortSignal): Promise<ExtraMemoryFields>;
}

export function createLinuxHost(opts: LinuxHostOptions = {}): LinuxHost {
  const procRoot = opts.procRoot ?? '/proc';
  const sysRoot = opts.sysRoot ?? '/sys';
  const cgroupRoot = opts.cgroupRoot ?? '/sys/fs/cgroup';
  const cgroupDir =
    opts.memorySource === undefined ? undefined : resolveCgroupDir(cgroupRoot, opts.memorySource.cgroup);
  const ksmd = createKsmdMeter(procRoot);
  /** The KSM knobs as found before momd changed any, for restoreKsm(). */
  let original: KsmSettingsFound | undefined;

  const remember = (k: KsmReading): void => {
    original ??= {
      run: k.run,
      pagesToScan: k.pagesToScan,
      sleepMillisecs: k.sleepMillisecs,
      mergeAcrossNodes: k.mergeAcrossNodes,
    };
  };

  const readKsmOrNull = async (signal?: AbortSignal): Promise<KsmReading | null> => {
    try {
      const k = await readKsm(sysRoot, { signal });
      remember(k);
      return k;
    } catch (err) {
      if (err instanceof NotAvailable) return null;
      throw err;
    }
  };

  const memory = async (signal?: AbortSignal): Promise<HostMemory> => {
    const [meminfo, vmstat, cpuCount, cg] = await Promise.all([
      readMeminfo(procRoot, { signal }),
      readVmstat(procRoot, { signal }),
      readCpuCount({ procRoot, sysRoot }, { signal }),
      cgroupDir === undefined ? undefined : readCgroupMemory(cgroupDir, { signal, cgroupRoot }),
    ]);
    const swapInPages = cg?.swapInPages ?? vmstat.pswpin ?? 0;
    const swapOutPages = cg?.swapOutPages ?? vmstat.pswpout ?? 0;
    if (cg !== undefined) {
      const m = cgroupHostMemory(cg, meminfo);
      return { ...m, swapInPages, swapOutPages, cpuCount };
    }
    return {
      total: meminfo.memTotal,
      free: meminfo.memFree,
      cached: meminfo.buffers + meminfo.cached,
      available: meminfo.memAvailable,
      anon: meminfo.anonPages,
      swapTotal: meminfo.swapTotal,
      swapFree: meminfo.swapFree,
      swapInPages,
      swapOutPages,
      cpuCount,
    };
  };

  return {
    name: 'linux',
    memory,

    async ksm(signal): Promise<KsmState | null> {
      return readKsmOrNull(signal);
    },

    async pressure(signal): Promise<MemoryPressure | null> {
      try {
        return await readMemoryPressure(procRoot, { signal });
      } catch (err) {
        if (err instanceof NotAvailable) return null;
        throw err;
      }
    },

    async ksmShareable(signal) {
      return sumQemuRss(procRoot, { signal });
    },

    async ksmdCpuUsage(signal) {
      return ksmd.sample(signal);
    },

    async setKsm(settings: Partial<KsmSettings>, signal) {
      if (original === undefined) {
        const k = await readKsmOrNull(signal);
        if (k === null)
          throw new NotAvailable(`${sysRoot}/kernel/mm/ksm`, 'KSM not in this kernel (CONFIG_KSM)');
      }
      await writeKsm(sysRoot, settings, { signal });
    },

    async restoreKsm(signal) {
      if (original === undefined) return;
      const now = await readKsmOrNull(signal);
      if (now === null) return;
      // Only what differs: merge_across_nodes cannot be written while pages are merged, even unchanged.
      const back: Partial<Record<keyof KsmSettings, number>> = {};
      for (const key of ['run', 'pagesToScan', 'sleepMillisecs', 'mergeAcrossNodes'] as const) {
        const want = original[key];
        if (want !== null && want !== now[key]) back[key] = want;
      }
      // Restoring merge_across_nodes needs the merged pages gone: unmerge first, then restore run.
      if (back.mergeAcrossNodes !== undefined && now.pagesShared > 0) {
        await writeKsm(sysRoot, { run: 2 }, { signal });
        back.run = original.run;
      }
      await writeKsm(sysRoot, back, { signal });
    },

    async extraMemory(signal) {
      const m = await memory(signal);
      return { mem_total: m.total, mem_avail: m.available, mem_cached: m.cached };
    },
  };
}

interface KsmSettingsFound {
  readonly run: number;
  readonly pagesToScan: number;
  readonly sleepMillisecs: number;
  readonly mergeAcrossNodes: number | null;
}
