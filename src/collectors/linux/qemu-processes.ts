// The guests' QEMU processes on this host, found by name in <procRoot>/*/comm or, for a QEMU that
// renamed itself (-name ...,process=NAME), by argv[0] in <procRoot>/*/cmdline; and their resident
// memory, VmRSS of /proc/<pid>/status. https://docs.kernel.org/filesystems/proc.html
import { basename, join } from 'node:path';
import { listPids, mapLimit, readProcessFile } from './process.js';
import { parseKeyValues, ProcessGone, type ReadOptions } from './read.js';

/** comm is cut to 15 characters: qemu-system-x86_64 shows as 'qemu-system-x86'. */
const QEMU_COMM = /^(qemu-system-.*|qemu-kvm|kvm)$/;
const QEMU_PROGRAM = /^(qemu-system-[\w.-]+|qemu-kvm|kvm)$/;

/** Whether a process is a QEMU emulator (not qemu-img, qemu-nbd, ...). Kernel threads have no argv. */
export function isQemuProcess(comm: string, cmdline: string): boolean {
  const argv0 = cmdline.split('\0')[0] ?? '';
  if (argv0 === '') return false;
  return QEMU_COMM.test(comm.trim()) || QEMU_PROGRAM.test(basename(argv0));
}

/** Pids of the QEMU processes now running, ascending. Processes exiting during the scan are left out. */
export async function listQemuProcesses(procRoot: string, opts: ReadOptions = {}): Promise<number[]> {
  const pids = await listPids(procRoot, opts);
  const hits = await mapLimit(pids, 32, async (pid) => {
    try {
      const comm = await readProcessFile(procRoot, pid, 'comm', opts);
      const cmdline = await readProcessFile(procRoot, pid, 'cmdline', opts);
      return isQemuProcess(comm, cmdline) ? pid : null;
    } catch (err) {
      if (err instanceof ProcessGone) return null;
      throw err;
    }
  });
  return hits.filter((p): p is number => p !== null);
}

/**
 * The resident memory of one process (KiB, VmRSS). null when the process has no memory of its own
 * (a zombie, a kernel thread); ProcessGone when it exited; CollectionError on a malformed status.
 */
export async function readVmRss(
  procRoot: string,
  pid: number,
  opts: ReadOptions = {},
): Promise<number | null> {
  const text = await readProcessFile(procRoot, pid, 'status', opts);
  return parseKeyValues(text, join(procRoot, String(pid), 'status')).optionalInt('VmRSS', 'kB');
}

/** The QEMU processes and their VmRSS (KiB); those that exited meanwhile are left out. */
export async function readQemuRss(
  procRoot: string,
  opts: ReadOptions = {},
): Promise<Array<{ pid: number; rssKib: number }>> {
  const pids = await listQemuProcesses(procRoot, opts);
  const out: Array<{ pid: number; rssKib: number }> = [];
  for (const pid of pids) {
    try {
      const rss = await readVmRss(procRoot, pid, opts);
      if (rss !== null) out.push({ pid, rssKib: rss });
    } catch (err) {
      if (!(err instanceof ProcessGone)) throw err;
    }
  }
  return out;
}

/** MOM's ksm_shareable: the summed resident memory of all QEMU processes (KiB). */
export async function sumQemuRss(procRoot: string, opts: ReadOptions = {}): Promise<number> {
  return (await readQemuRss(procRoot, opts)).reduce((s, p) => s + p.rssKib, 0);
}
