// What a controller is: it applies one kind of control. Level-based: each cycle it compares what
// the policy asked for with the actual state in the same snapshot, acts only on a difference
// beyond its dead band, and reports an outcome that completes the sentence
// "<control> of <entity> was <outcome>". What it sent in earlier cycles comes from the engine's
// outcome log (ControlRecord), read through the context; a controller keeps no state of its own
// and never imports the engine.
import type { Entities } from '../entities/snapshot.js';
import type { HostCapability, HostProbe, HostSource } from '../hypervisors/host.js';
import type { GuestInfo, Hypervisor, HypervisorCapability } from '../hypervisors/hypervisor.js';
import type { Value } from '../policy/values.js';

export type OutcomeKind = 'unchanged' | 'applied' | 'skipped' | 'failed';

export interface Outcome {
  readonly controller: string;
  readonly entity: string;
  readonly control: string;
  readonly outcome: OutcomeKind;
  /** The actual value before this cycle's action (null: unknown). */
  readonly old: number | null;
  /** The value applied ('applied'), or the value wanted. */
  readonly new: number | null;
  /** The value the policy wanted, after truncation and clamping; the outcome log keys re-sends on it. */
  readonly desired?: number | null;
  readonly reason?: string;
}

/** What the engine remembers of one control of one entity from earlier cycles. */
export interface ControlRecord {
  /** The desired value last sent, the value actually sent for it, and when (engine seconds). */
  readonly desired: number | null;
  readonly sent: number | null;
  readonly sentAt: number | null;
  /** Sends of the same desired value since the first, without the actual state reaching it. */
  readonly resends: number;
  /** When the actual state was last seen at or moving toward `sent` (or when first sent). */
  readonly movedAt: number | null;
  /** When the actual state was last seen moving away from `sent` (reset behind momd's back). */
  readonly disturbedAt: number | null;
  /** The latest outcome and its reason. */
  readonly outcome: OutcomeKind | null;
  readonly reason: string | null;
}

/** What the backends can do, as found at start. */
export interface Capabilities {
  readonly host: HostProbe;
  readonly hypervisor: ReadonlySet<HypervisorCapability>;
}

export interface ControlContext {
  readonly entities: Entities;
  /** Guest name → the backend's guest (id, uuid, pid), from its latest listing. */
  readonly guests: ReadonlyMap<string, GuestInfo>;
  readonly hypervisor: Hypervisor;
  readonly host: HostSource;
  readonly capabilities: Capabilities;
  /** The engine's record of a control from earlier cycles; undefined when never acted on. */
  previous(entity: string, control: string): ControlRecord | undefined;
  /** Seconds on the engine's clock. */
  readonly now: number;
  readonly signal?: AbortSignal;
}

export interface Controller {
  /** MOM's controller name, as listed in mom.conf's `controllers`. */
  readonly name: string;
  /** Statistics fields the controller reads; start-up fails naming the controller if one is missing. */
  readonly needs: { readonly host?: readonly string[]; readonly guest?: readonly string[] };
  /** The controls it applies (a control no configured controller applies is warned about). */
  readonly controls?: readonly string[];
  /** Host capabilities without which it cannot act (said once at start, then in each outcome). */
  readonly requires?: {
    readonly host?: readonly HostCapability[];
    readonly hypervisor?: readonly HypervisorCapability[];
  };
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

/** A statistic of the newest sample as a number; null when missing or not a number. */
export function numberOrNull(v: unknown): number | null {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  return null;
}

/** Why a controller cannot act here, or undefined when every capability it requires is present. */
export function missingCapability(c: Controller, caps: Capabilities): string | undefined {
  for (const cap of c.requires?.host ?? []) {
    if (!caps.host.capabilities.has(cap)) return caps.host.missing.get(cap) ?? `the host has no ${cap}`;
  }
  for (const cap of c.requires?.hypervisor ?? []) {
    if (!caps.hypervisor.has(cap)) return `the hypervisor backend cannot do ${cap}`;
  }
  return undefined;
}

/** The policy's reason and the controller's own note, as one text; undefined when neither. */
export function joinReasons(...parts: Array<string | undefined>): string | undefined {
  const text = parts.filter((p): p is string => p !== undefined && p !== '').join('; ');
  return text === '' ? undefined : text;
}
