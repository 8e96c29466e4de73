// The guests' QEMU processes on this host, found by name in <procRoot>/*/comm or, for a QEMU that
// renamed itself (-name ...,process=NAME), by argv[0] in <procRoot>/*/cmdline; the one serving a
// given QMP socket; their resident and swapped-out memory, VmRSS and VmSwap of
// /proc/<pid>/status; and their CPU time and page faults, from /proc/<pid>/stat.
// https://docs.kernel.org/filesystems/proc.html
import { stat } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { listPids, mapLimit, readCmdline, readProcessFile, readProcStat } from './process.js';
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

/**
 * A process's resident memory and the part of its memory the host swapped out (KiB, VmRSS and
 * VmSwap of one status read); each null when the kernel does not report it for this process.
 */
export async function readProcessMemory(
  procRoot: string,
  pid: number,
  opts: ReadOptions = {},
): Promise<{ rss: number | null; swapped: number | null }> {
  const text = await readProcessFile(procRoot, pid, 'status', opts);
  const kv = parseKeyValues(text, join(procRoot, String(pid), 'status'));
  return { rss: kv.optionalInt('VmRSS', 'kB'), swapped: kv.optionalInt('VmSwap', 'kB') };
}

/** Clock ticks a second in /proc/<pid>/stat (USER_HZ): 100 on every architecture Linux runs KVM on. */
export const USER_HZ = 100;

/** What the host sees of a guest's QEMU process: its memory, CPU time and page faults. */
export interface QemuProcessReading {
  /** Resident and swapped-out memory (KiB); null when the kernel does not report them. */
  readonly rss: number | null;
  readonly swapped: number | null;
  /** CPU time in user and kernel mode since the process started (ms): its vCPUs, I/O and QEMU. */
  readonly cpuMs: number | null;
  /** Page faults on the host since the process started, without and with I/O. */
  readonly minorFaults: number | null;
  readonly majorFaults: number | null;
}

/**
 * One reading of a QEMU process (status and stat); ProcessGone when it exited. The stat fields are
 * null when stat cannot be read.
 */
export async function readQemuProcess(
  procRoot: string,
  pid: number,
  opts: ReadOptions = {},
): Promise<QemuProcessReading> {
  const [memory, stat] = await Promise.all([
    readProcessMemory(procRoot, pid, opts),
    // A stat that cannot be read or parsed costs its own fields only.
    readProcStat(procRoot, pid, opts).catch(() => null),
  ]);
  return {
    ...memory,
    cpuMs: stat === null ? null : ((stat.utime + stat.stime) * 1000) / USER_HZ,
    minorFaults: stat?.minflt ?? null,
    majorFaults: stat?.majflt ?? null,
  };
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

/**
 * The pid of the process whose command line names `socketPath` (as in `-qmp unix:PATH,...` or
 * `-chardev socket,path=PATH,...`). Node cannot read a unix socket's peer credentials
 * (SO_PEERCRED), so we look for the path instead. An argument naming the same file through
 * another path (a symlinked /var/run) matches by device and inode. Null when none matches.
 */
export async function findPidBySocket(procRoot: string, socketPath: string): Promise<number | null> {
  const base = basename(socketPath);
  const target = await stat(socketPath).catch(() => null);
  let pids: number[];
  try {
    pids = await listPids(procRoot);
  } catch {
    return null;
  }
  for (const pid of pids) {
    const args = await readCmdline(procRoot, pid).catch(() => null);
    if (args === null) continue;
    for (const candidate of socketPathsIn(args)) {
      if (basename(candidate) !== base) continue;
      if (candidate === socketPath) return pid;
      if (target !== null && isAbsolute(candidate)) {
        const s = await stat(candidate).catch(() => null);
        if (s !== null && s.dev === target.dev && s.ino === target.ino) return pid;
      }
    }
  }
  return null;
}

/** The paths an argument list might give a unix socket: `unix:P`, `path=P`, or a bare `P`. */
function socketPathsIn(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    for (const part of arg.split(',')) {
      if (part.startsWith('unix:')) out.push(part.slice(5));
      else if (part.startsWith('path=')) out.push(part.slice(5));
      else if (part.startsWith('/')) out.push(part);
    }
  }
  return out;
}
