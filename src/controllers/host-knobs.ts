// The host's integer knobs (KSM's, zswap's): the shared reconcile of the controllers that drive
// them. Level-based: each knob the policy set is compared with the newest host sample and only
// the ones that differ are written, in one call; a value out of range fails that knob alone; when
// the controller cannot act (no such kernel feature, or not momd's to drive) every knob is
// skipped with the reason.
import { controlInteger, numberOrNull, type ControlContext, type Outcome } from './controller.js';

/** One knob: the policy's control name, the backend's setting, and its valid range. */
export interface HostKnob<S extends string> {
  readonly control: string;
  readonly setting: S;
  readonly valid: (n: number) => boolean;
  /** The valid range in words, for the failure's reason. */
  readonly expect: string;
}

export async function reconcileHostKnobs<S extends string>(
  ctx: ControlContext,
  controller: string,
  knobs: ReadonlyArray<HostKnob<S>>,
  /** Why nothing can be applied this cycle; undefined when it can. */
  cannot: string | undefined,
  apply: (changes: Partial<Record<S, number>>, signal: AbortSignal | undefined) => Promise<void>,
): Promise<Outcome[]> {
  const { entities, signal } = ctx;
  const outcomes: Outcome[] = [];
  const changes: Partial<Record<S, number>> = {};
  const pending: Outcome[] = [];
  for (const knob of knobs) {
    if (!entities.host.controls.has(knob.control)) continue;
    const base = { controller, entity: 'host', control: knob.control } as const;
    const cur = numberOrNull(entities.host.getAttribute(knob.control));
    const want = controlInteger(entities.host.controls.get(knob.control) ?? null);
    if (cannot !== undefined) {
      const wanted = typeof want === 'number' ? want : null;
      outcomes.push({ ...base, outcome: 'skipped', old: cur, new: wanted, reason: cannot });
      continue;
    }
    if (typeof want === 'string' || !knob.valid(want)) {
      const reason = typeof want === 'string' ? want : `${want} is out of range: expected ${knob.expect}`;
      outcomes.push({
        ...base,
        outcome: 'failed',
        old: cur,
        new: null,
        reason: `${knob.control}: ${reason}`,
      });
      continue;
    }
    if (want === cur) {
      outcomes.push({ ...base, outcome: 'unchanged', old: cur, new: want });
      continue;
    }
    changes[knob.setting] = want;
    const why = entities.host.reasons.get(knob.control);
    pending.push({ ...base, outcome: 'applied', old: cur, new: want, ...(why ? { reason: why } : {}) });
  }
  if (pending.length === 0) return outcomes;
  try {
    await apply(changes, signal);
    return [...outcomes, ...pending];
  } catch (err) {
    const reason = (err as Error).message;
    return [...outcomes, ...pending.map((p) => ({ ...p, outcome: 'failed' as const, reason }))];
  }
}
