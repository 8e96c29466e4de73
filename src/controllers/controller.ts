// What a controller is: it applies one kind of control. Level-based: each cycle it compares what
// the policy asked for with the actual state in the same snapshot and acts only on a difference.
// Each outcome completes the sentence "<control> of <entity> was <outcome>".
import type { Entities } from '../entities/snapshot.js';
import type { Hypervisor } from '../hypervisors/hypervisor.js';
import type { HostSource } from '../hypervisors/host.js';
import type { Value } from '../policy/values.js';

export type OutcomeKind = 'unchanged' | 'applied' | 'skipped' | 'failed';

export interface Outcome {
  readonly controller: string;
  readonly entity: string;
  readonly control: string;
  readonly outcome: OutcomeKind;
  readonly old: number | null;
  readonly new: number | null;
  readonly reason?: string;
}

export interface ControlContext {
  readonly entities: Entities;
  /** Guest name → the backend's id for it. */
  readonly guestIds: ReadonlyMap<string, string>;
  readonly hypervisor: Hypervisor;
  readonly host: HostSource;
  readonly signal?: AbortSignal;
}

export interface Controller {
  /** MOM's controller name, as listed in mom.conf's `controllers`. */
  readonly name: string;
  /** Statistics fields the controller reads; start-up fails naming the controller if one is missing. */
  readonly needs: { readonly host?: readonly string[]; readonly guest?: readonly string[] };
  reconcile(ctx: ControlContext): Promise<Outcome[]>;
}

/**
 * A control value as the integer to apply: MOM truncates toward zero (3984588.8 → 3984588).
 * A string, list or other value is a policy mistake reported as a string.
 */
export function controlInteger(v: Value): number | string {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : `not a finite number (${v})`;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return `expected a number, got ${v === null ? 'nil' : typeof v === 'string' ? 'a string' : 'a non-number'}`;
}
