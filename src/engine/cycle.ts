// One policy cycle: snapshot → evaluate → apply. It never throws: a not-ready host skips the
// cycle, a policy error applies nothing (as in MOM) and is logged with its position, and a
// controller that fails is logged and counted while the others still run. After several policy
// errors in a row the safe fallback gives guests their memory back slowly (fallback.ts). Every
// outcome goes to the outcome log; the same skip or failure as last cycle is logged at debug
// level only.
import type { Logger } from 'pino';
import {
  controlInteger,
  type Capabilities,
  type Controller,
  type Outcome,
} from '../controllers/controller.js';
import type { Sample } from '../entities/entity.js';
import { controlsOf, type Entities, type Snapshot } from '../entities/snapshot.js';
import { codeOf } from '../errors.js';
import type { Hypervisor } from '../hypervisors/hypervisor.js';
import type { HostSource } from '../hypervisors/host.js';
import { formatDiagnostic, type Value } from '../policy/index.js';
import type { ControlLog } from './control-log.js';
import type { EngineEvents } from './events.js';
import { FALLBACK_REASON, fallbackEntities, type FallbackState, type PolicyFailures } from './fallback.js';
import type { GuestManager } from './guest-manager.js';
import type { Monitor } from './monitors.js';
import type { PolicyEngine } from './policy-engine.js';

export interface CycleDeps {
  readonly hostMonitor: Monitor;
  readonly guests: GuestManager;
  readonly policy: PolicyEngine;
  readonly controllers: readonly Controller[];
  readonly hypervisor: Hypervisor;
  readonly host: HostSource;
  /** Null until the backends were probed. */
  readonly capabilities: () => Capabilities | null;
  readonly controlLog: ControlLog;
  readonly fields: { readonly host: readonly string[]; readonly guest: readonly string[] };
  readonly properties: Readonly<Record<string, unknown>>;
  readonly now: () => number;
  readonly events: EngineEvents;
  readonly log: Logger;
  /** Why this cycle runs early (a pressure rise), or null for a cycle on the interval. */
  readonly woken?: string | null;
  /** Dry run: the policy is evaluated and what it would change is logged; no controller runs. */
  readonly dryRun?: boolean;
  /** Failed evaluations in a row and the safe fallback; without it a failure only holds. */
  readonly failures?: PolicyFailures;
}

/** The reason every outcome of a dry-run cycle carries. */
export const DRY_RUN_REASON = 'dry run: not applied';

export type CycleReport =
  | { readonly status: 'skipped'; readonly reason: string }
  | {
      readonly status: 'policy-error';
      readonly error: string;
      readonly snapshot: Snapshot;
      /** Failures in a row, and since when the fallback acts (null: holding). */
      readonly fallback: FallbackState;
      /** What the fallback did this cycle (none while holding). */
      readonly outcomes: readonly Outcome[];
    }
  | { readonly status: 'done'; readonly outcomes: readonly Outcome[]; readonly snapshot: Snapshot };

/** The snapshot the policy sees now: the host's history and every ready guest's. */
export function buildSnapshot(
  deps: Pick<CycleDeps, 'hostMonitor' | 'guests' | 'fields' | 'properties'>,
): Snapshot {
  return {
    fields: { host: [...deps.fields.host], guest: [...deps.fields.guest] },
    host: { properties: { ...deps.properties }, stats: deps.hostMonitor.history.list() },
    guests: deps.guests.readyMonitors().map((m) => ({
      properties: { name: m.guest.name, uuid: m.guest.uuid, pid: m.guest.pid },
      stats: m.monitor.history.list(),
    })),
  };
}

