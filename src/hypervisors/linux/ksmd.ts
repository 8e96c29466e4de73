// ksmd's CPU use: the kernel thread named 'ksmd', found by scanning <procRoot>/*/comm, and its
// utime + stime from <procRoot>/<pid>/stat between two readings, as percent of one CPU over the
// wall time between them. Fields: https://docs.kernel.org/filesystems/proc.html (table 1-4)
import { readProcStat, listPids, mapLimit, readProcessFile } from './process.js';
import { ProcessGone, type ReadOptions } from './read.js';

/** USER_HZ, the unit of utime/stime: 100 on every architecture Linux builds KVM hosts on. */
export const USER_HZ = 100;
/** How long a fruitless scan for ksmd is trusted before the next one (KSM may be a module). */
const RESCAN_MS = 60_000;

/**
 * The pid of ksmd, or null when the kernel has none (no CONFIG_KSM). A user process may call itself
 * 'ksmd'; only a kernel thread (PF_KTHREAD) counts.
 */
export async function findKsmd(procRoot: string, opts: ReadOptions = {}): Promise<number | null> {
  const pids = await listPids(procRoot, opts);
  const hits = await mapLimit(pids, 32, async (pid) => {
    try {
      if ((await readProcessFile(procRoot, pid, 'comm', opts)).trim() !== 'ksmd') return null;
      return (await readProcStat(procRoot, pid, opts)).kernelThread ? pid : null;
    } catch (err) {
      if (err instanceof ProcessGone) return null;
      throw err;
    }
  });
  return hits.find((p) => p !== null) ?? null;
}

export interface KsmdMeter {
  /**
   * ksmd's CPU use since the previous call, in percent of one CPU (rounded to 0.01). null on the
   * first call, when there is no ksmd, and on the call after ksmd was (re)found.
   */
  sample(signal?: AbortSignal): Promise<number | null>;
}

export function createKsmdMeter(
  procRoot: string,
  opts: { now?: () => number; clockTicksPerSecond?: number } = {},
): KsmdMeter {
  const now = opts.now ?? (() => performance.now());
  const hz = opts.clockTicksPerSecond ?? USER_HZ;
  let pid: number | null = null;
  let lastScan = -Infinity;
  let last: { ticks: number; at: number } | null = null;

  const locate = async (signal?: AbortSignal): Promise<number | null> => {
    if (pid !== null) return pid;
    if (now() - lastScan < RESCAN_MS) return null;
    lastScan = now();
    pid = await findKsmd(procRoot, { signal });
    return pid;
  };

  return {
    async sample(signal) {
      const p = await locate(signal);
      if (p === null) return null;
      let ticks: number;
      try {
        const st = await readProcStat(procRoot, p, { signal });
        if (st.comm !== 'ksmd' || !st.kernelThread) throw new ProcessGone(p);
        ticks = st.utime + st.stime;
      } catch (err) {
        if (!(err instanceof ProcessGone)) throw err;
        // The pid now belongs to something else (KSM module unloaded): look again next time.
        pid = null;
        lastScan = -Infinity;
        last = null;
        return null;
      }
      const at = now();
      const prev = last;
      last = { ticks, at };
      if (prev === null || at <= prev.at || ticks < prev.ticks) return null;
      const pct = (100 * (ticks - prev.ticks)) / hz / ((at - prev.at) / 1000);
      return Math.round(pct * 100) / 100;
    },
  };
}
