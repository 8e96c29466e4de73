// momd: the daemon. Reads mom.conf (or runs on the built-in simulated host with the shipped
// classic policies when there is none), then runs collect → evaluate → apply until SIGINT/SIGTERM.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type MomConfig } from '../config/index.js';
import { createEngine } from '../engine/engine.js';
import { engineSettings } from './engine-settings.js';
import { PolicyFiles } from '../engine/policy-files.js';
import { realClock, runTasks, simulatedClock, type Clock } from '../engine/scheduler.js';
import { createLinuxHost } from '../collectors/linux/linux-host.js';
import type { Hypervisor } from '../hypervisors/hypervisor.js';
import type { HostSource } from '../hypervisors/host.js';
import { createLibvirtBackend } from '../hypervisors/libvirt/index.js';
import { createQmpBackend } from '../hypervisors/qmp/index.js';
import { createSimulation, loadScenario } from '../sim/index.js';
import { createLogger, type LogFormat } from './logger.js';
import { SHIPPED_POLICIES } from './paths.js';

export interface MomdOptions {
  config?: string;
  scenario?: string;
  seed?: string;
  speed?: string;
  policy?: string;
  policyDir?: string;
  verbosity?: string;
  log?: string;
  logFormat?: LogFormat;
  duration?: number;
}

/** Runs the daemon until the signal aborts (or --duration passes). Returns the exit code. */
export async function runMomd(
  argv: readonly string[],
  signal: AbortSignal,
  stderr: (s: string) => void,
): Promise<number> {
  const program = new Command('momd')
    .description('Memory Overcommitment Manager daemon')
    .option('-c, --config <file>', 'mom.conf to read (default: none, the built-in simulated host)')
    .option('--scenario <name|file>', 'simulated host scenario ([main] simulator-scenario)')
    .option('--seed <n>', 'simulation seed ([main] simulator-seed)')
    .option('--speed <x>', 'simulated seconds per real second ([main] simulator-speed)')
    .option('--policy <file>', 'policy file ([main] policy)')
    .option('--policy-dir <dir>', 'policy directory, *.policy by name ([main] policy-dir)')
    .option('--verbosity <level>', 'debug, info, warn, error or critical ([logging] verbosity)')
    .option('--log <target>', "'stdio' or a file ([logging] log)")
    .option(
      '--log-format <format>',
      "'json' or 'pretty' (default: pretty on a terminal, else json)",
      parseFormat,
    )
    .option('--duration <seconds>', 'stop after this many seconds of (simulated) time', parseSeconds)
    .exitOverride()
    .configureOutput({ writeErr: (s) => stderr(s) });
  let opts: MomdOptions;
  try {
    program.parse([...argv], { from: 'user' });
    opts = program.opts<MomdOptions>();
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }

  let config: MomConfig;
  let warnings: string[];
  try {
    ({ config, warnings } = loadConfig({
      ...(opts.config ? { file: opts.config } : {}),
      overrides: overridesFrom(opts),
    }));
  } catch (err) {
    if (err instanceof ConfigError) {
      stderr(`momd: invalid configuration, not starting:\n${err.message}\n`);
      return 1;
    }
    throw err;
  }

  const log = createLogger({
    verbosity: config.logging.verbosity,
    destination: config.logging.log,
    format: opts.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json'),
  });
  for (const w of warnings) log.warn(w);
  try {
    return await runDaemon(config, opts, log, signal);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'momd cannot run');
    stderr(`momd: ${(err as Error).message}\n`);
    return 1;
  }
}

/** What the daemon runs against: a hypervisor, the host's own state, and the clock to run on. */
interface Backend {
  readonly hypervisor: Hypervisor;
  readonly host: HostSource;
  readonly clock: Clock;
  readonly description: Record<string, unknown>;
  /** Undo what must not outlive the daemon (KSM settings). */
  shutdown(): Promise<void>;
}

