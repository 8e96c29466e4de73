// CPU cgroups, v1 and v2: which CPU cgroup a process is in, and the CFS bandwidth limit of that
// cgroup (v1 cpu.cfs_quota_us and cpu.cfs_period_us, v2 cpu.max "QUOTA PERIOD" or "max PERIOD"),
// read and written. Used by the QMP backend to limit a plain QEMU's vCPUs. Files only.
// v1: https://docs.kernel.org/scheduler/sched-bwc.html
// v2: https://docs.kernel.org/admin-guide/cgroup-v2.html#cpu-interface-files
import { join } from 'node:path';
import { HypervisorError } from '../hypervisor.js';
import { parseControllerCgroup, type CgroupVersion, type ControllerMembership } from './cgroup.js';
import { readProcessFile } from './process.js';
import {
  CollectionError,
  parseKernelInt,
  ProcessGone,
  readText,
  writeKernelValue,
  type ReadOptions,
} from './read.js';

/** Where a process sits in the CPU controller's hierarchy ('cpu' or 'cpu,cpuacct' on v1). */
export type CpuCgroupMembership = ControllerMembership;

/** Parses /proc/<pid>/cgroup for the CPU controller (parseControllerCgroup). */
export function parseCpuCgroup(text: string, path: string): CpuCgroupMembership | null {
  return parseControllerCgroup(text, path, 'cpu');
}

/** The CPU cgroup of a process. ProcessGone when it exited. */
export async function cpuCgroupOfPid(
  procRoot: string,
  pid: number | 'self',
  opts: ReadOptions = {},
): Promise<CpuCgroupMembership | null> {
  const text = await readProcessFile(procRoot, pid, 'cgroup', opts);
  return parseCpuCgroup(text, join(procRoot, String(pid), 'cgroup'));
}

/** The directory of a membership: v1 under <cgroupRoot>/<controllers>, v2 under <cgroupRoot>. */
export function cpuCgroupDir(cgroupRoot: string, m: CpuCgroupMembership): string {
  return m.version === 1 ? join(cgroupRoot, m.controllers, m.path) : join(cgroupRoot, m.path);
}

/** A CPU cgroup's bandwidth limit: the cgroup's processes together get quotaUs per periodUs. */
export interface CpuLimit {
  /** µs of CPU time per period for the whole cgroup; null: no limit. */
  readonly quotaUs: number | null;
  readonly periodUs: number;
}

/**
 * Reads the limit. A cgroup without the files (no CPU controller there, or v2 without cpu in its
 * parent's subtree_control) → NotAvailable; malformed files → CollectionError.
 */
export async function readCpuLimit(
  dir: string,
  version: CgroupVersion,
  opts: ReadOptions = {},
): Promise<CpuLimit> {
  if (version === 2) {
    const path = join(dir, 'cpu.max');
    const text = await readText(path, opts);
    const m = /^\s*(max|\d+)\s+(\d+)\s*$/.exec(text);
    if (m === null) throw new CollectionError(path, text, 'expected "QUOTA PERIOD" or "max PERIOD"');
    return { quotaUs: m[1] === 'max' ? null : Number(m[1]), periodUs: Number(m[2]) };
  }
  const quotaPath = join(dir, 'cpu.cfs_quota_us');
  const periodPath = join(dir, 'cpu.cfs_period_us');
  const [quota, period] = await Promise.all([readText(quotaPath, opts), readText(periodPath, opts)]);
  const q = parseKernelInt(quota, quotaPath);
  return { quotaUs: q < 0 ? null : q, periodUs: parseKernelInt(period, periodPath) };
}

/**
 * Writes the limit (quotaUs null: none). v1 writes the period first, then the quota; v2 both in
 * one write. The kernel refuses a quota or period under 1 ms or a period over 1 s
 * (KernelWriteError, EINVAL).
 */
export async function writeCpuLimit(
  dir: string,
  version: CgroupVersion,
  limit: CpuLimit,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  if (version === 2) {
    await writeKernelValue(join(dir, 'cpu.max'), `${limit.quotaUs ?? 'max'} ${limit.periodUs}`, opts);
    return;
  }
  await writeKernelValue(join(dir, 'cpu.cfs_period_us'), limit.periodUs, opts);
  await writeKernelValue(join(dir, 'cpu.cfs_quota_us'), limit.quotaUs ?? -1, opts);
}

/** A guest's own CPU cgroup: where its QEMU's limit is read and written. */
export interface GuestCpuCgroup {
  readonly dir: string;
  readonly version: CgroupVersion;
}

/**
 * The CPU cgroup of each guest's QEMU, or why it cannot be limited on its own: no pid, the root
 * cgroup, momd's own cgroup, or one shared with other guests (MOM_E_UNSUPPORTED); a process gone
 * (MOM_E_GUEST_GONE). Pass every guest, not only those asked about: sharing shows only so.
 */
export async function locateCpuCgroups(
  procRoot: string,
  cgroupRoot: string,
  guests: ReadonlyArray<{ readonly id: string; readonly pid: number | null }>,
  signal?: AbortSignal,
): Promise<Map<string, GuestCpuCgroup | HypervisorError>> {
  const own = await cpuCgroupOfPid(procRoot, 'self', { signal }).catch(() => null);
  const ownDir = own === null ? null : cpuCgroupDir(cgroupRoot, own);
  const unsupported = (why: string): HypervisorError => new HypervisorError('MOM_E_UNSUPPORTED', why);
  const found = new Map<string, GuestCpuCgroup | HypervisorError>();
  await Promise.all(
    guests.map(async (g) => {
      if (g.pid === null) {
        found.set(g.id, unsupported('its QEMU process is not known'));
        return;
      }
      try {
        const m = await cpuCgroupOfPid(procRoot, g.pid, { signal });
        if (m === null) found.set(g.id, unsupported(`process ${g.pid} is in no CPU cgroup`));
        else if (m.path === '/') found.set(g.id, unsupported(`process ${g.pid} is in the root CPU cgroup`));
        else {
          const dir = cpuCgroupDir(cgroupRoot, m);
          found.set(
            g.id,
            dir === ownDir
              ? unsupported(`process ${g.pid} shares momd's own CPU cgroup`)
              : { dir, version: m.version },
          );
        }
      } catch (err) {
        if (err instanceof ProcessGone)
          found.set(g.id, new HypervisorError('MOM_E_GUEST_GONE', 'guest gone'));
        else if (err instanceof CollectionError) found.set(g.id, unsupported(err.message));
        else throw err;
      }
    }),
  );
  const byDir = new Map<string, number>();
  for (const v of found.values())
    if (!(v instanceof HypervisorError)) byDir.set(v.dir, (byDir.get(v.dir) ?? 0) + 1);
  for (const [id, v] of found) {
    if (!(v instanceof HypervisorError) && (byDir.get(v.dir) ?? 0) > 1)
      found.set(id, unsupported(`CPU cgroup ${v.dir} is shared with other guests`));
  }
  return found;
}
