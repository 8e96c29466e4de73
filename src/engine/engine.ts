// Assembles the daemon: guest manager, host and guest monitors, policy engine, controllers and
// the outcome log, as periodic tasks for the scheduler, and the events the API, metrics and
// dashboard listen to. The daemon (real clock) and `momctl simulate` (simulated clock) both build
// the engine here, so a policy behaves the same in both.
import type { Logger } from 'pino';
import { createControllers } from '../controllers/index.js';
import { missingCapability, type Capabilities, type Controller } from '../controllers/controller.js';
import { BALLOON_DEAD_BAND_KIB } from '../controllers/balloon.js';
import { MomError, type ErrorCode } from '../errors.js';
import {
  GUEST_FIELDS,
  GUEST_GROUPS,
  groupsOfCollectors,
  HOST_FIELDS,
  HOST_GROUPS,
  type HostGroup,
} from '../fields/catalogue.js';
import type { Hypervisor } from '../hypervisors/hypervisor.js';
import type { HostCapability, HostSource } from '../hypervisors/host.js';
import { formatErrors, type PolicySource } from '../policy/index.js';
import { ControlLog } from './control-log.js';
import { runPolicyCycle } from './cycle.js';
import { ContentionWatch } from './contention.js';
import { canPause, ContentionPause, type PauseCandidate } from './contention-pause.js';
import { fileRecord, memoryRecord } from './pause-record.js';
import { DEFAULT_FALLBACK, PolicyFailures } from './fallback.js';
import { EngineEvents } from './events.js';
import { GuestManager } from './guest-manager.js';
import type { GuestLimit } from './guest-limits.js';
import { configuredFields, Monitor, type FieldList } from './monitors.js';
import { PolicyEngine, type LoadOutcome } from './policy-engine.js';
import { PressureWatch } from './pressure-watch.js';
import { policyHash, type PolicyFiles } from './policy-files.js';
import type { PeriodicTask } from './scheduler.js';

export interface EngineSettings {
  readonly hostMonitorInterval: number;
  readonly guestMonitorInterval: number;
  readonly guestManagerInterval: number;
  readonly policyEngineInterval: number;
  /** How often the policy files are checked for changes (MOM's main-loop-interval). */
  readonly mainLoopInterval: number;
  readonly sampleHistoryLength: number;
  /** MOM's collector names: groups of the field catalogue. */
  readonly hostCollectors: readonly string[];
  readonly guestCollectors: readonly string[];
  readonly controllers: readonly string[];
  /** Seconds a balloon may take to start moving toward a new target before it is marked stuck. */
  readonly balloonStuckTimeout?: number;
  /**
   * Failed policy evaluations in a row before the safe fallback gives guests their memory back
   * slowly (fallback.ts); 0: never. Default 3.
   */
  readonly policyFallbackAfter?: number;
  /**
   * Contention (contention.ts): host memory PSI full avg10 (percent) at which, with every guest
   * exhausted for contentionAfter seconds, an episode starts; 0 or undefined: never.
   */
  readonly contentionPsiFull?: number;
  readonly contentionAfter?: number;
  /**
   * The pause step (contention-pause.ts): once an episode has lasted contentionPauseAfter seconds
   * (default 0), pause the running guest with the lowest priority until it ends; default false.
   */
  readonly contentionPause?: boolean;
  readonly contentionPauseAfter?: number;
  /**
   * contention-pause-record: the file that notes the guest momd paused, so that a momd started
   * after one that was killed resumes it; undefined or null: kept in memory only.
   */
  readonly contentionPauseRecord?: string | null;
  /** Per-guest floors, ceilings and opt-outs from the configuration. */
  readonly guestLimits?: readonly GuestLimit[];
  /**
   * Seconds between cheap looks at the host's memory pressure between cycles; a rise runs a
   * cycle at once (at most two a second). 0 or undefined: no looks, cycles on the interval only.
   */
  readonly pressureCheckInterval?: number;
  /** Wake when freeable host memory falls under this fraction (default 0.08). */
  readonly pressureWakeFree?: number;
  /**
   * What the host is, for policies (Host.Prop "memory_source"): 'machine', or 'cgroup' when a
   * memory cgroup stands for it (KSM is machine-wide: a policy leaves it alone then).
   */
  readonly memorySource?: 'machine' | 'cgroup';
  /** Whether momd may drive KSM on a host that is a cgroup (Host.Prop "ksm_owned"). */
  readonly ksmOwned?: boolean;
  /** Whether momd may drive zswap, which is machine-wide (Host.Prop "zswap_owned"); default false. */
  readonly zswapOwned?: boolean;
}

