// Moves each guest's balloon toward the policy's balloon_target (KiB), as an integer, clamped to
// the guest's [balloon_min, balloon_max], and only when it differs from the target in force (the
// last one we set, or the current size when we have set none).
import type { BalloonWatch } from '../engine/balloon-watch.js';
import { HypervisorError } from '../hypervisors/hypervisor.js';
import { controlInteger, type Controller, type Outcome } from './controller.js';

/** `watch`, when given, hears of every target set so that stuck balloons can be noticed. */
export function createBalloonController(watch?: BalloonWatch): Controller {
  /** Last target we applied, per guest id; a guest that vanished is forgotten. */
  const applied = new Map<string, number>();

  return {
    name: 'Balloon',
    needs: { guest: ['balloon_cur', 'balloon_max'] },
    async reconcile({ entities, guestIds, hypervisor, signal }) {
      const outcomes: Outcome[] = [];
      const live = new Set(guestIds.values());
      for (const id of applied.keys()) if (!live.has(id)) applied.delete(id);

      for (const guest of entities.guests) {
        if (!guest.controls.has('balloon_target')) continue;
        const name = String(guest.properties['name']);
        const base = { controller: 'Balloon', entity: name, control: 'balloon_target' } as const;
        const id = guestIds.get(name);
        const cur = numberOrNull(guest.getAttribute('balloon_cur'));
        const raw = controlInteger(guest.controls.get('balloon_target') ?? null);
        if (typeof raw === 'string') {
          outcomes.push({
            ...base,
            outcome: 'failed',
            old: cur,
            new: null,
            reason: `balloon_target: ${raw}`,
          });
          continue;
        }
        if (id === undefined) {
          outcomes.push({ ...base, outcome: 'skipped', old: cur, new: raw, reason: 'guest gone' });
          continue;
        }
        const max = numberOrNull(guest.getAttribute('balloon_max'));
        const min = numberOrNull(guest.getAttribute('balloon_min')) ?? 0;
        let target = Math.max(raw, min);
        if (max !== null) target = Math.min(target, max);
        const inForce = applied.get(id) ?? cur;
        if (target === inForce) {
          outcomes.push({ ...base, outcome: 'unchanged', old: inForce, new: target });
          continue;
        }
        try {
          await hypervisor.setBalloonTarget(id, target, signal);
          applied.set(id, target);
          watch?.targetSet(id, target, cur);
          outcomes.push({
            ...base,
            outcome: 'applied',
            old: inForce,
            new: target,
            ...(target !== raw ? { reason: `clamped from ${raw} to [${min}, ${max ?? '∞'}]` } : {}),
          });
        } catch (err) {
          if (!(err instanceof HypervisorError)) throw err;
          outcomes.push({
            ...base,
            outcome: err.code === 'guest-gone' ? 'skipped' : 'failed',
            old: inForce,
            new: target,
            reason: `${err.code}: ${err.message}`,
          });
        }
      }
      return outcomes;
    },
  };
}

function numberOrNull(v: unknown): number | null {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  return null;
}
