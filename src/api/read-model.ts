// The API's read model: what momd knows of the host, the guests, the policy and its decisions,
// built only from the engine's events (src/engine/events.ts), never from the engine's state. The
// HTTP API and momctl read it; so will the XML-RPC server (getStatistics, getActiveGuests). It
// keeps bounded histories, so its memory does not grow with the daemon's uptime.
import type { Capabilities, Outcome } from '../controllers/controller.js';
import type { Sample } from '../entities/entity.js';
import type { Snapshot } from '../entities/snapshot.js';
import type { EngineEventMap, EngineEvents } from '../engine/events.js';
import type { Json } from '../policy/values.js';
import { Ring } from './ring.js';
import type {
  CycleView,
  DecisionView,
  ErrorView,
  GuestDetailView,
  GuestRowView,
  HostView,
  PolicyFilesView,
  PolicyView,
  SampleView,
  StatusView,
  StreamEvent,
} from './views.js';

/** What the daemon tells the read model once: it does not change while momd runs. */
export interface DaemonFacts {
  readonly version: string;
  readonly pid: number;
  /** Wall-clock milliseconds. */
  readonly startedAt: number;
  /** What the backend is (a reload may replace it). */
  readonly backend: () => Readonly<Record<string, unknown>>;
}

export interface ReadModelOptions {
  /** Host samples kept (default 360: half an hour at 5 s). */
  readonly hostHistory?: number;
  /** Samples kept per guest (default 60). */
  readonly guestHistory?: number;
  /** Decisions kept (default 500). */
  readonly decisions?: number;
  /** Errors kept (default 50). */
  readonly errors?: number;
  /** A guest not collected in this many cycles is gone (default 3). */
  readonly goneAfterCycles?: number;
  /** Wall clock in milliseconds (tests pass their own). */
  readonly now?: () => number;
}

interface ControlState {
  wanted: Record<string, Json>;
  applied: Map<string, DecisionView>;
}

interface GuestState extends ControlState {
  latest: SampleView | null;
  history: Ring<SampleView>;
  lastAction: DecisionView | null;
  /** The cycle count when it was last collected. */
  seenInCycle: number;
}

export type StreamListener = (event: StreamEvent) => void;

export class ReadModel {
  private readonly now: () => number;
  private readonly hostHistory: Ring<SampleView>;
  private readonly host: ControlState = { wanted: {}, applied: new Map() };
  private readonly guestsByName = new Map<string, GuestState>();
  private readonly decisionRing: Ring<DecisionView>;
  private readonly errorRing: Ring<ErrorView>;
  private readonly listeners = new Set<StreamListener>();
  /** The latest outcome of each entity's control, to tell a new decision from a repeated one. */
  private readonly lastOutcomes = new Map<string, DecisionView>();
  private policyState: PolicyFilesView | null = null;
  private rejection: { time: string; errors: string } | null = null;
  private lastCycle: CycleView | null = null;
  private lastSnapshot: Snapshot | null = null;
  private cycles = 0;
  private settings = { dryRun: false, verbosity: 'info' };
  private capabilities: StatusView['capabilities'] = null;
  private fallback: StatusView['policyFallback'] = null;
  private contention: StatusView['contention'] = null;
  private paused: StatusView['paused'] = null;

  constructor(
    private readonly facts: DaemonFacts,
    private readonly options: ReadModelOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.hostHistory = new Ring(options.hostHistory ?? 360);
    this.decisionRing = new Ring(options.decisions ?? 500);
    this.errorRing = new Ring(options.errors ?? 50);
  }

