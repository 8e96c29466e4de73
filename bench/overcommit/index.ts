// bench/overcommit: what momd does to guest performance when the host is overcommitted, measured
// on real QEMU guests (KVM where /dev/kvm is usable, else TCG) inside a memory cgroup that stands
// for the host. Run as root:
//   npm run build && node dist/bench/overcommit/index.js [options]     (--help for the options)
// See docs/benchmarks.md for the metrics and the figures measured on this project's machines.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { guestImage, repoRoot } from '../../test/integration/support/guest-image.js';
import { kvmUsable } from '../../test/integration/support/qemu.js';
import { realGuestsAvailable } from '../../test/integration/support/skip.js';
import { Cleanups } from './cleanup.js';
import {
  createHostSwap,
  machineInfo,
  removeHostSwap,
  removeStaleSwapFiles,
  swapPathFor,
  type MachineInfo,
} from './host.js';
import {
  parseOptions,
  planRuns,
  resolveAccel,
  variantPolicy,
  variantUsesZswap,
  USAGE,
  type Options,
  type PlannedRun,
} from './options.js';
import { hostDemand, workloads } from './patterns.js';
import { runOnce, type RunContext } from './run.js';
import { density, formatTable, summarize, type RunResult, type Variant } from './summary.js';

const say = (msg: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

function readOptions(): Options {
  try {
    return parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`overcommit: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

/** Variants that cannot run here, with the reason (no policy folder; no zswap in this kernel). */
function skippedVariants(opts: Options, repo: string): Array<{ variant: Variant; reason: string }> {
  const skipped: Array<{ variant: Variant; reason: string }> = [];
  for (const variant of opts.variants) {
    const folder = variantPolicy(variant, opts);
    const policy = folder === null ? null : resolve(repo, folder);
    if (policy !== null && !existsSync(policy))
      skipped.push({ variant, reason: `policy folder ${policy} does not exist` });
    else if (variantUsesZswap(variant) && !existsSync('/sys/module/zswap/parameters/enabled'))
      skipped.push({ variant, reason: 'this kernel has no zswap (no /sys/module/zswap; CONFIG_ZSWAP)' });
  }
  return skipped;
}

function defaultJsonPath(repo: string): string {
  const stamp = new Date().toISOString().slice(0, 16).replace('T', '-').replace(':', '');
  return join(repo, 'bench/results', `overcommit-${stamp}.json`);
}

function describe(opts: Options, machine: MachineInfo, runs: PlannedRun[]): void {
  const demand = hostDemand(workloads(opts.pattern, opts.guests, opts.guestMiB));
  say(
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.ramMiB} MiB, kernel ${machine.kernel}, ` +
      `${machine.qemu} (${machine.accel}), node ${machine.node}, zswap ${machine.zswap}, commit ${machine.gitCommit.slice(0, 12)}` +
      (machine.gitDirty ? ' (uncommitted changes)' : ''),
  );
  say(
    `${opts.guests} guests x ${opts.guestMiB} MiB (swap disk ${opts.guestSwapMiB} MiB each), pattern ` +
      `${opts.pattern}: estimated host demand mean ${Math.round(demand.meanMiB)} MiB, peak ` +
      `${Math.round(demand.peakMiB)} MiB; ${runs.length} runs of ${opts.warmupS} s warm-up + ` +
      `${opts.windowS} s window, interleaved`,
  );
}

/** A run's main figures, for the progress log. */
function oneLine(r: RunResult): string {
  const m = r.metrics;
  const mib = (x: number): string => x.toFixed(0);
  return [
    `throughput ${m.throughputMiBs.toFixed(1)} MiB/s`,
    `host swap in/out ${mib(m.hostSwapInMiB)}/${mib(m.hostSwapOutMiB)} MiB`,
    `host zswap in/out ${mib(m.hostZswapInMiB)}/${mib(m.hostZswapOutMiB)} MiB`,
    `guest swap in/out ${mib(m.guestSwapInMiB)}/${mib(m.guestSwapOutMiB)} MiB`,
    `balloon ops ${m.balloonOps}`,
    ...r.notes,
  ].join('; ');
}

function explain(opts: Options): void {
  console.log(
    [
      '',
      `Medians over ${opts.repeats} repeat(s) per row. thr: sum over guests of each guest's mean memload`,
      'throughput in the window (MiB/s). g-swin/g-swout: guest swap in/out (MiB, from the guests',
      '/proc/vmstat); g-paging: share of guest-seconds with a swap-in. h-swin/h-swout: host swap in/out',
      '(MiB written to / read from the swap device, /proc/vmstat: machine-wide); h-zswout: host pages',
      'zswap compressed in RAM instead (MiB, zswpout). psi: /proc/pressure/memory some/full over the window',
      '(machine-wide). OOM: guest OOM kills (whole run); qemu lost: QEMUs that died during the run.',
      'balloon ops: momd balloon changes applied in the window; spikes: cgroup usage crossing 95% of',
      'its limit; react s: median delay from a spike to momd shrinking a balloon; wake s: from a spike',
      "to the end of momd's first policy cycle after it. min g thr: the slowest guest's throughput.",
      'idle rec%: idle guests (idle-heavy) only: the share of their free memory (MemFree when they',
      'went idle) that balloons had taken 60 s later.',
    ].join('\n'),
  );
}

async function main(): Promise<void> {
  const opts = readOptions();
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  const available = realGuestsAvailable();
  if (!available.ok) throw new Error(available.reason);
  const repo = repoRoot();
  const cleanups = new Cleanups();
  let stopping = false;
  const onSignal = (sig: string): void => {
    if (stopping) {
      say(`${sig}: still cleaning up`);
      return;
    }
    stopping = true;
    say(`${sig}: stopping guests and momd, removing the cgroup and the swap file`);
    void cleanups.runAll().then((failures) => {
      for (const f of failures) console.error(`overcommit: clean-up: ${f}`);
      process.exit(130);
    });
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  await guestImage();
  const accel = resolveAccel(opts.accel, kvmUsable());
  const machine = await machineInfo(repo, accel);
  const skipped = skippedVariants(opts, repo);
  const runs = planRuns(opts).filter((r) => !skipped.some((s) => s.variant === r.variant));
  describe(opts, machine, runs);
  for (const s of skipped) say(`variant ${s.variant} skipped: ${s.reason}`);
  if (runs.length === 0) {
    say('nothing to run');
    process.exitCode = 1;
    return;
  }

  for (const path of await removeStaleSwapFiles())
    say(`removed ${path}, the swap file of an earlier invocation that no longer runs`);
  const swapPath = swapPathFor('bench', process.pid);
  // Registered before it is made: a signal while swapon runs still removes it.
  const dropSwap = cleanups.add('host swap', () => removeHostSwap(swapPath));
  await createHostSwap(swapPath, opts.hostSwapMiB);
  say(`host swap file ${swapPath} (${opts.hostSwapMiB} MiB) on`);

  const results: RunResult[] = [];
  const failed: Array<PlannedRun & { error: string }> = [];
  const ctx: RunContext = { opts, accel, repo, cleanups, say };
  try {
    for (const [i, run] of runs.entries()) {
      if (stopping) break;
      const budget = run.budgetPct === null ? 'no limit' : `budget ${run.budgetPct}%`;
      say(`run ${i + 1}/${runs.length}: ${run.variant}, ${budget}, repeat ${run.repeat}`);
      try {
        const r = await runOnce(ctx, run);
        results.push(r);
        say(`  ${oneLine(r)}`);
      } catch (err) {
        failed.push({ ...run, error: (err as Error).message });
        say(`  run failed: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  } finally {
    await dropSwap();
    say('host swap file off and removed');
  }

  const rows = summarize(results);
  console.log('\n' + formatTable(rows));
  explain(opts);
  const densityAnswers = opts.density ? density(rows) : undefined;
  for (const d of densityAnswers ?? [])
    console.log(
      `density: ${d.variant} keeps >= 90% of the ceiling's throughput down to a budget of ` +
        `${d.smallestBudgetPct === null ? '(none of those tried)' : `${d.smallestBudgetPct}%`}`,
    );
  const jsonPath = opts.json ? resolve(opts.json) : defaultJsonPath(repo);
  mkdirSync(dirname(jsonPath), { recursive: true });
  const { help: _help, ...settings } = opts;
  writeFileSync(
    jsonPath,
    JSON.stringify(
      { machine, options: settings, skipped, failed, runs: results, summary: rows, density: densityAnswers },
      null,
      2,
    ) + '\n',
  );
  say(`results written to ${jsonPath}`);
  if (failed.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(`overcommit: ${(err as Error).message}`);
  process.exitCode = 1;
});
