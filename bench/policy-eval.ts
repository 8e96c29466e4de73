// Benchmark: the cost of one policy evaluation over a host with many guests. Each shipped policy
// set (classic: balloon + KSM; default: balloon + KSM + zswap) and one of vdsm's shape
// (bench/policies/vdsm-shape: balloon with guarantees, KSM, CPU tune, I/O tune) is evaluated
// against one synthetic snapshot of 1,000 guests, every catalogue field filled, a full 10-sample
// history each; the snapshot is the same on every run (a fixed pseudo-random sequence). Run with
// `npm run bench`; not part of `npm test`. BENCH_GUESTS, BENCH_ITERATIONS and BENCH_SETS
// (comma-separated: classic, default, vdsm-shape) change what is measured; BENCH_SNAPSHOT_OUT
// writes the snapshot to a file.
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchmark } from '../src/cli/policy-command.js';
import { parseSnapshot } from '../src/entities/snapshot.js';
import { GUEST_FIELDS, HOST_FIELDS } from '../src/fields/catalogue.js';
import { NO_IO_LIMITS } from '../src/fields/io-tune.js';
import { loadPolicySet } from '../src/policy/index.js';
import { readPolicySources } from '../src/policy/sources.js';

const GUESTS = Number(process.env.BENCH_GUESTS ?? 1000);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const SETS = (process.env.BENCH_SETS ?? 'classic,default,vdsm-shape').split(',');
/** Where each set lives: the shipped ones under policies/, the bench's own under bench/policies/. */
const SET_DIRS: Record<string, string> = {
  classic: 'policies/classic',
  default: 'policies/default',
  'vdsm-shape': 'bench/policies/vdsm-shape',
};
const HISTORY = 10;
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A deterministic pseudo-random sequence so every run measures the same snapshot. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Every numeric field of a catalogue at 0, then the given values: a sample as a collector gives it. */
function sample(
  fields: Record<string, { unit: string }>,
  values: Record<string, unknown>,
): Record<string, unknown> {
  const numeric = Object.keys(fields).filter((k) => fields[k]?.unit !== 'list');
  return { ...Object.fromEntries(numeric.map((k) => [k, 0])), ...values };
}

/** A disk as GuestIoTune reports it: no throttle in force, bounds from the administrator. */
function disk(name: string, rnd: () => number): object {
  const mb = 1_000_000;
  return {
    name,
    path: `/images/${name}.qcow2`,
    guaranteed: { total_bytes_sec: 10 * mb, total_iops_sec: 100 },
    maximum: {
      total_bytes_sec: Math.round((20 + 100 * rnd()) * mb),
      read_bytes_sec: 0,
      write_bytes_sec: 0,
      total_iops_sec: Math.round(200 + 1000 * rnd()),
      read_iops_sec: 0,
      write_iops_sec: 0,
    },
    current: NO_IO_LIMITS,
  };
}

function syntheticSnapshot(guests: number): unknown {
  const rnd = lcg(42);
  const total = 512 * 1024 * 1024; // 512 GiB host, in KiB
  const hostStats = Array.from({ length: HISTORY }, () =>
    sample(HOST_FIELDS, {
      mem_available: total,
      mem_total: total,
      mem_unused: Math.round(total * 0.05),
      // Under classic's 20% and default's 8%: every guest is judged by both.
      mem_free: Math.round(total * (0.05 + 0.02 * rnd())),
      mem_avail: Math.round(total * 0.07),
      cpu_count: 64,
      ksm_run: 1,
      ksm_pages_to_scan: 300,
      ksm_sleep_millisecs: 10,
      ksm_pages_shared: 1000,
      ksm_pages_sharing: 5000,
      ksm_shareable: Math.round(total * 0.9),
      swap_out_rate: 100,
      psi_some_avg10: 2.5,
    }),
  );
  const guestList = Array.from({ length: guests }, (_, i) => {
    const max = (1 + Math.floor(rnd() * 8)) * 1024 * 1024;
    const cur = Math.round(max * (0.6 + 0.4 * rnd()));
    const used = Math.round(cur * (0.3 + 0.5 * rnd()));
    return {
      properties: {
        name: `vm${String(i).padStart(4, '0')}`,
        uuid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
        pid: 10000 + i,
      },
      stats: Array.from({ length: HISTORY }, () =>
        sample(GUEST_FIELDS, {
          balloon_cur: cur,
          balloon_max: max,
          balloon_min: Math.round(max * 0.25),
          shares: 1000,
          mem_available: cur,
          mem_unused: Math.round((cur - used) * 0.6),
          mem_cache: Math.round((cur - used) * 0.4),
          mem_usable: cur - used,
          swap_total: 1024 * 1024,
          rss: used + 65536 + Math.round((cur - used) * rnd()),
          cpu_time: Math.round(1e6 * rnd()),
          cpu_usage: Math.round(300 * rnd()),
          minor_fault: Math.round(1000 * rnd()),
          vcpu_quota: -1,
          vcpu_period: 100000,
          vcpu_user_limit: rnd() < 0.5 ? 100 : 50,
          vcpu_count: 1 + Math.floor(rnd() * 4),
          io_tune: rnd() < 0.5 ? [disk('vda', rnd)] : [disk('vda', rnd), disk('vdb', rnd)],
        }),
      ),
    };
  });
  const properties = {
    interval: 10,
    time: 1000,
    woken: null,
    memory_source: 'machine',
    ksm_owned: true,
    zswap_owned: false,
  };
  return { host: { properties, stats: hostStats }, guests: guestList };
}

const synthetic = syntheticSnapshot(GUESTS);
// BENCH_SNAPSHOT_OUT=FILE also writes the snapshot, for `momctl policy bench FILES --snapshot FILE`.
if (process.env.BENCH_SNAPSHOT_OUT) writeFileSync(process.env.BENCH_SNAPSHOT_OUT, JSON.stringify(synthetic));
const snapshot = parseSnapshot(synthetic, '<synthetic>');
const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`machine: ${cpu}, ${cpus().length} cores, node ${process.version}`);
for (const name of SETS) {
  const loaded = loadPolicySet(readPolicySources([`${repoRoot}${SET_DIRS[name] ?? `policies/${name}`}`]));
  if (!loaded.ok) throw new Error(`the ${name} policies do not parse`);
  const result = benchmark(loaded.set, snapshot, ITERATIONS, 50);
  console.log(
    `policy-eval: ${name} set (${loaded.set.program.files.length} files) over ${GUESTS} guests x ${HISTORY} samples; ` +
      `${ITERATIONS} runs timed after 50 warm-up; measured: ${result.measured}`,
  );
  console.log(`  median ${result.median_ms} ms, p99 ${result.p99_ms} ms`);
}