export interface EngineDeps {
  readonly settings: EngineSettings;
  readonly hypervisor: Hypervisor;
  readonly host: HostSource;
  readonly log: Logger;
  /** Seconds on the clock the engine runs on (the scheduler's clock). */
  readonly now: () => number;
  /** Policy files watched for changes, or a fixed set, or none (monitor only). */
  readonly policy: PolicyFiles | readonly PolicySource[] | undefined;
  /**
   * The event bus to emit on. The daemon passes one that outlives each engine (a reload makes a
   * new engine), so its listeners (the API) attach once; by default the engine makes its own.
   */
  readonly events?: EngineEvents;
  /** Dry run: evaluate and log what would be done, apply nothing. Asked at every cycle. */
  readonly dryRun?: () => boolean;
}

export interface Engine {
  readonly tasks: readonly PeriodicTask[];
  /** Cycles, collections, evaluations and outcomes, for any number of listeners. */
  readonly events: EngineEvents;
  readonly policy: PolicyEngine;
  readonly guests: GuestManager;
  readonly hostMonitor: Monitor;
  /**
   * Replaces the policy set; a set that does not parse is rejected and the current one kept.
   * `origin` 'api': the set came from the control API (the files on disk are unchanged).
   */
  setPolicy(sources: readonly PolicySource[], origin?: 'files' | 'api'): LoadOutcome;
  /**
   * Resumes the guest this engine paused for contention, if any (a failure is logged). Called once
   * its tasks have stopped: on a clean shutdown, and before a reload builds a new engine.
   */
  stop(): Promise<void>;
}

/** Which controller applies a control, for the warning about a control no controller applies. */
const CONTROL_OWNERS: Readonly<Record<string, string>> = {
  balloon_target: 'Balloon',
  ksm_run: 'KSM',
  ksm_pages_to_scan: 'KSM',
  ksm_sleep_millisecs: 'KSM',
  ksm_merge_across_nodes: 'KSM',
  zswap_enabled: 'Zswap',
  zswap_max_pool_percent: 'Zswap',
  mem_limit: 'CgroupLimit',
  vcpu_quota: 'CpuTune',
  vcpu_period: 'CpuTune',
  io_tune: 'IoTune',
};

/** MOM's collector that reads a guest's memory through its QEMU guest agent. */
const AGENT_COLLECTOR = 'GuestQemuAgent';

/** The tuning collectors, the capability each needs, and the fields it leaves nil without it. */
const TUNING_GROUPS = [
  {
    group: 'GuestCpuTune',
    capability: 'cpu-tune',
    fields: 'vcpu_quota, vcpu_period, vcpu_user_limit and vcpu_count',
  },
  { group: 'GuestIoTune', capability: 'io-tune', fields: 'io_tune' },
] as const;

/** The warning that names a missing host capability, logged once at start. */
const MISSING_CODES: Readonly<Record<HostCapability, ErrorCode>> = {
  ksm: 'MOM_W_KSM_MISSING',
  'ksmd-cpu': 'MOM_W_KSMD_MISSING',
  psi: 'MOM_W_PSI_MISSING',
  'cgroup-limits': 'MOM_W_CGROUP_LIMITS_MISSING',
  zswap: 'MOM_W_ZSWAP_MISSING',
};

