// The real host as a HostSource: /proc and sysfs files read (and KSM and zswap knobs and cgroup
// limits written) through the modules beside this one, every path under an injected procRoot, sysRoot or
// cgroupRoot. With `memorySource`, a memory cgroup stands in for the machine's RAM
// (host-memory-source). Units are the kernel's KiB already; bytes of cgroup files become KiB in
// cgroup.ts.
import type { MomError } from '../../errors.js';
import type { HostGroup, HostReading } from '../../fields/catalogue.js';
import {
  HOST_CAPABILITIES,
  ksmReading,
  memoryReading,
  timeReading,
  type HostCapability,
  type HostProbe,
  type HostSource,
  type KsmSettings,
  type MemoryLimit,
  type ZswapSettings,
} from '../host.js';
import { HypervisorError, type GuestInfo } from '../hypervisor.js';
import {
  cgroupHostMemory,
  cgroupOfPid,
  detectCgroupVersion,
  memoryCgroupDir,
  readCgroupMemory,
  readMemoryLimit,
  resolveCgroupDir,
  setMemoryLimit,
} from './cgroup.js';
import { readCpuCount } from './cpu.js';
import { KSM_HINT, readKsm, writeKsm, type KsmReading } from './ksm.js';
import { createKsmdMeter, findKsmd } from './ksmd.js';
import { readMeminfo } from './meminfo.js';
import { PSI_HINT, readMemoryPressure, readPressureFile, type MemoryPsi } from './pressure.js';
import { sumQemuRss } from './qemu-processes.js';
import { CollectionError, listDirectory, NotAvailable, ProcessGone, readText } from './read.js';
import { readVmstat } from './vmstat.js';
import {
  readZswapParameters,
  writeZswap,
  ZSWAP_HINT,
  zswapDir,
  zswapReading,
  type ZswapParameters,
} from './zswap.js';
import { join } from 'node:path';

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
  /**
   * The KSM knobs as they were before momd first changed them, when an earlier LinuxHost of the
   * same daemon already read them (a reload must not take momd's own settings for the originals).
   */
  readonly ksmBaseline?: KsmBaseline;
  /** The zswap knobs found at start, from an earlier LinuxHost of the same daemon (a reload). */
  readonly zswapBaseline?: ZswapBaseline;
  /** The wall clock HostTime reads (ms since 1970); default Date.now. */
  readonly wallClock?: () => number;
}

/** The KSM knobs found at start; merge_across_nodes is null on kernels without NUMA. */
export interface KsmBaseline {
  readonly run: number;
  readonly pagesToScan: number;
  readonly sleepMillisecs: number;
  readonly mergeAcrossNodes: number | null;
}

/** The zswap knobs found at start, and whether momd has changed them since (restored only then). */
export interface ZswapBaseline extends ZswapSettings {
  readonly changed: boolean;
}

export interface LinuxHost extends HostSource {
  /** The KSM knobs as first found, once any reading or write happened; for the next LinuxHost. */
  ksmBaseline(): KsmBaseline | undefined;
  /** The zswap knobs as first found (and whether momd changed them); for the next LinuxHost. */
  zswapBaseline(): ZswapBaseline | undefined;
}

