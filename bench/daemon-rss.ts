// Benchmark (issue 12, part 5): the resident memory of the real daemon watching GUESTS simulated
// guests in real time, as an administrator would see it in `top`. momd runs with the bench's load
// scenario (bench/load-scenario.ts), a policy directory (POLICY, default the shipped default), the
// default intervals (guests every 5 s, the policy every 10 s) and its API socket open. After the
// first cycle with every guest and WARMUP_S more seconds, VmRSS, RssAnon and RssFile are read from
// /proc/PID/status every 5 s for SAMPLE_S seconds; VmHWM (the peak) and momd's CPU over the window
// at the end. Each variant (NODE_OPTIONS values, `|`-separated; empty: none) runs ROUNDS times,
// the variants alternating, the order reversed every other round.
// Run: npm run build && node dist/bench/daemon-rss.js   (GUESTS, POLICY, WARMUP_S, SAMPLE_S, ROUNDS, VARIANTS)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseKeyValues } from '../src/hypervisors/linux/read.js';
import { repoRoot } from '../test/integration/support/guest-image.js';
import { startMomd } from '../test/integration/support/momd-process.js';
import { writeLoadScenario } from './load-scenario.js';
import { cpuSeconds } from './process.js';
import { quantile } from './stats.js';

const GUESTS = Number(process.env.GUESTS ?? 1000);
const POLICY = process.env.POLICY ?? 'policies/default';
const WARMUP_S = Number(process.env.WARMUP_S ?? 30);
const SAMPLE_S = Number(process.env.SAMPLE_S ?? 120);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const VARIANTS = (process.env.VARIANTS ?? '|--max-semi-space-size=4').split('|').map((v) => v.trim());

const MIB = 1024;

/** The kB fields of /proc/PID/status asked for, in MiB (read with momd's own key-value parser). */
function status(pid: number, keys: readonly string[]): Record<string, number> {
  const path = `/proc/${pid}/status`;
  const kv = parseKeyValues(readFileSync(path, 'utf8'), path);
  return Object.fromEntries(keys.map((k) => [k, kv.int(k, 'kB') / MIB]));
}

interface Run {
  readonly variant: string;
  readonly rss: number[];
  readonly anon: number[];
  readonly file: number[];
  readonly hwm: number;
  readonly cpuPct: number;
}

async function run(variant: string): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'momd-rss-'));
  const scenario = writeLoadScenario(dir, GUESTS);
  const env = { ...process.env, NODE_OPTIONS: variant };
  const momd = startMomd(
    ['--scenario', scenario, '--policy-dir', join(repoRoot(), POLICY), '--api-socket', join(dir, 'api.sock')],
    { env },
  );
  try {
    await momd.waitFor(
      'a cycle with every guest',
      (l) => l['cycle'] === true && l['guests'] === GUESTS,
      120_000,
    );
    const pid = momd.child.pid as number;
    await sleep(WARMUP_S * 1000);
    const cpu0 = cpuSeconds(pid);
    const t0 = Date.now();
    const rss: number[] = [];
    const anon: number[] = [];
    const file: number[] = [];
    for (let i = 0; i < SAMPLE_S / 5; i++) {
      const s = status(pid, ['VmRSS', 'RssAnon', 'RssFile']);
      rss.push(s['VmRSS'] as number);
      anon.push(s['RssAnon'] as number);
      file.push(s['RssFile'] as number);
      await sleep(5000);
    }
    const cpuPct = (100 * (cpuSeconds(pid) - cpu0)) / ((Date.now() - t0) / 1000);
    const hwm = status(pid, ['VmHWM'])['VmHWM'] as number;
    if (momd.child.exitCode !== null) throw new Error(`momd exited: ${momd.stderr()}`);
    return { variant, rss, anon, file, hwm, cpuPct };
  } finally {
    await momd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const med = (xs: readonly number[]): number => quantile(xs, 0.5);
const label = (v: string): string => v || '(none)';

async function main(): Promise<void> {
  console.log(
    `daemon-rss: ${GUESTS} simulated guests in real time, policy ${POLICY}, ${WARMUP_S} s after the first full cycle, then VmRSS every 5 s for ${SAMPLE_S} s; ${ROUNDS} rounds of ${VARIANTS.map(label).join(', ')}`,
  );
  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, node ${process.version}`,
  );
  const runs: Run[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
    for (const v of order) {
      const x = await run(v);
      runs.push(x);
      console.log(
        `round ${r + 1} ${label(v).padEnd(28)} RSS median ${med(x.rss).toFixed(1)} MiB (${Math.min(...x.rss).toFixed(0)}–${Math.max(...x.rss).toFixed(0)}), anon ${med(x.anon).toFixed(1)}, file ${med(x.file).toFixed(1)}, peak ${x.hwm.toFixed(1)} MiB, CPU ${x.cpuPct.toFixed(1)}% of a core`,
      );
    }
  }
  console.log('per variant, the median of the runs’ medians:');
  for (const v of VARIANTS) {
    const mine = runs.filter((x) => x.variant === v);
    console.log(
      `  ${label(v).padEnd(28)} RSS ${med(mine.map((x) => med(x.rss))).toFixed(1)} MiB, anon ${med(mine.map((x) => med(x.anon))).toFixed(1)}, file ${med(mine.map((x) => med(x.file))).toFixed(1)}, peak ${med(mine.map((x) => x.hwm)).toFixed(1)} MiB, CPU ${med(mine.map((x) => x.cpuPct)).toFixed(1)}% (${mine.length} runs)`,
    );
  }
}

await main();
