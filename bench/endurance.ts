// Benchmark (issue 12, part 5): load and endurance on the simulated host. 1,000 guests (half
// memknobs waves, half idle) on a host a third too small for them, run through the daemon's own
// engine and tasks for ENDURANCE_HOURS simulated hours (default 24) as fast as the model allows.
// It times every task run (wall clock): a full cycle is one run each of host-monitor,
// guest-monitor and policy-engine (collect, evaluate, apply). It reports the medians and p99s of
// the first and the last simulated hour, and the process's RSS and heap (after a forced GC) at the
// end of the first hour and at the end, so that growth of time or memory shows.
// Run: npm run build && node --expose-gc dist/bench/endurance.js
// ENDURANCE_POLICY (classic, default, none; default classic), ENDURANCE_GUESTS (1000) and
// ENDURANCE_HOURS (24) change what runs. Not part of npm test.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { engineSettings } from '../src/cli/engine-settings.js';
import { policyFor } from '../src/cli/simulate-command.js';
import { loadConfig } from '../src/config/index.js';
import { createEngine } from '../src/engine/engine.js';
import { runTasks, simulatedClock, type PeriodicTask } from '../src/engine/scheduler.js';
import { createSimulatedBackend } from '../src/hypervisors/simulated/index.js';
import { createSimulation, loadScenario } from '../src/sim/index.js';
import { quantile } from './stats.js';

const GUESTS = Number(process.env.ENDURANCE_GUESTS ?? 1000);
const HOURS = Number(process.env.ENDURANCE_HOURS ?? 24);
const POLICY = process.env.ENDURANCE_POLICY ?? 'classic';
const TIMED = ['host-monitor', 'guest-monitor', 'policy-engine'] as const;

/** 1,000 guests of 1 GiB on a host with two thirds of their RAM: half follow waves, half idle. */
function scenarioYaml(guests: number): string {
  const busy = Math.ceil(guests / 2);
  const idle = guests - busy;
  const hostGiB = Math.ceil((guests * 2) / 3);
  return `name: endurance-${guests}
description: ${guests} guests of 1 GiB on ${hostGiB} GiB, half busy in waves, half idle
duration_s: ${HOURS * 3600}
step_s: 1
host: { memory_gib: ${hostGiB}, cpus: ${Math.max(16, Math.ceil(guests / 4))}, os_mib: 2048, cache_mib: 1024, swap_gib: ${Math.ceil(guests / 4)} }
ksm: { run: 0 }
guests:
  - name: busy
    count: ${busy}
    memory_mib: 1024
    balloon_min_mib: 256
    swap_mib: 1024
    image: debian
    workload:
      kind: memknobs
      touch_mib_s: 512
      base_mib: 64
      pattern: { kind: wave, shape: sine, min_mib: 128, max_mib: 896, period_s: 900, period_step_s: 7, phase_s: 0, phase_step_s: 13, jitter_mib: 32, jitter_every_s: 60 }
${
  idle > 0
    ? `  - name: idle
    count: ${idle}
    memory_mib: 1024
    balloon_min_mib: 256
    image: debian
    workload: { kind: idle, touch_mib: 700, keep_mib: 150, boot_s: 20 }
`
    : ''
}`;
}

interface Window {
  readonly runs: Map<string, number[]>;
}

function newWindow(): Window {
  return { runs: new Map(TIMED.map((t) => [t, []])) };
}

interface MemoryReading {
  rssMiB: number;
  heapMiB: number;
  externalMiB: number;
}

function memory(): MemoryReading {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rssMiB: m.rss / 2 ** 20, heapMiB: m.heapUsed / 2 ** 20, externalMiB: m.external / 2 ** 20 };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'momd-endurance-'));
  const file = join(dir, 'endurance.yaml');
  writeFileSync(file, scenarioYaml(GUESTS));
  const scenario = loadScenario(file);
  const sim = createSimulation(scenario, { seed: 1 });
  const ports = createSimulatedBackend(sim);
  const { config } = loadConfig({});
  const settings = engineSettings(config);
  let cycles = 0;
  let errors = 0;
  const engine = createEngine({
    settings,
    hypervisor: ports.hypervisor,
    host: ports.host,
    now: () => sim.now,
    log: pino({ level: 'silent' }),
    policy: policyFor(POLICY),
  });
  engine.events.on('cycle', (r) => {
    cycles++;
    if (r.status === 'policy-error') errors++;
  });

  const first = newWindow();
  const last = newWindow();
  const end = HOURS * 3600;
  let firstHourMemory: MemoryReading | undefined;
  const timed: PeriodicTask[] = engine.tasks.map((task) => ({
    ...task,
    run: async (signal) => {
      const t0 = performance.now();
      await task.run(signal);
      const ms = performance.now() - t0;
      const window = sim.now <= 3600 ? first : sim.now > end - 3600 ? last : undefined;
      window?.runs.get(task.name)?.push(ms);
      if (firstHourMemory === undefined && sim.now > 3600) firstHourMemory = memory();
    },
  }));

  console.log(
    `endurance: ${GUESTS} guests, policy ${POLICY}, ${HOURS} h simulated; intervals: host ${settings.hostMonitorInterval} s, guests ${settings.guestMonitorInterval} s, policy ${settings.policyEngineInterval} s`,
  );
  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, node ${process.version}; GC forced before memory readings: ${typeof (globalThis as { gc?: unknown }).gc === 'function'}`,
  );
  const t0 = performance.now();
  await runTasks(timed, simulatedClock(sim, 'fast'), new AbortController().signal, {
    until: end,
    onError: (task, err) => {
      throw new Error(`task ${task} failed: ${(err as Error).message}`);
    },
  });
  const wallS = (performance.now() - t0) / 1000;
  const endMemory = memory();

  const row = (name: string, w: Window): string => {
    const parts = TIMED.map((t) => {
      const xs = w.runs.get(t) ?? [];
      return `${t} ${quantile(xs, 0.5).toFixed(2)} / ${quantile(xs, 0.99).toFixed(2)} ms (${xs.length})`;
    });
    const full = TIMED.reduce((s, t) => s + quantile(w.runs.get(t) ?? [], 0.5), 0);
    return `${name}: full cycle (median of each task, summed) ${full.toFixed(2)} ms; median / p99: ${parts.join('; ')}`;
  };
  console.log(row('first hour', first));
  console.log(row('last hour ', last));
  const fmt = (m: MemoryReading | undefined): string =>
    m === undefined
      ? '-'
      : `RSS ${m.rssMiB.toFixed(0)} MiB, heap used ${m.heapMiB.toFixed(0)} MiB, external ${m.externalMiB.toFixed(0)} MiB`;
  console.log(`memory after the first hour: ${fmt(firstHourMemory)}; at the end: ${fmt(endMemory)}`);
  const r = sim.results();
  console.log(
    `policy cycles ${cycles} (${errors} with errors), balloon operations ${r.balloon_ops}; wall ${wallS.toFixed(0)} s (model included)`,
  );
}

await main();