export async function runPolicyCycle(deps: CycleDeps, signal?: AbortSignal): Promise<CycleReport> {
  const { log, events } = deps;
  const at = deps.now();
  const capabilities = deps.capabilities();
  if (capabilities === null || !deps.hostMonitor.isReady() || deps.hostMonitor.history.length === 0) {
    log.debug('host statistics not ready: policy cycle skipped');
    return { status: 'skipped', reason: 'host not ready' };
  }
  const snapshot = buildSnapshot(deps);
  const evaluated = deps.policy.evaluate(snapshot);
  const failures = deps.failures;
  if (!evaluated.ok) {
    const error = formatDiagnostic(evaluated.error);
    const change = failures?.failed(at) ?? null;
    const state = failures?.state ?? { failures: 1, since: null };
    const acting = state.since !== null;
    log.error(
      { code: evaluated.error.code, policy_error: error, failures: state.failures, fallback: acting },
      `policy evaluation failed, ${acting ? 'safe fallback acting' : 'nothing applied'}: ${error}`,
    );
    events.emit('evaluation', { ok: false, at, code: evaluated.error.code, error });
    if (change === 'entered')
      log.error(
        { code: 'MOM_E_POLICY_FALLBACK', failures: state.failures },
        `the policy failed ${state.failures} cycles in a row: safe fallback on, every guest gets its memory back slowly (no balloon shrinks, no host knob) until the policy evaluates again`,
      );
    let outcomes: Outcome[] = [];
    if (acting && failures !== undefined) {
      const entities = fallbackEntities(snapshot, failures.settings, FALLBACK_REASON);
      const balloon = deps.controllers.filter((c) => c.controls?.includes('balloon_target'));
      outcomes = deps.dryRun
        ? dryRunOutcomes(entities, snapshot, balloon)
        : await reconcileAll(deps, balloon, entities, capabilities, at, signal);
      report(deps, snapshot, outcomes, at, true);
    }
    return { status: 'policy-error', error, snapshot, fallback: state, outcomes };
  }
  if (failures?.succeeded() === 'left')
    log.warn(
      { code: 'MOM_W_POLICY_FALLBACK_OVER' },
      'the policy evaluates again: safe fallback off, the policy is in charge',
    );
  events.emit('evaluation', { ok: true, at, controls: controlsOf(evaluated.entities) });
  const outcomes: Outcome[] = deps.dryRun
    ? dryRunOutcomes(evaluated.entities, snapshot, deps.controllers)
    : await reconcileAll(deps, deps.controllers, evaluated.entities, capabilities, at, signal);
  report(deps, snapshot, outcomes, at);
  return { status: 'done', outcomes, snapshot };
}

/** Runs each controller on the entities; one that throws is a 'failed' outcome, not an exception. */
async function reconcileAll(
  deps: CycleDeps,
  controllers: readonly Controller[],
  entities: Entities,
  capabilities: Capabilities,
  at: number,
  signal: AbortSignal | undefined,
): Promise<Outcome[]> {
  const { log } = deps;
  const guests = new Map(deps.guests.all().map((m) => [m.guest.name, m.guest]));
  const outcomes: Outcome[] = [];
  for (const controller of controllers) {
    try {
      outcomes.push(
        ...(await controller.reconcile({
          entities,
          guests,
          hypervisor: deps.hypervisor,
          host: deps.host,
          capabilities,
          previous: (entity, control) => deps.controlLog.previous(entity, control),
          now: at,
          ...(signal ? { signal } : {}),
        })),
      );
    } catch (err) {
      if (signal?.aborted) throw err;
      const code = codeOf(err) === 'MOM_E_FATAL' ? 'MOM_E_CONTROLLER' : codeOf(err);
      log.error({ controller: controller.name, code, err: (err as Error).message }, 'controller failed');
      outcomes.push({
        controller: controller.name,
        entity: '*',
        control: '*',
        outcome: 'failed',
        old: null,
        new: null,
        reason: `${code}: ${(err as Error).message}`,
      });
    }
  }
  return outcomes;
}

/** Records, logs and emits every outcome, then logs the cycle's summary line. */
function report(
  deps: CycleDeps,
  snapshot: Snapshot,
  outcomes: readonly Outcome[],
  at: number,
  fallback = false,
): void {
  for (const o of outcomes) {
    const changed = deps.controlLog.record(o, at);
    logOutcome(deps.log, o, changed);
    deps.events.emit('outcome', { ...o, at });
  }
  logCycle(deps.log, snapshot, outcomes, deps.woken ?? null, deps.dryRun ?? false, fallback);
}

/** The statistic that holds a control's actual value, to tell what a dry run would change. */
const ACTUAL_OF: Readonly<Record<string, string>> = {
  balloon_target: 'balloon_cur',
  ksm_run: 'ksm_run',
  ksm_pages_to_scan: 'ksm_pages_to_scan',
  ksm_sleep_millisecs: 'ksm_sleep_millisecs',
  ksm_merge_across_nodes: 'ksm_merge_across_nodes',
  vcpu_quota: 'vcpu_quota',
  vcpu_period: 'vcpu_period',
};

/**
 * What a dry-run cycle reports instead of reconciling: each control a configured controller
 * would apply, 'unchanged' when the policy wants the actual value, else 'skipped' with
 * DRY_RUN_REASON. Dead bands and clamping are the controllers' and are not applied here.
 */
