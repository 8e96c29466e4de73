// Memory cgroups for integration tests: a miniature overcommitted "host" is a cgroup whose limit is
// below the total memory of the QEMU processes put in it. Works on cgroup v1 (this project's
// machines: /sys/fs/cgroup/memory) and on v2 (a cgroup2 mount whose root offers the memory
// controller). Every test cgroup lives under a `momd-testbed` parent.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type CgroupVersion = 1 | 2;

export interface MemoryCgroup {
  name: string;
  /** The cgroup's folder. Write a PID to `${path}/cgroup.procs` to move a process in. */
  path: string;
  version: CgroupVersion;
  /** Moves a process (all its threads) into the cgroup. */
  addPid(pid: number): Promise<void>;
  /** PIDs currently in the cgroup. */
  pids(): Promise<number[]>;
  /** Sets the memory limit (v1 memory.limit_in_bytes, v2 memory.max); undefined: no limit. */
  setLimitMiB(limitMiB: number | undefined): Promise<void>;
  /** Current memory use in bytes (v1 memory.usage_in_bytes, v2 memory.current). */
  usageBytes(): Promise<number>;
  /** memory.stat as numbers. */
  stat(): Promise<Record<string, number>>;
  /**
   * Removes the cgroup (and the momd-testbed parent when it is empty). Waits up to `timeoutMs` for
   * processes still inside to exit (it never kills them: stop what you started first); throws if
   * some remain.
   */
  remove(timeoutMs?: number): Promise<void>;
}

const PARENT = 'momd-testbed';
const V1_ROOT = '/sys/fs/cgroup/memory';

/** The cgroup2 mount points that offer the memory controller. */
function v2MemoryRoots(): string[] {
  let mounts = '';
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  return mounts
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'cgroup2' && f[1] !== undefined)
    .map((f) => f[1] as string)
    .filter((root) => {
      try {
        return readFileSync(join(root, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory');
      } catch {
        return false;
      }
    });
}

/**
 * Which memory cgroup hierarchy tests can use: v2 when a cgroup2 mount has the memory controller,
 * else v1 when /sys/fs/cgroup/memory exists; undefined when neither.
 */
export function memoryCgroupSupport(): { version: CgroupVersion; root: string } | undefined {
  const v2 = v2MemoryRoots()[0];
  if (v2) return { version: 2, root: v2 };
  if (existsSync(join(V1_ROOT, 'memory.limit_in_bytes'))) return { version: 1, root: V1_ROOT };
  return undefined;
}

/** The memory cgroup `pid` is in (the folder), or undefined. */
export function memoryCgroupOf(pid: number): string | undefined {
  const support = memoryCgroupSupport();
  if (!support) return undefined;
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  for (const line of lines) {
    const [, controllers, path] = line.split(':');
    if (path === undefined || controllers === undefined) continue;
    if (support.version === 1 && controllers.split(',').includes('memory')) return join(support.root, path);
    if (support.version === 2 && controllers === '' && line.startsWith('0::'))
      return join(support.root, path);
  }
  return undefined;
}

async function writeValue(file: string, value: string): Promise<void> {
  try {
    await writeFile(file, value);
  } catch (err) {
    throw new Error(`cgroup: writing '${value}' to ${file} failed: ${(err as Error).message}`);
  }
}

/**
 * Creates memory cgroup `momd-testbed/NAME` (v2 if available with the memory controller, else v1;
 * or the `version` asked for) with a limit of `limitMiB` (none if undefined). Needs root.
 */
export async function createMemoryCgroup(
  name: string,
  limitMiB?: number,
  opts: { version?: CgroupVersion } = {},
): Promise<MemoryCgroup> {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) throw new Error(`cgroup: bad name '${name}'`);
  let support = memoryCgroupSupport();
  if (opts.version === 1 && existsSync(join(V1_ROOT, 'memory.limit_in_bytes')))
    support = { version: 1, root: V1_ROOT };
  if (opts.version === 2) {
    const root = v2MemoryRoots()[0];
    support = root ? { version: 2, root } : undefined;
  }
  if (!support)
    throw new Error('cgroup: no memory cgroup hierarchy (v1 /sys/fs/cgroup/memory or v2 with memory)');
  const { version, root } = support;
  const parent = join(root, PARENT);
  await mkdir(parent, { recursive: true });
  if (version === 2) {
    const enabled = readFileSync(join(parent, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
    if (!enabled.includes('memory')) {
      const rootEnabled = readFileSync(join(root, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
      if (!rootEnabled.includes('memory')) await writeValue(join(root, 'cgroup.subtree_control'), '+memory');
      await writeValue(join(parent, 'cgroup.subtree_control'), '+memory');
    }
  }
  const path = join(parent, name);
  try {
    await mkdir(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new Error(`cgroup: ${path} exists already (left over by an earlier run? remove it with rmdir)`);
    throw err;
  }
  const limitFile = version === 1 ? 'memory.limit_in_bytes' : 'memory.max';
  const usageFile = version === 1 ? 'memory.usage_in_bytes' : 'memory.current';

  const cgroup: MemoryCgroup = {
    name,
    path,
    version,
    async addPid(pid) {
      await writeValue(join(path, 'cgroup.procs'), String(pid));
    },
    async pids() {
      return (await readFile(join(path, 'cgroup.procs'), 'utf8'))
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map(Number);
    },
    async setLimitMiB(mib) {
      const value =
        mib === undefined ? (version === 1 ? '-1' : 'max') : String(Math.round(mib * 1024 * 1024));
      await writeValue(join(path, limitFile), value);
    },
    async usageBytes() {
      return Number((await readFile(join(path, usageFile), 'utf8')).trim());
    },
    async stat() {
      const out: Record<string, number> = {};
      for (const line of (await readFile(join(path, 'memory.stat'), 'utf8')).split('\n')) {
        const [k, v] = line.split(' ');
        if (k && v !== undefined) out[k] = Number(v);
      }
      return out;
    },
    async remove(timeoutMs = 5000) {
      if (!existsSync(path)) return;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          await rmdir(path);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || Date.now() >= deadline) {
            const left = await cgroup.pids().catch(() => []);
            throw new Error(
              `cgroup: cannot remove ${path} (${code}); processes inside: ${left.join(' ') || 'none'}`,
            );
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      try {
        await rmdir(parent);
      } catch {
        // other test cgroups still live there (or it is gone already)
      }
    },
  };
  if (limitMiB !== undefined) {
    try {
      await cgroup.setLimitMiB(limitMiB);
    } catch (err) {
      await cgroup.remove().catch(() => undefined);
      throw err;
    }
  }
  return cgroup;
}