export function createEngine(deps: EngineDeps): Engine {
  const { settings, log } = deps;
  const hostGroups = resolveGroups('host', settings.hostCollectors, HOST_GROUPS) as HostGroup[];
  // MOM's GuestQemuAgent is not a group of its own: it fills GuestMemory's fields through the agent.
  const agentWanted = settings.guestCollectors.some((c) => c.toLowerCase() === AGENT_COLLECTOR.toLowerCase());
  const guestGroups = resolveGroups('guest', groupsOfCollectors(settings.guestCollectors), GUEST_GROUPS);
  const agentUsed =
    agentWanted &&
    deps.hypervisor.capabilities.has('guest-agent') &&
    deps.hypervisor.guestAgentStats !== undefined;
  const controllers = createControllers(settings.controllers);
  const hostFields = configuredFields('host', hostGroups);
  const guestFields = configuredFields('guest', guestGroups);
  checkNeeds(controllers, { host: names(hostFields), guest: names(guestFields) });
  const zswapOwned = settings.zswapOwned ?? false;
  /** A controller the configuration leaves idle (Zswap without zswap-owned): what it lacks is moot. */
  const idle = (c: Controller): boolean => c.name === 'Zswap' && !zswapOwned;

  const events =
    deps.events ??
    new EngineEvents((event, err) =>
      log.error({ event, err: (err as Error).message }, `a listener of ${event} events failed`),
    );
  const controlLog = new ControlLog(BALLOON_DEAD_BAND_KIB);
  const hostMonitor = new Monitor(
    'host',
    hostFields,
    settings.sampleHistoryLength,
    log,
    'MOM_W_HOST_NOT_READY',
  );
  /** A tuning collector is read when configured and the backend can (else its fields are nil). */
  const tuned = (t: (typeof TUNING_GROUPS)[number]): boolean =>
    guestGroups.includes(t.group) &&
    deps.hypervisor.capabilities.has(t.capability) &&
    deps.hypervisor.guestTuning !== undefined;
  const [cpuTuning, ioTuning] = TUNING_GROUPS;
  const guests = new GuestManager(deps.hypervisor, {
    fields: guestFields,
    historyLength: settings.sampleHistoryLength,
    limits: settings.guestLimits ?? [],
    controlLog,
    stuckTimeoutS: settings.balloonStuckTimeout ?? 60,
    tuning: { cpu: tuned(cpuTuning), io: tuned(ioTuning) },
    agent: agentUsed,
    now: deps.now,
    log,
    onSample: (guest, sample) => {
      noteGuestSwapping(guest.name, sample);
      events.emit('collection', { scope: 'guest', entity: guest.name, at: deps.now(), sample });
    },
    onChange: (guest, change, reason) =>
      events.emit('guest', {
        change,
        entity: guest.name,
        at: deps.now(),
        ...(reason !== undefined ? { reason } : {}),
      }),
  });
  const policy = new PolicyEngine(
    (message) => log.debug({ policy_debug: true }, message),
    () => log.isLevelEnabled('debug'),
  );
  const contention = new ContentionWatch({
    psiFull: settings.contentionPsiFull ?? 0,
    afterS: settings.contentionAfter ?? 30,
  });
  const pauseStep = new ContentionPause(
    deps.hypervisor,
    { enabled: settings.contentionPause ?? false, afterS: settings.contentionPauseAfter ?? 0 },
    log,
    (change) => events.emit('pause', { ...change, at: deps.now() }),
    settings.contentionPauseRecord ? fileRecord(settings.contentionPauseRecord) : memoryRecord(),
  );
  /** Every known guest, ranked by pauseOrder from its latest sample. */
  const pauseCandidates = (): PauseCandidate[] =>
    guests.all().map((m) => {
      const s: Readonly<Record<string, unknown>> = m.monitor.history.latest() ?? {};
      const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
      return { id: m.guest.id, name: m.guest.name, shares: num(s['shares']), rssKib: num(s['rss']) };
    });
  const failures = new PolicyFailures({
    ...DEFAULT_FALLBACK,
    afterCycles: settings.policyFallbackAfter ?? DEFAULT_FALLBACK.afterCycles,
  });

  // Guests that started swapping in since their previous sample: a guest short of memory is a
  // reason for an early cycle too, when early cycles are on (a rise only, per guest).
  const swapping = new Set<string>();
  let guestRise: string | null = null;
  const noteGuestSwapping = (name: string, sample: Readonly<Record<string, unknown>> | null): void => {
    const rate = sample?.['swap_in_rate'];
    const now = typeof rate === 'number' && rate > 0;
    if (now && !swapping.has(name)) guestRise ??= `guest ${name} started swapping in (${rate} pages/s)`;
    if (now) swapping.add(name);
    else swapping.delete(name);
  };
  let capabilities: Capabilities | null = null;

  const setPolicy = (sources: readonly PolicySource[], origin: 'files' | 'api' = 'files'): LoadOutcome => {
    const outcome = policy.load(sources);
    if (outcome.ok) {
      const hash = policyHash(sources);
      log.info(
        { files: outcome.files, hash, origin },
        `policy loaded (${outcome.files.length} files${origin === 'api' ? ', through the API' : ''})`,
      );
      events.emit('policy', { ok: true, files: outcome.files, sources, hash, origin });
    } else {
      const errors = formatErrors(outcome.errors);
      log.warn(
        { policy_errors: errors, code: 'MOM_W_POLICY_REJECTED' },
        `policy rejected; ${policy.files.length > 0 ? 'the previous set stays in force' : 'no policy is in force (monitoring only)'}`,
      );
      events.emit('policy', { ok: false, errors, origin });
    }
    return outcome;
  };
  const reloadFromDisk = (): void => {
    if (deps.policy === undefined || Array.isArray(deps.policy)) return;
    try {
      const sources = (deps.policy as PolicyFiles).readIfChanged();
      if (sources) setPolicy(sources);
    } catch (err) {
      log.error(
        { err: (err as Error).message, code: 'MOM_E_POLICY_READ' },
        'cannot read the policy; the previous set stays in force',
      );
    }
  };
  if (Array.isArray(deps.policy)) setPolicy(deps.policy as readonly PolicySource[]);
  else reloadFromDisk();

  /** Finds out once what the backends can do, and says once what cannot be done here. */
  const probe = async (signal: AbortSignal): Promise<Capabilities> => {
    const found: Capabilities = {
      host: await deps.host.probe(signal),
      hypervisor: deps.hypervisor.capabilities,
    };
    const relevant: Record<HostCapability, boolean> = {
      ksm: hostGroups.includes('HostKSM') || controllers.some((c) => c.name === 'KSM'),
      'ksmd-cpu': hostGroups.includes('HostKSM') && found.host.capabilities.has('ksm'),
      psi: hostGroups.includes('HostPressure'),
      'cgroup-limits': controllers.some((c) => c.name === 'CgroupLimit'),
      zswap: controllers.some((c) => c.name === 'Zswap' && !idle(c)),
    };
    for (const [cap, why] of found.host.missing) {
      // zswap's fields are HostMemory's, always collected: one message either way, a warning only
      // when momd was to drive it.
      if (cap === 'zswap' && !relevant.zswap && hostGroups.includes('HostMemory'))
        log.info(
          { capability: cap, code: MISSING_CODES[cap] },
          `${cap} is not available on this host: ${why}`,
        );
      if (!relevant[cap]) continue;
      log.warn({ capability: cap, code: MISSING_CODES[cap] }, `${cap} is not available on this host: ${why}`);
    }
    for (const t of TUNING_GROUPS) {
      if (guestGroups.includes(t.group) && !tuned(t))
        log.warn(
          { collector: t.group, capability: t.capability, code: 'MOM_W_TUNING_MISSING' },
          `${t.group}: the ${deps.hypervisor.name} backend cannot read it (no ${t.capability}): ${t.fields} are nil`,
        );
    }
    if (agentWanted && !agentUsed)
      log.warn(
        { collector: AGENT_COLLECTOR, capability: 'guest-agent', code: 'MOM_W_AGENT_MISSING' },
        `${AGENT_COLLECTOR}: the ${deps.hypervisor.name} backend cannot reach guest agents (no guest-agent): a guest without balloon statistics keeps its memory fields nil`,
      );
    if (pauseStep.settings.enabled && !canPause(deps.hypervisor))
      log.warn(
        { capability: 'pause', code: 'MOM_W_PAUSE_MISSING' },
        `contention-pause: the ${deps.hypervisor.name} backend cannot pause guests (no pause): contention never pauses a guest here`,
      );
    for (const c of controllers) {
      if (idle(c)) continue;
      const why = missingCapability(c, found);
      if (why !== undefined) log.warn({ controller: c.name }, `controller ${c.name} cannot act here: ${why}`);
    }
    events.emit('capabilities', found);
    return found;
  };

  /** When the last policy cycle ran (engine seconds). */
  let lastCycleAt = -Infinity;
  const cycle = async (signal: AbortSignal, woken: string | null): Promise<void> => {
    const started = performance.now();
    const at = deps.now();
    const dryRun = deps.dryRun?.() ?? false;
    lastCycleAt = at;
    const report = await runPolicyCycle(
      {
        hostMonitor,
        guests,
        policy,
        controllers,
        hypervisor: deps.hypervisor,
        host: deps.host,
        capabilities: () => capabilities,
        controlLog,
        // Every field of the catalogue: one whose collector is not configured is nil, as one the
        // kernel lacks, so a policy can test it with (valid ...) instead of failing.
        fields: POLICY_FIELDS,
        properties: {
          interval: settings.policyEngineInterval,
          time: at,
          woken,
          memory_source: settings.memorySource ?? 'machine',
          ksm_owned: settings.ksmOwned ?? (settings.memorySource ?? 'machine') === 'machine',
          zswap_owned: zswapOwned,
        },
        now: deps.now,
        events,
        log,
        woken,
        dryRun,
        failures,
      },
      signal,
    );
    events.emit('cycle', {
      ...report,
      at: deps.now(),
      durationMs: performance.now() - started,
      dryRun,
    });
    if (report.status !== 'skipped') {
      const change = contention.observe(report.snapshot, at);
      if (change?.change === 'started') {
        const { facts } = change;
        log.error(
          { code: 'MOM_E_CONTENTION', psi_full: facts.psiFull, guests: facts.guests },
          `contention: host memory PSI full ${facts.psiFull}% for ${facts.sinceS} s with every guest at its floor or short of memory (${facts.guests.map((g) => g.name).join(', ')}): ballooning cannot help; a guest must move or stop`,
        );
        events.emit('contention', { change: 'started', at, facts });
      } else if (change?.change === 'ended') {
        log.warn(
          { code: 'MOM_W_CONTENTION_OVER', duration_s: change.durationS },
          `contention over after ${change.durationS} s: host memory PSI full calm again`,
        );
        events.emit('contention', { change: 'ended', at, durationS: change.durationS });
      }
      const psi = report.snapshot.host.stats.at(-1)?.['psi_full_avg10'];
      await pauseStep.step(
        { since: contention.since, psiFull: typeof psi === 'number' ? psi : null },
        at,
        pauseCandidates,
        dryRun,
        signal,
      );
    }
  };

  // A control the policy sets that no configured controller applies does nothing: say so, once.
  const handled = new Set(controllers.flatMap((c) => [...(c.controls ?? [])]));
  const unhandled = new Set<string>();
  events.on('evaluation', (e) => {
    if (!e.ok) return;
    const names = [
      ...Object.keys(e.controls.host),
      ...Object.values(e.controls.guests).flatMap((g) => Object.keys(g)),
    ];
    for (const n of names) {
      if (handled.has(n) || unhandled.has(n)) continue;
      unhandled.add(n);
      const by = CONTROL_OWNERS[n];
      log.warn(
        { control: n, code: 'MOM_W_CONTROL_UNHANDLED' },
        `the policy sets ${n}, which no configured controller applies${by ? ` (add ${by} to controllers)` : ''}: it does nothing`,
      );
    }
  });

  const collectHost = async (signal: AbortSignal): Promise<void> => {
    capabilities ??= await probe(signal);
    let sample = null;
    try {
      sample = hostMonitor.record(await deps.host.read(new Set(hostGroups), signal), deps.now());
    } catch (err) {
      if (signal.aborted) throw err;
      hostMonitor.failed((err as Error).message);
    }
    events.emit('collection', { scope: 'host', entity: 'host', at: deps.now(), sample });
  };

  const tasks: PeriodicTask[] = [
    { name: 'guest-manager', intervalS: settings.guestManagerInterval, run: (s) => guests.refresh(s) },
    { name: 'host-monitor', intervalS: settings.hostMonitorInterval, run: collectHost },
    {
      name: 'guest-monitor',
      intervalS: settings.guestMonitorInterval,
      run: async (signal) => {
        guestRise = null;
        await guests.collect(signal);
        // Set by the collection above (through onSample), which TypeScript cannot see.
        const why = guestRise as string | null;
        if (why !== null && earlyCycleAllowed()) {
          log.info({ woken: why }, `pressure: ${why}; a cycle now`);
          await collectHost(signal);
          await cycle(signal, why);
        }
      },
    },
    { name: 'policy-engine', intervalS: settings.policyEngineInterval, run: (signal) => cycle(signal, null) },
  ];
  const checkEvery = settings.pressureCheckInterval ?? 0;
  /**
   * Early cycles are on; at most one per EARLY_CYCLE_GAP_S, and none when the regular one is about
   * due.
   */
  function earlyCycleAllowed(): boolean {
    if (checkEvery <= 0 || capabilities === null) return false;
    const sinceLast = deps.now() - lastCycleAt;
    return sinceLast >= EARLY_CYCLE_GAP_S && settings.policyEngineInterval - sinceLast >= checkEvery;
  }
  if (checkEvery > 0) {
    const watch = new PressureWatch({ wakeFree: settings.pressureWakeFree ?? 0.08, wakeStall: 0.05 });
    const groups = new Set<HostGroup>(['HostMemory', 'HostPressure']);
    tasks.push({
      name: 'pressure-watch',
      intervalS: checkEvery,
      run: async (signal) => {
        if (capabilities === null) return;
        const why = watch.check(await deps.host.read(groups, signal), deps.now());
        if (why === null) return;
        if (!earlyCycleAllowed()) return watch.refused();
        log.info({ woken: why }, `pressure: ${why}; a cycle now`);
        await collectHost(signal);
        await guests.collect(signal);
        await cycle(signal, why);
      },
    });
  }
  if (deps.policy !== undefined && !Array.isArray(deps.policy)) {
    tasks.push({
      name: 'policy-reload',
      intervalS: settings.mainLoopInterval,
      run: async () => reloadFromDisk(),
    });
  }
  const stop = (): Promise<void> =>
    pauseStep.release('momd stops managing it (shutdown or reload)', deps.now(), AbortSignal.timeout(30_000));
  return { tasks, events, policy, guests, hostMonitor, setPolicy, stop };
}

