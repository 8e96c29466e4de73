// Assembles the daemon: guest manager, host and guest monitors, policy engine and controllers,
// as periodic tasks for the scheduler. The daemon (real clock) and `momctl simulate` (simulated
// clock) both build the engine here, so a policy behaves the same in both.
import type { Logger } from 'pino';
import { resolveCollectors } from '../collectors/index.js';
import { createControllers } from '../controllers/index.js';
import type { Controller } from '../controllers/controller.js';
import type { Hypervisor } from '../hypervisors/hypervisor.js';
import type { HostSource } from '../hypervisors/host.js';
import { formatErrors, type PolicySource } from '../policy/index.js';
import { runPolicyCycle, type CycleReport } from './cycle.js';
import { BalloonWatch } from './balloon-watch.js';
import { GuestManager } from './guest-manager.js';
import { declaredFields, HostMonitor } from './monitors.js';
import { PolicyEngine, type LoadOutcome } from './policy-engine.js';
import type { PolicyFiles } from './policy-files.js';
import type { PeriodicTask } from './scheduler.js';

export interface EngineSettings {
  readonly hostMonitorInterval: number;
  readonly guestMonitorInterval: number;
  readonly guestManagerInterval: number;
  readonly policyEngineInterval: number;
  /** How often the policy files are checked for changes (MOM's main-loop-interval). */
  readonly mainLoopInterval: number;
  readonly sampleHistoryLength: number;
  readonly hostCollectors: readonly string[];
  readonly guestCollectors: readonly string[];
  readonly controllers: readonly string[];
  /** Seconds a balloon may take to start moving toward a new target before it is marked stuck. */
  readonly balloonStuckTimeout?: number;
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
  /** Called after every policy cycle (the simulator's harness and tests listen here). */
  readonly onCycle?: (report: CycleReport) => void;
}

export interface Engine {
  readonly tasks: readonly PeriodicTask[];
  readonly policy: PolicyEngine;
  readonly guests: GuestManager;
  readonly hostMonitor: HostMonitor;
  /** Replaces the policy set; a set that does not parse is rejected and the current one kept. */
  setPolicy(sources: readonly PolicySource[]): LoadOutcome;
}

export class EngineConfigError extends Error {}

export function createEngine(deps: EngineDeps): Engine {
  const { settings, log } = deps;
  const hostSpecs = resolveCollectors('host', settings.hostCollectors);
  const guestSpecs = resolveCollectors('guest', settings.guestCollectors);
  const balloonWatch = new BalloonWatch(settings.balloonStuckTimeout ?? 60, deps.now, log);
  const controllers = createControllers(settings.controllers, { balloonWatch });
  const hostFields = declaredFields(hostSpecs);
  const guestFields = declaredFields(guestSpecs);
  checkNeeds(controllers, {
    host: [...hostFields.mandatory, ...hostFields.optional],
    guest: [...guestFields.mandatory, ...guestFields.optional],
  });

  const hostMonitor = new HostMonitor(hostSpecs, deps.host, settings.sampleHistoryLength, log);
  const guests = new GuestManager(deps.hypervisor, guestSpecs, settings.sampleHistoryLength, log, {
    balloonWatch,
  });
  const policy = new PolicyEngine((message) => log.debug({ policy_debug: true }, message));

  const setPolicy = (sources: readonly PolicySource[]): LoadOutcome => {
    const outcome = policy.load(sources);
    if (outcome.ok) log.info({ files: outcome.files }, `policy loaded (${outcome.files.length} files)`);
    else
      log.error(
        { policy_errors: formatErrors(outcome.errors) },
        `policy rejected; ${policy.files.length > 0 ? 'the previous set stays in force' : 'no policy is in force (monitoring only)'}`,
      );
    return outcome;
  };
  const reloadFromDisk = (): void => {
    if (deps.policy === undefined || Array.isArray(deps.policy)) return;
    try {
      const sources = (deps.policy as PolicyFiles).readIfChanged();
      if (sources) setPolicy(sources);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'cannot read the policy; the previous set stays in force');
    }
  };
  if (Array.isArray(deps.policy)) setPolicy(deps.policy as readonly PolicySource[]);
  else reloadFromDisk();

  const tasks: PeriodicTask[] = [
    { name: 'guest-manager', intervalS: settings.guestManagerInterval, run: (s) => guests.refresh(s) },
    {
      name: 'host-monitor',
      intervalS: settings.hostMonitorInterval,
      run: (s) => hostMonitor.collect(s).then(() => {}),
    },
    { name: 'guest-monitor', intervalS: settings.guestMonitorInterval, run: (s) => guests.collect(s) },
    {
      name: 'policy-engine',
      intervalS: settings.policyEngineInterval,
      run: async (signal) => {
        const report = await runPolicyCycle(
          {
            hostMonitor,
            guests,
            policy,
            controllers,
            hypervisor: deps.hypervisor,
            host: deps.host,
            fields: {
              host: [...hostFields.mandatory, ...hostFields.optional],
              guest: [...guestFields.mandatory, ...guestFields.optional],
            },
            properties: { interval: settings.policyEngineInterval },
            log,
          },
          signal,
        );
        deps.onCycle?.(report);
      },
    },
  ];
  if (deps.policy !== undefined && !Array.isArray(deps.policy)) {
    tasks.push({
      name: 'policy-reload',
      intervalS: settings.mainLoopInterval,
      run: async () => reloadFromDisk(),
    });
  }
  return { tasks, policy, guests, hostMonitor, setPolicy };
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
  if (problems.length > 0) throw new EngineConfigError(problems.join('\n'));
}
