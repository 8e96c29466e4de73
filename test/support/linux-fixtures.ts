// Test support for the Linux host (src/hypervisors/linux): the fixture trees under test/fixtures/<scenario>/ (which
// mirror /proc and /sys), writable copies of them, and the roots of this machine.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from dist/test/support/ (compiled) or test/support/. */
const REPO_ROOT = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../../' : '../../', import.meta.url),
);

export interface Roots {
  readonly root: string;
  readonly procRoot: string;
  readonly sysRoot: string;
  readonly cgroupRoot: string;
}

function roots(root: string): Roots {
  return {
    root,
    procRoot: join(root, 'proc'),
    sysRoot: join(root, 'sys'),
    cgroupRoot: join(root, 'sys', 'fs', 'cgroup'),
  };
}

/** A fixture scenario, read-only: test/fixtures/<name>. */
export function fixture(name: string): Roots {
  return roots(join(REPO_ROOT, 'test', 'fixtures', name));
}

/** A writable copy of a fixture in a temp directory; call remove() when done. */
export async function fixtureCopy(name: string): Promise<Roots & { remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `momd-${name}-`));
  await cp(fixture(name).root, dir, { recursive: true });
  return { ...roots(dir), remove: () => rm(dir, { recursive: true, force: true }) };
}

/** This machine's own trees (read-only in unit tests). */
export const REAL: Roots = { root: '/', procRoot: '/proc', sysRoot: '/sys', cgroupRoot: '/sys/fs/cgroup' };