function dryRunOutcomes(
  entities: Entities,
  snapshot: Snapshot,
  controllers: readonly Controller[],
): Outcome[] {
  const owner = (control: string): string | undefined =>
    controllers.find((c) => c.controls?.includes(control))?.name;
  const latest = (stats: readonly Sample[]): Sample => stats[stats.length - 1] ?? {};
  const guestStats = new Map(snapshot.guests.map((g) => [g.properties.name, latest(g.stats)]));
  const out: Outcome[] = [];
  const add = (entity: string, controls: ReadonlyMap<string, Value>, stats: Sample): void => {
    for (const [control, value] of controls) {
      const controller = owner(control);
      if (controller === undefined) continue;
      const wanted = controlInteger(value);
      const statName = ACTUAL_OF[control];
      const actual = statName === undefined ? null : stats[statName];
      const old = typeof actual === 'number' ? actual : null;
      const next = typeof wanted === 'number' ? wanted : null;
      const same = old !== null && next !== null && old === next;
      out.push({
        controller,
        entity,
        control,
        outcome: same ? 'unchanged' : 'skipped',
        old,
        new: next,
        desired: next,
        ...(same ? {} : { reason: DRY_RUN_REASON }),
      });
    }
  };
  add('host', entities.host.controls, latest(snapshot.host.stats));
  for (const g of entities.guests) {
    const name = String(g.properties['name']);
    add(name, g.controls, guestStats.get(name) ?? {});
  }
  return out;
}

function logOutcome(log: Logger, o: Outcome, changed: boolean): void {
  const fields = { controller: o.controller, entity: o.entity, control: o.control, old: o.old, new: o.new };
  const withReason = { ...fields, ...(o.reason ? { reason: o.reason } : {}) };
  switch (o.outcome) {
    case 'applied':
      // A control that is no number (a disk's throttle) says what changed in its reason.
      log.info(
        withReason,
        o.old === null && o.new === null && o.reason
          ? `${o.control} of ${o.entity}: ${o.reason}`
          : `${o.control} of ${o.entity}: ${o.old} → ${o.new}`,
      );
      return;
    case 'failed':
      log[changed ? 'warn' : 'debug'](
        { ...withReason, code: 'MOM_W_CONTROL_FAILED' },
        `${o.control} of ${o.entity} failed: ${o.reason}`,
      );
      return;
    case 'skipped':
      log[changed ? 'info' : 'debug'](withReason, `${o.control} of ${o.entity} skipped: ${o.reason}`);
      return;
    case 'unchanged':
      log.debug(withReason, `${o.control} of ${o.entity} unchanged`);
      return;
  }
}

function logCycle(
  log: Logger,
  snapshot: Snapshot,
  outcomes: readonly Outcome[],
  woken: string | null,
  dryRun: boolean,
  fallback: boolean,
): void {
  const latest = snapshot.host.stats[snapshot.host.stats.length - 1] ?? {};
  const total = Number(latest['mem_available'] ?? 0);
  const free = Number(latest['mem_free'] ?? 0);
  const freePct = total > 0 ? Math.round((1000 * free) / total) / 10 : null;
  const psi = latest['psi_some_avg10'];
  const applied = outcomes.filter((o) => o.outcome === 'applied');
  const failed = outcomes.filter((o) => o.outcome === 'failed').length;
  const wouldApply = outcomes.filter((o) => o.outcome === 'skipped' && o.reason === DRY_RUN_REASON);
  const summary = dryRun
    ? `dry run, nothing applied; ${wouldApply.length === 0 ? 'no change wanted' : `would set ${wouldApply.map((o) => `${o.entity}.${o.control}=${o.new}`).join(', ')}`}`
    : applied.length === 0
      ? 'no change'
      : applied.map((o) => `${o.entity}.${o.control}=${o.new}`).join(', ');
  log.info(
    {
      cycle: true,
      host_free_pct: freePct,
      host_mem_total_kib: total > 0 ? total : null,
      psi_some_avg10: typeof psi === 'number' ? psi : null,
      host_swap_in: latest['swap_in'] ?? null,
      host_swap_out: latest['swap_out'] ?? null,
      guests: snapshot.guests.length,
      applied: applied.length,
      failed,
      ...(dryRun ? { dry_run: true, would_apply: wouldApply.length } : {}),
      ...(woken !== null ? { woken } : {}),
      ...(fallback ? { fallback: true } : {}),
    },
    `cycle${woken !== null ? ' (early)' : ''}${fallback ? ' (safe fallback, the policy fails)' : ''}: host free ${freePct ?? '?'}%${typeof psi === 'number' ? `, psi some ${psi}%` : ''}, ${snapshot.guests.length} guests; ${summary}${failed ? `; ${failed} failed` : ''}`,
  );
}
