// Replay: evaluates another policy set on each recorded cycle's snapshot (rebuilt with its rolling
// history, history.ts) with the policy engine momd runs, and compares what it asks for with what
// the recorded policy asked for. Open-loop: the recorded statistics followed the recorded
// decisions, so the replayed policy sees a host it did not shape (docs/record-replay.md).
//
// The numbers, per entity (the host and each guest), over the replayed cycles:
// - reclaimed (KiB): the sum over cycles of balloon_cur − balloon_target where the policy set a
//   balloon_target under the guest's balloon_cur at that cycle (its newest sample); a target at or
//   above it adds nothing. The policy's wish, truncated to an integer as the Balloon controller
//   does, before that controller's floors and ceilings.
// - actions: the controls set to a value that differs from the current one: balloon_target from
//   balloon_cur by more than the Balloon controller's dead band, any other control from the
//   entity's statistic of the same name (a control with no such statistic is not counted).
// - differences: the cycles where the two policies leave a control at different values, a control
//   that is not set counting as left at its current value; the largest first.
// Only numeric controls are compared (io_tune's lists are not).
import { BALLOON_DEAD_BAND_KIB } from '../controllers/balloon.js';
import type { Sample } from '../entities/entity.js';
import { controlsOf, type ControlsJson } from '../entities/snapshot.js';
import type { PolicyEngine } from '../engine/policy-engine.js';
import { formatDiagnostic } from '../policy/index.js';
import type { Json } from '../policy/values.js';
import { RecordedHistory } from './history.js';
import type { RecordEntry } from './reader.js';

export interface Difference {
  /** The cycle's wall-clock time (ISO 8601) and engine seconds. */
  readonly time: string;
  readonly at: number;
  readonly control: string;
  /** The entity's current value of the control then (balloon_cur for balloon_target); null: unknown. */
  readonly current: number | null;
  /** What each policy set; null: it did not set it (left at the current value). */
  readonly recorded: number | null;
  readonly replayed: number | null;
}

export interface EntityReplay {
  /** 'host' or the guest's name. */
  readonly entity: string;
  /** Replayed cycles this entity was in. */
  readonly cycles: number;
  readonly reclaimedKib: { readonly recorded: number; readonly replayed: number };
  readonly actions: { readonly recorded: number; readonly replayed: number };
  /** The largest differences, largest first (at most `top`). */
  readonly differences: readonly Difference[];
}

export interface ReplayReport {
  /** Cycles replayed (those with a snapshot), and skipped cycles passed over. */
  readonly cycles: number;
  readonly skipped: number;
  /** Wall-clock times of the first and last replayed cycle. */
  readonly from: string | null;
  readonly to: string | null;
  /** The recorded policy sets' sha256, in the order they came. */
  readonly recordedPolicies: readonly string[];
  /** Recorded cycles whose policy failed (it set nothing). */
  readonly recordedErrors: number;
  /** Cycles where the replayed policy failed (it set nothing), and its first error. */
  readonly replayErrors: { readonly cycles: number; readonly first: string | null };
  /** The host first, then the guests by name. */
  readonly entities: readonly EntityReplay[];
}

export interface ReplayOptions {
  /** Differences kept per entity (default 3). */
  readonly top?: number;
}

interface Tally {
  cycles: number;
  reclaimed: { recorded: number; replayed: number };
  actions: { recorded: number; replayed: number };
  differences: Difference[];
}

