// Benchmark: the shipped classic policy set (balloon + KSM) evaluated against a synthetic host
// with 1,000 guests, each with a full 10-sample history. Target (issue 2): median ≤ 5 ms per
// evaluation. Run with `npm run bench`; not part of `npm test`.
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchmark } from '../src/cli/policy-command.js';
import { parseSnapshot } from '../src/entities/snapshot.js';
import { loadPolicySet } from '../src/policy/index.js';
import { readPolicySources } from '../src/policy/sources.js';

const GUESTS = Number(process.env.BENCH_GUESTS ?? 1000);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const HISTORY = 10;
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A deterministic pseudo-random sequence so every run measures the same snapshot. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function syntheticSnapshot(guests: number): unknown {
  const rnd = lcg(42);
  const total = 512 * 1024 * 1024; // 512 GiB host, in KiB
  const hostStats = Array.from({ length: HISTORY }, () => ({
    mem_available: total,
    mem_unused: Math.round(total * 0.05),
    mem_free: Math.round(total * (0.1 + 0.05 * rnd())), // under the 20% threshold: every guest is judged
    ksm_run: 1,
    ksm_pages_to_scan: 300,
    ksm_sleep_millisecs: 10,
    ksm_pages_shared: 1000,
    ksm_pages_sharing: 5000,
    ksm_shareable: Math.round(total * 0.9),
    swap_in: 0,
    swap_out: 0,
  }));
  const guestList = Array.from({ length: guests }, (_, i) => {
    const max = (1 + Math.floor(rnd() * 8)) * 1024 * 1024;
    const cur = Math.round(max * (0.6 + 0.4 * rnd()));
    return {
      properties: {
        name: `vm${String(i).padStart(4, '0')}`,
        uuid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
        pid: 10000 + i,
      },
      stats: Array.from({ length: HISTORY }, () => ({
        balloon_cur: cur,
        balloon_max: max,
        balloon_min: Math.round(max * 0.25),
        mem_available: cur,
        mem_unused: Math.round(cur * rnd() * 0.5),
        swap_in: 0,
        swap_out: 0,
      })),
    };
  });
  return { host: { properties: { interval: 10 }, stats: hostStats }, guests: guestList };
}

const loaded = loadPolicySet(readPolicySources([`${repoRoot}policies/classic`]));
if (!loaded.ok) throw new Error('the classic policies do not parse');
const snapshot = parseSnapshot(syntheticSnapshot(GUESTS), '<synthetic>');
const result = benchmark(loaded.set, snapshot, ITERATIONS, 50);
const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `policy-eval: classic set (${loaded.set.program.files.length} files) over ${GUESTS} guests x ${HISTORY} samples`,
);
console.log(`machine: ${cpu}, ${cpus().length} cores, node ${process.version}`);
console.log(`runs: ${ITERATIONS} timed after 50 warm-up; measured: ${result.measured}`);
console.log(`median ${result.median_ms} ms, p99 ${result.p99_ms} ms (target: median <= 5 ms)`);
console.log(JSON.stringify(result));