  /** Listens to an engine's events; returns the function that stops listening. */
  attach(events: EngineEvents): () => void {
    const offs = [
      events.on('capabilities', (e) => this.onCapabilities(e)),
      events.on('collection', (e) => this.onCollection(e)),
      events.on('guest', (e) => {
        if (e.change === 'gone') this.forget(e.entity);
      }),
      events.on('evaluation', (e) => this.onEvaluation(e)),
      events.on('outcome', (e) => this.onOutcome(e)),
      events.on('cycle', (e) => this.onCycle(e)),
      events.on('policy', (e) => this.onPolicy(e)),
      events.on('settings', (e) => this.onSettings(e)),
      events.on('contention', (e) => {
        this.contention =
          e.change === 'started'
            ? { since: iso(this.now()), psiFull: e.facts.psiFull, guests: e.facts.guests.map((g) => g.name) }
            : null;
        if (e.change === 'started')
          this.addError({
            kind: 'contention',
            code: 'MOM_E_CONTENTION',
            message: `host memory PSI full ${e.facts.psiFull}% with every guest at its floor or short of memory`,
          });
      }),
      events.on('pause', (e) => {
        this.paused =
          e.change === 'paused' ? { guest: e.guest, since: iso(this.now()), reason: e.reason } : null;
        if (e.change === 'paused')
          this.addError({
            kind: 'contention',
            code: 'MOM_E_CONTENTION_PAUSE',
            message: `paused guest ${e.guest}: ${e.reason}`,
          });
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  /** Cycles, decisions, policy and settings changes as they happen (the event stream). */
  subscribe(listener: StreamListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): StatusView {
    const now = this.now();
    return {
      version: this.facts.version,
      pid: this.facts.pid,
      startedAt: iso(this.facts.startedAt),
      uptimeS: Math.round((now - this.facts.startedAt) / 100) / 10,
      backend: Object.fromEntries(Object.entries(this.facts.backend()).map(([k, v]) => [k, toJsonScalar(v)])),
      capabilities: this.capabilities,
      policy: this.policyState && policySummary(this.policyState),
      lastPolicyRejection: this.rejection,
      lastCycle: this.lastCycle,
      policyFallback: this.fallback,
      contention: this.contention,
      paused: this.paused,
      cycles: this.cycles,
      dryRun: this.settings.dryRun,
      verbosity: this.settings.verbosity,
      guests: this.guestsByName.size,
      recentErrors: this.errorRing.list(10),
    };
  }

  hostView(historyLimit?: number): HostView {
    return {
      latest: this.hostHistory.latest() ?? null,
      history: this.hostHistory.list(historyLimit),
      wanted: this.host.wanted,
      applied: Object.fromEntries(this.host.applied),
    };
  }

  guests(): GuestRowView[] {
    return [...this.guestsByName.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, g]) => guestRow(name, g));
  }

  guest(name: string, historyLimit?: number): GuestDetailView | undefined {
    const g = this.guestsByName.get(name);
    if (g === undefined) return undefined;
    return { ...guestRow(name, g), latest: g.latest?.sample ?? null, history: g.history.list(historyLimit) };
  }

  policy(): PolicyFilesView | null {
    return this.policyState;
  }

  /** The newest decisions, oldest first. */
  decisions(limit?: number): DecisionView[] {
    return this.decisionRing.list(limit);
  }

  /** The snapshot of the last cycle that evaluated the policy, in `momctl policy run --snapshot` form. */
  snapshot(): Snapshot | null {
    return this.lastSnapshot;
  }

  private publish(event: StreamEvent): void {
    for (const l of this.listeners) l(event);
  }

  private onCapabilities(e: Capabilities): void {
    this.capabilities = {
      available: [...e.host.capabilities].sort(),
      missing: Object.fromEntries(e.host.missing),
    };
  }

  private onCollection(e: EngineEventMap['collection']): void {
    const view: SampleView = { time: iso(this.now()), at: e.at, sample: e.sample };
    if (e.scope === 'host') {
      this.hostHistory.push(view);
      return;
    }
    let g = this.guestsByName.get(e.entity);
    if (g === undefined) {
      g = {
        wanted: {},
        applied: new Map(),
        latest: null,
        history: new Ring(this.options.guestHistory ?? 60),
        lastAction: null,
        seenInCycle: this.cycles,
      };
      this.guestsByName.set(e.entity, g);
    }
    g.seenInCycle = this.cycles;
    g.history.push(view);
    // A sample that came incomplete keeps the last complete one as the guest's latest.
    if (e.sample !== null || g.latest === null) g.latest = view;
  }

  private onEvaluation(e: EngineEventMap['evaluation']): void {
    if (!e.ok) {
      this.addError({ kind: 'evaluation', code: e.code, message: e.error });
      return;
    }
    this.host.wanted = e.controls.host;
    for (const [name, g] of this.guestsByName) g.wanted = e.controls.guests[name] ?? {};
  }

  private onOutcome(e: Outcome & { readonly at: number }): void {
    const d: DecisionView = {
      time: iso(this.now()),
      at: e.at,
      controller: e.controller,
      entity: e.entity,
      control: e.control,
      outcome: e.outcome,
      old: e.old,
      new: e.new,
      reason: e.reason ?? null,
    };
    const state: ControlState | undefined = e.entity === 'host' ? this.host : this.guestsByName.get(e.entity);
    state?.applied.set(e.control, d);
    const key = `${e.entity}\u0000${e.control}`;
    const previous = this.lastOutcomes.get(key);
    this.lastOutcomes.set(key, d);
    if (e.outcome === 'failed') this.addError({ kind: 'control', code: null, message: describe(d) });
    // A decision is an action, or a change in why a control is left alone: the same skip every
    // cycle is one decision, not one a cycle.
    const news =
      e.outcome === 'applied' ||
      previous === undefined ||
      previous.outcome !== d.outcome ||
      previous.reason !== d.reason ||
      (d.outcome === 'skipped' && previous.new !== d.new);
    if (e.outcome === 'unchanged' || !news) return;
    if (state !== undefined && state !== this.host) (state as GuestState).lastAction = d;
    this.decisionRing.push(d);
    this.publish({ event: 'decision', data: d });
  }

  private onCycle(e: EngineEventMap['cycle']): void {
    this.cycles++;
    const outcomes = e.status === 'skipped' ? [] : e.outcomes;
    if (e.status === 'done') this.fallback = null;
    else if (e.status === 'policy-error')
      this.fallback =
        e.fallback.since === null
          ? null
          : { since: this.fallback?.since ?? iso(this.now()), failures: e.fallback.failures };
    const view: CycleView = {
      time: iso(this.now()),
      at: e.at,
      durationMs: Math.round(e.durationMs * 1000) / 1000,
      status: e.status,
      detail: e.status === 'skipped' ? e.reason : e.status === 'policy-error' ? e.error : null,
      dryRun: e.dryRun,
      guests: e.status === 'skipped' ? 0 : e.snapshot.guests.length,
      applied: outcomes.filter((o) => o.outcome === 'applied').length,
      failed: outcomes.filter((o) => o.outcome === 'failed').length,
    };
    this.lastCycle = view;
    if (e.status !== 'skipped') this.lastSnapshot = e.snapshot;
    const gone = this.options.goneAfterCycles ?? 3;
    for (const [name, g] of this.guestsByName) if (this.cycles - g.seenInCycle > gone) this.forget(name);
    this.publish({
      event: 'cycle',
      data: { ...view, host: this.hostHistory.latest()?.sample ?? null, guestRows: this.guests() },
    });
  }

  private onPolicy(e: EngineEventMap['policy']): void {
    if (!e.ok) {
      this.rejection = { time: iso(this.now()), errors: e.errors };
      this.addError({ kind: 'policy-rejected', code: 'MOM_W_POLICY_REJECTED', message: e.errors });
      this.publish({ event: 'policy', data: { ok: false, errors: e.errors, origin: e.origin } });
      return;
    }
    this.policyState = {
      files: [...e.files],
      hash: e.hash,
      origin: e.origin,
      loadedAt: iso(this.now()),
      sources: e.sources.map((s) => ({ name: s.file, text: s.text })),
    };
    this.publish({ event: 'policy', data: { ok: true, policy: policySummary(this.policyState) } });
  }

  private onSettings(e: EngineEventMap['settings']): void {
    this.settings = { dryRun: e.dryRun, verbosity: e.verbosity };
    this.publish({ event: 'settings', data: { ...this.settings } });
  }

  /** A guest the hypervisor no longer lists, or not collected for `goneAfterCycles` cycles. */
  private forget(name: string): void {
    this.guestsByName.delete(name);
    for (const key of this.lastOutcomes.keys())
      if (key.startsWith(`${name}\u0000`)) this.lastOutcomes.delete(key);
  }

  private addError(e: Omit<ErrorView, 'time'>): void {
    this.errorRing.push({ time: iso(this.now()), ...e });
  }
}

function guestRow(name: string, g: GuestState): GuestRowView {
  const s: Sample = g.latest?.sample ?? {};
  return {
    name,
    time: g.latest?.time ?? null,
    sizeKib: num(s['balloon_cur']),
    ceilingKib: num(s['balloon_max']),
    floorKib: num(s['balloon_min']),
    availableKib: num(s['mem_usable']),
    unusedKib: num(s['mem_unused']),
    cacheKib: num(s['mem_cache']),
    swapInRate: num(s['swap_in_rate']),
    swapOutRate: num(s['swap_out_rate']),
    stuck: truthy(s['balloon_stuck']),
    optOut: truthy(s['balloon_opt_out']),
    lastAction: g.lastAction,
    wanted: g.wanted,
    applied: Object.fromEntries(g.applied),
  };
}

function policySummary(p: PolicyFilesView): PolicyView {
  return { files: p.files, hash: p.hash, origin: p.origin, loadedAt: p.loadedAt };
}

function describe(d: DecisionView): string {
  return `${d.control} of ${d.entity} failed${d.reason ? `: ${d.reason}` : ''}`;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const truthy = (v: unknown): boolean => v === true || v === 1;
const iso = (ms: number): string => new Date(ms).toISOString();

function toJsonScalar(v: unknown): Json {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  return String(v);
}