/** Replays the recorded cycles under `policy` (an engine holding the set to try). */
export async function replayRecording(
  entries: AsyncIterable<RecordEntry>,
  policy: PolicyEngine,
  opts: ReplayOptions = {},
): Promise<ReplayReport> {
  const top = opts.top ?? 3;
  const history = new RecordedHistory();
  const tallies = new Map<string, Tally>();
  const policies: string[] = [];
  let cycles = 0;
  let skipped = 0;
  let recordedErrors = 0;
  let replayErrors = 0;
  let firstError: string | null = null;
  let from: string | null = null;
  let to: string | null = null;
  for await (const entry of entries) {
    const { cycle } = entry;
    const snapshot = history.next(entry);
    if (snapshot === null) {
      skipped++;
      continue;
    }
    cycles++;
    from ??= cycle.time;
    to = cycle.time;
    if (cycle.policyHash !== null && policies.at(-1) !== cycle.policyHash) policies.push(cycle.policyHash);
    if (cycle.status === 'policy-error') recordedErrors++;
    const recorded = cycle.status === 'done' && cycle.controls !== null ? cycle.controls : NONE;
    const evaluated = policy.evaluate(snapshot);
    let replayed = NONE;
    if (evaluated.ok) replayed = controlsOf(evaluated.entities);
    else {
      replayErrors++;
      firstError ??= `${cycle.time}: ${formatDiagnostic(evaluated.error)}`;
    }
    const compare = (entity: string, stats: readonly Sample[], rec: ControlsMap, rep: ControlsMap): void => {
      let t = tallies.get(entity);
      if (t === undefined)
        tallies.set(
          entity,
          (t = {
            cycles: 0,
            reclaimed: { recorded: 0, replayed: 0 },
            actions: { recorded: 0, replayed: 0 },
            differences: [],
          }),
        );
      t.cycles++;
      const sample: Sample = stats.at(-1) ?? {};
      for (const control of new Set([...Object.keys(rec), ...Object.keys(rep)])) {
        const current = currentOf(control, sample);
        const r = numeric(rec[control]);
        const p = numeric(rep[control]);
        if (control === 'balloon_target' && current !== null) {
          if (r !== null) t.reclaimed.recorded += Math.max(0, current - r);
          if (p !== null) t.reclaimed.replayed += Math.max(0, current - p);
        }
        if (isAction(control, r, current)) t.actions.recorded++;
        if (isAction(control, p, current)) t.actions.replayed++;
        const a = r ?? current;
        const b = p ?? current;
        if (a !== null && b !== null && a !== b) {
          t.differences.push({ time: cycle.time, at: cycle.at, control, current, recorded: r, replayed: p });
          if (t.differences.length > 4 * top) t.differences = largest(t.differences, top);
        }
      }
    };
    compare('host', snapshot.host.stats, recorded.host, replayed.host);
    for (const g of snapshot.guests) {
      const name = g.properties.name;
      compare(name, g.stats, recorded.guests[name] ?? {}, replayed.guests[name] ?? {});
    }
  }
  const entities = [...tallies.entries()]
    .sort(([a], [b]) => (a === 'host' ? -1 : b === 'host' ? 1 : a.localeCompare(b)))
    .map(([entity, t]) => ({
      entity,
      cycles: t.cycles,
      reclaimedKib: t.reclaimed,
      actions: t.actions,
      differences: largest(t.differences, top),
    }));
  return {
    cycles,
    skipped,
    from,
    to,
    recordedPolicies: policies,
    recordedErrors,
    replayErrors: { cycles: replayErrors, first: firstError },
    entities,
  };
}

type ControlsMap = Readonly<Record<string, Json>>;
const NONE: ControlsJson = { host: {}, guests: {} };

/** The size of a difference; ties keep the earlier cycle first. */
function largest(ds: readonly Difference[], top: number): Difference[] {
  const size = (d: Difference): number =>
    Math.abs((d.recorded ?? d.current ?? 0) - (d.replayed ?? d.current ?? 0));
  return [...ds].sort((x, y) => size(y) - size(x) || x.at - y.at).slice(0, top);
}

/** The entity's current value of a control: balloon_cur for balloon_target, else its namesake. */
function currentOf(control: string, sample: Sample): number | null {
  const v = sample[control === 'balloon_target' ? 'balloon_cur' : control];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

/** A control's value as the integer a controller applies (truncated); null when not a number. */
function numeric(v: Json | undefined): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return null;
}

function isAction(control: string, value: number | null, current: number | null): boolean {
  if (value === null || current === null) return false;
  return control === 'balloon_target' ? Math.abs(value - current) > BALLOON_DEAD_BAND_KIB : value !== current;
}
