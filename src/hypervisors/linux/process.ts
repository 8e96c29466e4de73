// Processes as /proc shows them: the pid directories, and the fields of /proc/<pid>/stat and
// /proc/<pid>/status this reader needs. https://docs.kernel.org/filesystems/proc.html
import { join } from 'node:path';
import {
  CollectionError,
  listDirectory,
  NotAvailable,
  ProcessGone,
  readText,
  type ReadOptions,
} from './read.js';

/** PF_KTHREAD in the flags field of /proc/<pid>/stat (include/linux/sched.h): a kernel thread. */
const PF_KTHREAD = 0x00200000;

/** The pids of all processes (thread-group leaders), ascending. */
export async function listPids(procRoot: string, opts: ReadOptions = {}): Promise<number[]> {
  const names = await listDirectory(procRoot, { hint: 'is /proc mounted (or procRoot wrong)?', ...opts });
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** A file of one process; its absence means the process exited → ProcessGone. */
export async function readProcessFile(
  procRoot: string,
  pid: number | 'self',
  file: string,
  opts: ReadOptions = {},
): Promise<string> {
  try {
    return await readText(join(procRoot, String(pid), file), opts);
  } catch (err) {
    if (err instanceof NotAvailable) throw new ProcessGone(typeof pid === 'number' ? pid : -1);
    // ESRCH: the process died while the file was being read.
    if (err instanceof CollectionError && /ESRCH/.test(err.message))
      throw new ProcessGone(typeof pid === 'number' ? pid : -1);
    throw err;
  }
}

/** The process's arguments (NUL-separated in /proc/<pid>/cmdline); ProcessGone when it exited. */
export async function readCmdline(procRoot: string, pid: number, opts: ReadOptions = {}): Promise<string[]> {
  const text = await readProcessFile(procRoot, pid, 'cmdline', opts);
  const args = text.split('\0');
  if (args[args.length - 1] === '') args.pop();
  return args;
}

export interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  readonly kernelThread: boolean;
  /** CPU time in user and kernel mode, in clock ticks (USER_HZ). */
  readonly utime: number;
  readonly stime: number;
  /** Page faults of the process since it started: without I/O (minflt) and with it (majflt). */
  readonly minflt: number;
  readonly majflt: number;
}

/** Parses /proc/<pid>/stat. The name sits in parentheses and may itself hold spaces and ')'. */
export function parseProcStat(text: string, path: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new CollectionError(path, text, 'expected "pid (comm) state ..."');
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // Fields 3.. of proc(5), so rest[0] is field 3 (state), rest[6] field 9 (flags), rest[7] field 10
  // (minflt), rest[9] field 12 (majflt), rest[11] field 14 (utime).
  const int = (i: number, name: string): number => {
    const v = rest[i];
    if (v === undefined || !/^-?\d+$/.test(v)) throw new CollectionError(path, text, `bad ${name} field`);
    return Number(v);
  };
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '',
    ppid: int(1, 'ppid'),
    kernelThread: (int(6, 'flags') & PF_KTHREAD) !== 0,
    utime: int(11, 'utime'),
    stime: int(12, 'stime'),
    minflt: int(7, 'minflt'),
    majflt: int(9, 'majflt'),
  };
}

export async function readProcStat(procRoot: string, pid: number, opts: ReadOptions = {}): Promise<ProcStat> {
  const path = join(procRoot, String(pid), 'stat');
  return parseProcStat(await readProcessFile(procRoot, pid, 'stat', opts), path);
}

/** Maps over items with at most `limit` promises in flight (a /proc scan must not open thousands of files at once). */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
