// Applies the guest control mem_limit (KiB; nil removes the limit) as the memory limit of the
// guest's QEMU process, through the host port: on Linux its memory cgroup, in the simulator the
// model's. Level-based: it reads the limit in force each cycle and writes only when the policy
// asks for another. A guest that cannot be limited on its own (no pid, a cgroup shared with other
// guests or with momd) is skipped, saying why.
import { MomError } from '../errors.js';
import type { MemoryLimit } from '../hypervisors/host.js';
import type { GuestInfo } from '../hypervisors/hypervisor.js';
import { controlInteger, missingCapability, type Controller, type Outcome } from './controller.js';

/** The kernel keeps limits in whole pages; a difference below this is no difference. */
const PAGE_TOLERANCE_KIB = 64;

export function createCgroupLimitController(): Controller {
  const controller: Controller = {
    name: 'CgroupLimit',
    controls: ['mem_limit'],
    needs: {},
    requires: { host: ['cgroup-limits'] },
    async reconcile(ctx) {
      const { entities, host, signal } = ctx;
      const outcomes: Outcome[] = [];
      const wanted = entities.guests.filter((g) => g.controls.has('mem_limit'));
      if (wanted.length === 0) return outcomes;
      const cannot = missingCapability(controller, ctx.capabilities);
      // Every listed guest, with a mem_limit or not: one cgroup shared by several guests is not a
      // per-guest knob, and the host can only tell by seeing them all.
      const infos = [...ctx.guests.values()];
      const limits: Map<string, MemoryLimit | MomError> =
        cannot === undefined ? await host.memoryLimits(infos, signal) : new Map();

      for (const guest of wanted) {
        const name = String(guest.properties['name']);
        const base = { controller: 'CgroupLimit', entity: name, control: 'mem_limit' } as const;
        const raw = guest.controls.get('mem_limit') ?? null;
        const want = raw === null ? null : controlInteger(raw);
        if (typeof want === 'string' || (want !== null && want <= 0)) {
          const why = typeof want === 'string' ? want : `${want} is out of range: expected KiB > 0, or nil`;
          outcomes.push({ ...base, outcome: 'failed', old: null, new: null, reason: `mem_limit: ${why}` });
          continue;
        }
        const skip = (reason: string, outcome: 'skipped' | 'failed' = 'skipped'): void => {
          outcomes.push({ ...base, outcome, old: null, new: want, reason });
        };
        if (cannot !== undefined) {
          skip(cannot);
          continue;
        }
        const info: GuestInfo | undefined = ctx.guests.get(name);
        const cur = info === undefined ? undefined : limits.get(info.id);
        if (info === undefined || cur === undefined) {
          skip('guest gone');
          continue;
        }
        if (cur instanceof MomError) {
          const gone = cur.code === 'MOM_E_GUEST_GONE';
          skip(
            gone ? 'guest gone' : cur.message,
            gone || cur.code === 'MOM_E_UNSUPPORTED' ? 'skipped' : 'failed',
          );
          continue;
        }
        if (inForce(cur, want)) {
          outcomes.push({ ...base, outcome: 'unchanged', old: cur.limitKib, new: want });
          continue;
        }
        try {
          await host.setMemoryLimit(info, want, signal);
          const why = guest.reasons.get('mem_limit');
          outcomes.push({
            ...base,
            outcome: 'applied',
            old: cur.limitKib,
            new: want,
            ...(why ? { reason: why } : {}),
          });
        } catch (err) {
          if (!(err instanceof MomError)) throw err;
          const gone = err.code === 'MOM_E_GUEST_GONE';
          outcomes.push({
            ...base,
            outcome: gone ? 'skipped' : 'failed',
            old: cur.limitKib,
            new: want,
            reason: gone ? 'guest gone' : err.message,
          });
        }
      }
      return outcomes;
    },
  };
  return controller;
}

function same(a: number | null, b: number | null): boolean {
  return a === null || b === null ? a === b : Math.abs(a - b) < PAGE_TOLERANCE_KIB;
}

/** Whether the wanted limit is the one in force (cgroup v2: memory.high as well as memory.max). */
function inForce(cur: MemoryLimit, want: number | null): boolean {
  return same(cur.limitKib, want) && (cur.highKib === undefined || same(cur.highKib, want));
}
