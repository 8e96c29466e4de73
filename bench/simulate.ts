// Benchmark: seed 002's comparison on the simulated host. Runs memknobs-32 and cloudy-32 for one
// simulated hour under no policy, KSM only, the classic balloon + KSM policy and momd's default
// policy, through the same engine as the daemon, and prints the table with the wall time of each run.
// Run with `npm run bench` (not part of `npm test`). SIM_SEEDS=3 averages over seeds 1..3;
// SIM_SCENARIOS and SIM_POLICIES (comma-separated) choose the rows.
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { simulate, type SimulationReport } from '../src/cli/simulate-command.js';

const SEEDS = Number(process.env.SIM_SEEDS ?? 1);
const scenarios = (process.env.SIM_SCENARIOS ?? 'memknobs-32,cloudy-32').split(',');
const policies = (process.env.SIM_POLICIES ?? 'none,ksm-only,classic,default').split(',');

console.log(
  `simulate: ${scenarios.join(', ')} x ${policies.join(', ')}, seeds 1..${SEEDS}, 3600 s simulated each`,
);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, node ${process.version}`);
console.log(
  'scenario      policy      throughput   host swap in/out          guest swap in/out         OOM  balloon ops  wall s',
);
for (const scenario of scenarios) {
  for (const policy of policies) {
    const runs: SimulationReport[] = [];
    const walls: number[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const t0 = performance.now();
      runs.push(await simulate({ scenario, policy, seed, duration: 3600 }));
      walls.push((performance.now() - t0) / 1000);
    }
    const mean = (f: (r: SimulationReport) => number): number =>
      runs.reduce((s, r) => s + f(r), 0) / runs.length;
    const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
    walls.sort((a, b) => a - b);
    console.log(
      [
        scenario.padEnd(13),
        policy.padEnd(11),
        mean((r) => r.throughput_total)
          .toFixed(1)
          .padStart(10),
        `${fmt(mean((r) => r.host_swap_in_pages))} / ${fmt(mean((r) => r.host_swap_out_pages))}`.padStart(24),
        `${fmt(mean((r) => r.guest_swap_in_pages))} / ${fmt(mean((r) => r.guest_swap_out_pages))}`.padStart(
          24,
        ),
        fmt(mean((r) => r.guest_oom_kills)).padStart(4),
        fmt(mean((r) => r.balloon_ops)).padStart(12),
        (walls[Math.floor(walls.length / 2)] ?? 0).toFixed(2).padStart(7),
      ].join('  '),
    );
  }
}
console.log(
  'throughput: sum over guests of each guest mean (MiB/s, seed 002 score); swap in pages; wall: median',
);
