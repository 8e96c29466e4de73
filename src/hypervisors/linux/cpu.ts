// The number of online CPUs: <sysRoot>/devices/system/cpu/online (a range list such as "0-3,6"),
// else the "processor" entries of <procRoot>/cpuinfo.
// https://docs.kernel.org/admin-guide/cputopology.html and https://docs.kernel.org/filesystems/proc.html
import { join } from 'node:path';
import { CollectionError, NotAvailable, readText, type ReadOptions } from './read.js';

export interface CpuRoots {
  readonly procRoot: string;
  readonly sysRoot: string;
}

/** Throws NotAvailable when neither file exists, CollectionError when the one read is malformed. */
export async function readCpuCount(roots: CpuRoots, opts: ReadOptions = {}): Promise<number> {
  const online = join(roots.sysRoot, 'devices', 'system', 'cpu', 'online');
  try {
    return parseCpuList(await readText(online, opts), online);
  } catch (err) {
    if (!(err instanceof NotAvailable)) throw err;
  }
  const cpuinfo = join(roots.procRoot, 'cpuinfo');
  const text = await readText(cpuinfo, { hint: `neither ${online} nor cpuinfo exists`, ...opts });
  const n = text.split('\n').filter((l) => /^processor\s*:/.test(l)).length;
  if (n === 0) throw new CollectionError(cpuinfo, null, "no 'processor' entries");
  return n;
}

/** Counts the CPUs of a kernel CPU list ("0-3,6,8-9" → 7). */
export function parseCpuList(text: string, path: string): number {
  const t = text.trim();
  let n = 0;
  for (const part of t.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) throw new CollectionError(path, text, 'expected a CPU list such as 0-3,6');
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new CollectionError(path, text, 'expected a CPU list such as 0-3,6');
    n += hi - lo + 1;
  }
  return n;
}
