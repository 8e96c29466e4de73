// `momctl simulate`: runs a scenario as fast as possible through the same engine and controllers
// as the daemon (only the clock and the backend differ) and reports what the workloads got.
import { existsSync, statSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../config/index.js';
import { createEngine } from '../engine/engine.js';
import { PolicyFiles } from '../engine/policy-files.js';
import { runTasks, simulatedClock } from '../engine/scheduler.js';
import { createSimulatedBackend } from '../hypervisors/simulated/index.js';
import { createSimulation, loadScenario, type SimResults } from '../sim/index.js';
import { createLogger } from './logger.js';
import { engineSettings } from './engine-settings.js';
import { SHIPPED_POLICIES } from './paths.js';
import type { Io } from './policy-command.js';

export interface SimulateOptions {
  scenario: string;
  policy: string;
  duration?: number;
  seed: number;
  json?: boolean;
  config?: string;
  verbose?: boolean;
}

export interface SimulationReport extends SimResults {
  policy: string;
  /** Policy cycles whose evaluation failed (nothing was applied in them). */
  policy_errors: number;
}

/** The policy files for a --policy word: none, default, classic, ksm-only, or a file or directory. */
export function policyFor(choice: string): PolicyFiles | undefined {
  switch (choice) {
    case 'none':
      return undefined;
    case 'default':
      return new PolicyFiles(undefined, SHIPPED_POLICIES.default);
    case 'classic':
      return new PolicyFiles(undefined, SHIPPED_POLICIES.classic);
    case 'ksm-only':
      return new PolicyFiles(SHIPPED_POLICIES.ksmOnly, undefined);
    default:
      if (!existsSync(choice)) {
        throw new InvalidArgumentError(
          `'${choice}' is not none, default, classic, ksm-only, nor an existing file or directory`,
        );
      }
      return statSync(choice).isDirectory()
        ? new PolicyFiles(undefined, choice)
        : new PolicyFiles(choice, undefined);
  }
}

export async function simulate(opts: SimulateOptions): Promise<SimulationReport> {
  const { config } = loadConfig(opts.config ? { file: opts.config } : {});
  const scenario = loadScenario(opts.scenario);
  const duration = opts.duration ?? scenario.duration_s;
  const sim = createSimulation(scenario, { seed: opts.seed });
  const ports = createSimulatedBackend(sim);
  const log = opts.verbose
    ? createLogger({ verbosity: 'info', destination: 'stdio', format: 'json' })
    : pino({ level: 'silent' });
  let policyErrors = 0;
  const policy = policyFor(opts.policy);
  const engine = createEngine({
    settings: engineSettings(config),
    hypervisor: ports.hypervisor,
    host: ports.host,
    now: () => sim.now,
    log,
    policy,
  });
  engine.events.on('cycle', (r) => {
    if (r.status === 'policy-error') policyErrors++;
  });
  if (policy !== undefined && engine.policy.files.length === 0) {
    throw new Error(`the policy '${opts.policy}' could not be loaded (run momctl policy check on it)`);
  }
  await runTasks(engine.tasks, simulatedClock(sim, 'fast'), new AbortController().signal, {
    until: duration,
    onError: (task, err) => {
      throw new Error(`task ${task} failed: ${(err as Error).message}`);
    },
  });
  if (sim.now < duration) sim.advance(duration - sim.now);
  return { ...sim.results(), policy: opts.policy, policy_errors: policyErrors };
}

export function registerSimulateCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('simulate')
    .description('run a simulated scenario as fast as possible through the daemon engine; print the results')
    .requiredOption(
      '--scenario <name|file>',
      'built-in scenario (small, memknobs-32, cloudy-32) or a JSON/YAML file',
    )
    .option('--policy <none|default|classic|ksm-only|DIR|FILE>', 'the policy to run', 'default')
    .option('--duration <seconds>', 'simulated seconds (default: the scenario duration)', positiveNumber)
    .option('--seed <n>', 'random seed', integer, 1)
    .option('--config <file>', 'mom.conf for intervals, collectors and controllers')
    .option('--json', 'print one JSON object instead of a table')
    .option('--verbose', 'print the engine log (JSON lines) while running')
    .action(async (opts: SimulateOptions) => {
      try {
        const report = await simulate(opts);
        io.out(opts.json ? JSON.stringify(report) : formatReport(report));
      } catch (err) {
        io.err(`momctl simulate: ${(err as Error).message}`);
        setExit(1);
      }
    });
}

export function formatReport(r: SimulationReport): string {
  const n = (x: number, d = 0): string =>
    x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    `scenario ${r.scenario}, policy ${r.policy}, ${n(r.duration_s)} s simulated`,
    '',
    `  throughput total (sum of guest means)  ${n(r.throughput_total, 1)} MiB/s`,
    `  host swap in / out                     ${n(r.host_swap_in_pages)} / ${n(r.host_swap_out_pages)} pages`,
    `  guest swap in / out                    ${n(r.guest_swap_in_pages)} / ${n(r.guest_swap_out_pages)} pages`,
    `  guest OOM kills                        ${n(r.guest_oom_kills)}`,
    `  balloon operations                     ${n(r.balloon_ops)}`,
    `  KSM pages sharing (mean)               ${n(r.ksm_pages_sharing_avg)}`,
    `  policy cycles with errors              ${n(r.policy_errors)}`,
    '',
    '  guest            throughput   swap in  swap out  OOM',
    ...r.guests.map(
      (g) =>
        `  ${g.name.padEnd(14)} ${n(g.throughput, 1).padStart(12)} ${n(g.swap_in_pages).padStart(9)} ${n(g.swap_out_pages).padStart(9)} ${String(g.oom_kills).padStart(4)}`,
    ),
  ];
  return lines.join('\n');
}

function positiveNumber(v: string): number {
  const x = Number(v);
  if (!Number.isFinite(x) || x <= 0) throw new InvalidArgumentError('expected a positive number');
  return x;
}
function integer(v: string): number {
  const x = Number(v);
  if (!Number.isInteger(x)) throw new InvalidArgumentError('expected an integer');
  return x;
}