/**
 * Seconds between the starts of two early cycles at the least: with looks every 0.5 s (the
 * default pressure-check-interval), one early cycle per look, two a second. A cycle costs
 * 0.1-0.2 s on the benchmark's TCG guests (docs/benchmarks.md), which leaves the CPUs to the
 * guests; one a second made the second wake of a spike (free memory short, then shorter, then
 * swapping) come too late to act within a second of it. Under the look period, because a cycle
 * starts after the look's own reading and collection.
 */
const EARLY_CYCLE_GAP_S = 0.4;

const POLICY_FIELDS = { host: Object.keys(HOST_FIELDS), guest: Object.keys(GUEST_FIELDS) };

function names(fields: FieldList): string[] {
  return fields.map(([n]) => n);
}

/** The configured collector names as catalogue groups (case-insensitive); unknown → MOM_E_SETUP. */
function resolveGroups(scope: string, names: readonly string[], known: readonly string[]): string[] {
  return names.map((name) => {
    const g = known.find((k) => k.toLowerCase() === name.toLowerCase());
    if (g === undefined)
      throw new MomError('MOM_E_SETUP', `unknown ${scope} collector '${name}' (known: ${known.join(', ')})`);
    return g;
  });
}

/** Start-up check: every field a controller reads must be declared by a configured collector. */
function checkNeeds(controllers: readonly Controller[], fields: { host: string[]; guest: string[] }): void {
  const problems: string[] = [];
  for (const c of controllers) {
    for (const scope of ['host', 'guest'] as const) {
      for (const need of c.needs[scope] ?? []) {
        if (!fields[scope].includes(need)) {
          problems.push(
            `controller ${c.name} needs the ${scope} field '${need}', which no configured ${scope} collector provides`,
          );
        }
      }
    }
  }
  if (problems.length > 0) throw new MomError('MOM_E_SETUP', problems.join('\n'));
}