export function createLinuxHost(opts: LinuxHostOptions = {}): LinuxHost {
  const procRoot = opts.procRoot ?? '/proc';
  const sysRoot = opts.sysRoot ?? '/sys';
  const cgroupRoot = opts.cgroupRoot ?? '/sys/fs/cgroup';
  const cgroupDir =
    opts.memorySource === undefined ? undefined : resolveCgroupDir(cgroupRoot, opts.memorySource.cgroup);
  const ksmd = createKsmdMeter(procRoot);
  let baseline: KsmBaseline | undefined = opts.ksmBaseline;
  let zswapFound: ZswapSettings | undefined = opts.zswapBaseline;
  let zswapChanged = opts.zswapBaseline?.changed ?? false;
  let closed = false;
  const enter = (signal?: AbortSignal): void => {
    signal?.throwIfAborted();
    if (closed) throw new HypervisorError('MOM_E_CLOSED', 'the linux host source is closed');
  };

  const remember = (k: KsmReading): void => {
    baseline ??= {
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

  /** zswap's knobs, remembered the first time (at start); null without zswap. */
  const readZswapOrNull = async (signal?: AbortSignal): Promise<ZswapParameters | null> => {
    try {
      const z = await readZswapParameters(sysRoot, { signal });
      zswapFound ??= { enabled: z.enabled, maxPoolPercent: z.maxPoolPercent };
      return z;
    } catch (err) {
      if (err instanceof NotAvailable) return null;
      throw err;
    }
  };

  async function memory(signal?: AbortSignal): Promise<HostReading> {
    const [meminfo, vmstat, cg, zswap] = await Promise.all([
      readMeminfo(procRoot, { signal }),
      readVmstat(procRoot, { signal }),
      cgroupDir === undefined ? undefined : readCgroupMemory(cgroupDir, { signal, cgroupRoot }),
      readZswapOrNull(signal),
    ]);
    const m =
      cg !== undefined
        ? cgroupHostMemory(cg, meminfo)
        : {
            total: meminfo.memTotal,
            free: meminfo.memFree,
            cached: meminfo.buffers + meminfo.cached,
            available: meminfo.memAvailable,
            anon: meminfo.anonPages,
            swapTotal: meminfo.swapTotal,
            swapFree: meminfo.swapFree,
          };
    return {
      ...memoryReading({
        ...m,
        swapInPages: cg?.swapInPages ?? vmstat.pswpin ?? 0,
        swapOutPages: cg?.swapOutPages ?? vmstat.pswpout ?? 0,
      }),
      // Without zswap its fields are left out: nil for policies.
      ...(zswap === null ? {} : zswapReading(zswap, meminfo, cg)),
    };
  }

  async function ksm(signal?: AbortSignal): Promise<HostReading> {
    const k = await readKsmOrNull(signal);
    const [shareable, ksmdCpu] = await Promise.all([sumQemuRss(procRoot, { signal }), ksmd.sample(signal)]);
    const profit = k?.files['general_profit'];
    return {
      ...(k === null ? {} : ksmReading(k)),
      // general_profit is in bytes (kernel 6.x); it may be negative when KSM costs more than it saves.
      ...(typeof profit === 'number' ? { ksm_general_profit: Math.trunc(profit / 1024) } : {}),
      ksm_shareable: shareable,
      ksmd_cpu_usage: ksmdCpu,
    };
  }

  async function pressure(signal?: AbortSignal): Promise<HostReading> {
    try {
      const p = await readPressure(signal);
      return {
        psi_some_avg10: p.some10,
        psi_full_avg10: p.full10,
        psi_some_total: p.some.totalUs,
        psi_full_total: p.full.totalUs,
      };
    } catch (err) {
      if (err instanceof NotAvailable) return {};
      throw err;
    }
  }

  /**
   * The memory pressure of the host: a v2 cgroup standing for it has its own (memory.pressure);
   * the machine's otherwise. A v1 cgroup has none, so the machine's stands in (a superset: it
   * counts every process of the machine, the guests' included).
   */
  let pressureFile: Promise<string | null> | undefined;
  async function readPressure(signal?: AbortSignal): Promise<MemoryPsi> {
    pressureFile ??=
      cgroupDir === undefined
        ? Promise.resolve(null)
        : detectCgroupVersion(cgroupDir).then(
            (v) => (v === 2 ? join(cgroupDir, 'memory.pressure') : null),
            () => null,
          );
    const file = await pressureFile;
    return file === null ? readMemoryPressure(procRoot, { signal }) : readPressureFile(file, { signal });
  }

  const wallClock = opts.wallClock ?? Date.now;
  const readers: Record<HostGroup, (signal?: AbortSignal) => Promise<HostReading>> = {
    HostMemory: memory,
    HostKSM: ksm,
    HostPressure: pressure,
    // The online CPUs: a CPU taken offline (or hot-added) shows at the next sample.
    HostCpu: async (signal) => ({ cpu_count: await readCpuCount({ procRoot, sysRoot }, { signal }) }),
    HostTime: async () => timeReading(wallClock()),
  };

  /** Where each guest's QEMU sits in the memory controller, or why it cannot be limited alone. */
  async function locate(
    guests: readonly GuestInfo[],
    signal?: AbortSignal,
  ): Promise<Map<string, string | MomError>> {
    // momd's own cgroup: limiting it would limit the daemon too.
    const own = await cgroupOfPid(procRoot, 'self', { signal }).catch(() => null);
    const ownDir = own === null ? null : memoryCgroupDir(cgroupRoot, own);
    const found = new Map<string, string | MomError>();
    const unsupported = (why: string): HypervisorError => new HypervisorError('MOM_E_UNSUPPORTED', why);
    await Promise.all(
      guests.map(async (g) => {
        if (g.pid === null) {
          found.set(g.id, unsupported('the guest has no QEMU pid (backend does not report it)'));
          return;
        }
        try {
          const m = await cgroupOfPid(procRoot, g.pid, { signal });
          if (m === null) found.set(g.id, unsupported(`process ${g.pid} is in no memory cgroup`));
          else if (m.path === '/')
            found.set(g.id, unsupported(`process ${g.pid} is in the root memory cgroup`));
          else {
            const dir = memoryCgroupDir(cgroupRoot, m);
            found.set(
              g.id,
              dir === ownDir ? unsupported(`process ${g.pid} shares momd's own memory cgroup`) : dir,
            );
          }
        } catch (err) {
          if (err instanceof ProcessGone)
            found.set(g.id, new HypervisorError('MOM_E_GUEST_GONE', 'guest gone'));
          else if (err instanceof CollectionError) found.set(g.id, err);
          else throw err;
        }
      }),
    );
    // One cgroup holding several guests is not a per-guest knob.
    const byDir = new Map<string, string[]>();
    for (const g of guests) {
      const d = found.get(g.id);
      if (typeof d === 'string') byDir.set(d, [...(byDir.get(d) ?? []), g.name]);
    }
    for (const g of guests) {
      const d = found.get(g.id);
      const sharers = typeof d === 'string' ? (byDir.get(d) ?? []) : [];
      if (sharers.length > 1)
        found.set(g.id, unsupported(`memory cgroup ${String(d)} is shared by guests ${sharers.join(', ')}`));
    }
    return found;
  }

  return {
    name: 'linux',

    async probe(signal) {
      enter(signal);
      const missing = new Map<HostCapability, string>();
      if ((await readKsmOrNull(signal)) === null)
        missing.set('ksm', `no ${sysRoot}/kernel/mm/ksm: ${KSM_HINT}`);
      try {
        await readPressure(signal);
      } catch (err) {
        if (!(err instanceof NotAvailable)) throw err;
        missing.set('psi', `${err.path} does not exist: ${PSI_HINT}`);
      }
      if ((await findKsmd(procRoot, { signal })) === null)
        missing.set('ksmd-cpu', 'no ksmd kernel thread (KSM not in this kernel, or not loaded)');
      else await ksmd.sample(signal); // the first reading, so that the first sample has a rate
      if (!(await memoryControllerPresent(cgroupRoot, signal)))
        missing.set(
          'cgroup-limits',
          `no memory controller under ${cgroupRoot} (mount the v1 memory hierarchy, or enable memory in the v2 root's cgroup.controllers)`,
        );
      if ((await readZswapOrNull(signal)) === null)
        missing.set('zswap', `no ${zswapDir(sysRoot)}: ${ZSWAP_HINT}`);
      return {
        capabilities: new Set(HOST_CAPABILITIES.filter((c) => !missing.has(c))),
        missing,
      } satisfies HostProbe;
    },

    async read(groups, signal) {
      enter(signal);
      const parts = await Promise.all([...groups].map((g) => readers[g](signal)));
      return Object.assign({}, ...parts) as HostReading;
    },

    async setKsm(settings: Partial<KsmSettings>, signal) {
      enter(signal);
      if (baseline === undefined && (await readKsmOrNull(signal)) === null)
        throw new HypervisorError('MOM_E_UNSUPPORTED', `no ${sysRoot}/kernel/mm/ksm: ${KSM_HINT}`);
      try {
        await writeKsm(sysRoot, settings, { signal });
      } catch (err) {
        if (err instanceof RangeError) throw new HypervisorError('MOM_E_INVALID_ARGUMENT', err.message);
        if (err instanceof NotAvailable) throw new HypervisorError('MOM_E_UNSUPPORTED', err.message);
        throw err;
      }
    },

    async setZswap(settings: Partial<ZswapSettings>, signal) {
      enter(signal);
      if (zswapFound === undefined && (await readZswapOrNull(signal)) === null)
        throw new HypervisorError('MOM_E_UNSUPPORTED', `no ${zswapDir(sysRoot)}: ${ZSWAP_HINT}`);
      // Before the write: a write that fails half-way has changed something too.
      zswapChanged = true;
      try {
        await writeZswap(sysRoot, settings, { signal });
      } catch (err) {
        if (err instanceof RangeError) throw new HypervisorError('MOM_E_INVALID_ARGUMENT', err.message);
        if (err instanceof NotAvailable) throw new HypervisorError('MOM_E_UNSUPPORTED', err.message);
        throw err;
      }
    },

    async restoreZswap(signal) {
      enter(signal);
      if (!zswapChanged || zswapFound === undefined) return {};
      const now = await readZswapOrNull(signal);
      if (now === null) return {};
      const back: { -readonly [K in keyof ZswapSettings]?: number } = {};
      for (const key of ['enabled', 'maxPoolPercent'] as const)
        if (zswapFound[key] !== now[key]) back[key] = zswapFound[key];
      await writeZswap(sysRoot, back, { signal });
      zswapChanged = false;
      return back;
    },

    async memoryLimits(guests, signal) {
      enter(signal);
      const located = await locate(guests, signal);
      const out = new Map<string, MemoryLimit | MomError>();
      await Promise.all(
        guests.map(async (g) => {
          const dir = located.get(g.id);
          if (dir === undefined) return;
          if (typeof dir !== 'string') {
            out.set(g.id, dir);
            return;
          }
          try {
            const l = await readMemoryLimit(dir, { signal });
            out.set(
              g.id,
              l.highKib === undefined
                ? { limitKib: l.limitKib }
                : { limitKib: l.limitKib, highKib: l.highKib },
            );
          } catch (err) {
            // The cgroup went away with its guest, or its files make no sense.
            if (err instanceof NotAvailable)
              out.set(g.id, new HypervisorError('MOM_E_GUEST_GONE', err.message));
            else if (err instanceof CollectionError) out.set(g.id, err);
            else throw err;
          }
        }),
      );
      return out;
    },

    async setMemoryLimit(guest, kib, signal) {
      enter(signal);
      if (kib !== null && (!Number.isSafeInteger(kib) || kib <= 0))
        throw new HypervisorError('MOM_E_INVALID_ARGUMENT', `memory limit must be whole KiB > 0, got ${kib}`);
      const dir = (await locate([guest], signal)).get(guest.id);
      if (typeof dir !== 'string') throw dir ?? new HypervisorError('MOM_E_GUEST_GONE', 'guest gone');
      try {
        await setMemoryLimit(dir, kib, { signal });
      } catch (err) {
        if (err instanceof NotAvailable) throw new HypervisorError('MOM_E_GUEST_GONE', err.message);
        throw err;
      }
    },

    async close(closeOpts) {
      if (closed) return;
      closed = true;
      if (closeOpts?.restore) await restoreKsm();
    },

    ksmBaseline: () => baseline,
    zswapBaseline: () => (zswapFound === undefined ? undefined : { ...zswapFound, changed: zswapChanged }),
  };

  async function restoreKsm(signal?: AbortSignal): Promise<void> {
    if (baseline === undefined) return;
    const now = await readKsmOrNull(signal);
    if (now === null) return;
    // Only what differs: merge_across_nodes cannot be written while pages are merged, even unchanged.
    const back: Partial<Record<keyof KsmSettings, number>> = {};
    for (const key of ['run', 'pagesToScan', 'sleepMillisecs', 'mergeAcrossNodes'] as const) {
      const want = baseline[key];
      if (want !== null && want !== now[key]) back[key] = want;
    }
    // Restoring merge_across_nodes needs the merged pages gone: unmerge first, then restore run.
    if (back.mergeAcrossNodes !== undefined && now.pagesShared > 0) {
      await writeKsm(sysRoot, { run: 2 }, { signal });
      back.run = baseline.run;
    }
    await writeKsm(sysRoot, back, { signal });
  }
}

/** Whether memory cgroups exist here: the v1 memory hierarchy, or memory among the v2 root's controllers. */
async function memoryControllerPresent(cgroupRoot: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await listDirectory(join(cgroupRoot, 'memory'), { signal });
    return true;
  } catch (err) {
    if (!(err instanceof NotAvailable)) throw err;
  }
  try {
    const controllers = await readText(join(cgroupRoot, 'cgroup.controllers'), { signal });
    return controllers.split(/\s+/).includes('memory');
  } catch (err) {
    if (err instanceof NotAvailable) return false;
    throw err;
  }
}
