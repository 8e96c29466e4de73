// Applies the guest control mem_limit (KiB; nil removes the limit) to the memory cgroup of the
// guest's QEMU process, found from the guest's pid property through /proc/<pid>/cgroup. Level-based:
// it reads the limit in force each cycle and writes only when the policy asks for another.
import {
  cgroupOfPid,
  memoryCgroupDir,
  readMemoryLimit,
  setMemoryLimit,
  type MemoryLimit,
} from '../collectors/linux/cgroup.js';
import { CollectionError, KernelWriteError, NotAvailable, ProcessGone } from '../collectors/linux/read.js';
import type { Entity } from '../entities/entity.js';
import { controlInteger, type Controller, type Outcome } from './controller.js';

export interface CgroupLimitOptions {
  /** Default '/proc'. */
  readonly procRoot?: string;
  /** Default '/sys/fs/cgroup'. */
  readonly cgroupRoot?: string;
}

/** The kernel keeps limits in whole pages; a difference below this is no difference. */
const PAGE_TOLERANCE_KIB = 64;

export function createCgroupLimitController(opts: CgroupLimitOptions = {}): Controller {
  const procRoot = opts.procRoot ?? '/proc';
  const cgroupRoot = opts.cgroupRoot ?? '/sys/fs/cgroup';

  return {
    name: 'CgroupLimit',
    needs: {},
    async reconcile({ entities, signal }) {
      const outcomes: Outcome[] = [];
      const wanted = entities.guests.filter((g) => g.controls.has('mem_limit'));
      if (wanted.length === 0) return outcomes;

      // momd's own cgroup: limiting it would limit the daemon too.
      const own = await cgroupOfPid(procRoot, 'self', { signal }).catch(() => null);
      const ownDir = own === null ? null : memoryCgroupDir(cgroupRoot, own);

      // Locate every guest's cgroup first, with a mem_limit or not: one cgroup shared by several
      // guests is not a per-guest knob.
      const located = await Promise.all(
        entities.guests.map(async (guest): Promise<Located> => {
          const name = String(guest.properties['name']);
          const pid = pidOf(guest.properties['pid']);
          if (pid === null)
            return { guest, name, error: 'the guest has no QEMU pid (backend does not report it)' };
          try {
            const m = await cgroupOfPid(procRoot, pid, { signal });
            if (m === null) return { guest, name, error: `process ${pid} is in no memory cgroup` };
            if (m.path === '/') return { guest, name, error: `process ${pid} is in the root memory cgroup` };
            const dir = memoryCgroupDir(cgroupRoot, m);
            if (dir === ownDir)
              return { guest, name, error: `process ${pid} shares momd's own memory cgroup` };
            return { guest, name, dir };
          } catch (err) {
            if (err instanceof ProcessGone) return { guest, name, error: 'guest gone' };
            if (err instanceof CollectionError) return { guest, name, error: err.message, failed: true };
            throw err;
          }
        }),
      );
      const byDir = new Map<string, string[]>();
      for (const l of located)
        if (l.dir !== undefined) byDir.set(l.dir, [...(byDir.get(l.dir) ?? []), l.name]);

      for (const l of located) {
        if (!l.guest.controls.has('mem_limit')) continue;
        const base = { controller: 'CgroupLimit', entity: l.name, control: 'mem_limit' } as const;
        const raw = l.guest.controls.get('mem_limit') ?? null;
        const want = raw === null ? null : controlInteger(raw);
        if (typeof want === 'string' || (want !== null && want <= 0)) {
          const why = typeof want === 'string' ? want : `${want} is out of range: expected KiB > 0, or nil`;
          outcomes.push({ ...base, outcome: 'failed', old: null, new: null, reason: `mem_limit: ${why}` });
          continue;
        }
        if (l.dir === undefined) {
          outcomes.push({
            ...base,
            outcome: l.failed ? 'failed' : 'skipped',
            old: null,
            new: want,
            reason: l.error,
          });
          continue;
        }
        const sharers = byDir.get(l.dir) ?? [];
        if (sharers.length > 1) {
          outcomes.push({
            ...base,
            outcome: 'skipped',
            old: null,
            new: want,
            reason: `memory cgroup ${l.dir} is shared by guests ${sharers.join(', ')}`,
          });
          continue;
        }
        let cur: MemoryLimit;
        try {
          cur = await readMemoryLimit(l.dir, { signal });
        } catch (err) {
          // The cgroup went away with its guest (NotAvailable), or its files make no sense.
          if (!(err instanceof NotAvailable) && !(err instanceof CollectionError)) throw err;
          const outcome = err instanceof NotAvailable ? 'skipped' : 'failed';
          outcomes.push({ ...base, outcome, old: null, new: want, reason: err.message });
          continue;
        }
        if (inForce(cur, want)) {
          outcomes.push({ ...base, outcome: 'unchanged', old: cur.limitKib, new: want });
          continue;
        }
        try {
          await setMemoryLimit(l.dir, want, { signal });
          outcomes.push({ ...base, outcome: 'applied', old: cur.limitKib, new: want });
        } catch (err) {
          if (!(err instanceof KernelWriteError) && !(err instanceof NotAvailable)) throw err;
          outcomes.push({ ...base, outcome: 'failed', old: cur.limitKib, new: want, reason: err.message });
        }
      }
      return outcomes;
    },
  };
}

interface Located {
  readonly guest: Entity;
  readonly name: string;
  /** The guest's memory cgroup directory, or why it has none to limit. */
  readonly dir?: string;
  readonly error?: string;
  /** The error is a failure to read, not a reason to leave the guest alone. */
  readonly failed?: boolean;
}

function same(a: number | null, b: number | null): boolean {
  return a === null || b === null ? a === b : Math.abs(a - b) < PAGE_TOLERANCE_KIB;
}

/** Whether the wanted limit is the one in force (v2: both memory.max and memory.high). */
function inForce(cur: MemoryLimit, want: number | null): boolean {
  return same(cur.limitKib, want) && (cur.highKib === undefined || same(cur.highKib, want));
}

function pidOf(v: unknown): number | null {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  return null;
}