function createBackend(config: MomConfig, log: Logger): Backend {
  const main = config.main;
  if (main.hypervisorInterface === 'simulated') {
    const scenario = loadScenario(main.simulatorScenario);
    const sim = createSimulation(scenario, { seed: main.simulatorSeed });
    return {
      hypervisor: sim.hypervisor,
      host: sim.host,
      clock: simulatedClock(sim, main.simulatorSpeed),
      description: {
        hypervisor: 'simulated',
        scenario: scenario.name,
        seed: main.simulatorSeed,
        speed: main.simulatorSpeed,
      },
      shutdown: () => sim.hypervisor.close(),
    };
  }
  const host = createLinuxHost(
    main.hostMemorySource ? { memorySource: { cgroup: main.hostMemorySource } } : {},
  );
  const onWarning = (message: string): void => log.warn({ hypervisor: main.hypervisorInterface }, message);
  const hypervisor =
    main.hypervisorInterface === 'libvirt'
      ? createLibvirtBackend({ uri: main.libvirtHypervisorUri, onWarning })
      : createQmpBackend({ socketGlob: main.qmpSocketGlob, onWarning });
  return {
    hypervisor,
    host,
    clock: realClock,
    description: {
      hypervisor: main.hypervisorInterface,
      ...(main.hypervisorInterface === 'libvirt'
        ? { uri: main.libvirtHypervisorUri }
        : { sockets: main.qmpSocketGlob }),
      host_memory: main.hostMemorySource ?? 'the whole machine',
    },
    async shutdown() {
      await hypervisor.close();
      if (main.ksmRestoreOnExit) {
        try {
          await host.restoreKsm();
          log.info('KSM settings restored to those found at start');
        } catch (err) {
          log.error({ err: (err as Error).message }, 'could not restore the KSM settings');
        }
      }
    },
  };
}

async function runDaemon(
  config: MomConfig,
  opts: MomdOptions,
  log: Logger,
  signal: AbortSignal,
): Promise<number> {
  const backend = createBackend(config, log);
  const usingDefaults = config.file === null && config.main.policy === null && config.main.policyDir === null;
  const policy = usingDefaults
    ? new PolicyFiles(undefined, SHIPPED_POLICIES.classic)
    : new PolicyFiles(config.main.policy ?? undefined, config.main.policyDir ?? undefined);
  const engine = createEngine({
    settings: engineSettings(config),
    hypervisor: backend.hypervisor,
    host: backend.host,
    now: () => backend.clock.now(),
    log,
    policy,
  });
  if (engine.policy.files.length === 0) log.warn('no policy in force: momd monitors and applies nothing');
  log.info(
    { ...backend.description, policy: engine.policy.files },
    `momd started (${Object.entries(backend.description)
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(', ')})`,
  );
  const start = backend.clock.now();
  // A failing task (libvirtd down, say) is logged when its error changes and when it recovers,
  // not on every run.
  const failing = new Map<string, string>();
  try {
    await runTasks(engine.tasks, backend.clock, signal, {
      ...(opts.duration !== undefined ? { until: start + opts.duration } : {}),
      onError: (task, err) => {
        const message = (err as Error).message;
        const level = failing.get(task) === message ? 'debug' : 'error';
        failing.set(task, message);
        log[level]({ task, err: message }, `task ${task} failed: ${message}`);
      },
      onSuccess: (task) => {
        if (failing.delete(task)) log.info({ task }, `task ${task} works again`);
      },
    });
  } finally {
    await backend.shutdown();
  }
  log.info(signal.aborted ? 'momd stopped by signal' : 'momd finished its --duration');
  return 0;
}

function overridesFrom(opts: MomdOptions): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (key: string, v: string | undefined): void => {
    if (v !== undefined) out[key] = v;
  };
  set('main.simulator-scenario', opts.scenario);
  set('main.simulator-seed', opts.seed);
  set('main.simulator-speed', opts.speed);
  set('main.policy', opts.policy);
  set('main.policy-dir', opts.policyDir);
  set('logging.verbosity', opts.verbosity);
  set('logging.log', opts.log);
  return out;
}

function parseFormat(v: string): LogFormat {
  if (v !== 'json' && v !== 'pretty') throw new InvalidArgumentError("expected 'json' or 'pretty'");
  return v;
}
function parseSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}
