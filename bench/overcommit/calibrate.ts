// bench/overcommit/calibrate: measures on real guests what the simulator assumes, so that its
// parameters come from this machine rather than from guesses (docs/simulator.md cites the
// figures). Four guests of 576 MiB as in the overcommit benchmark, each running memload over a
// 300 MiB working set (--free), measured in steps of `--step` seconds:
//   1. baseline: no pressure at all: throughput per guest, the guests' and QEMU's resident memory;
//   2. guest swapping: every balloon set to 300 MiB, under the working set plus the guest kernel,
//      so each guest pages its own memory: throughput and guest swap rates give the cost of a
//      guest's swap traffic;
//   3. host swapping: balloons back to the maximum, the cgroup limited 240 MiB under the guests'
//      footprint, so the host pages the guests: throughput and host swap rates give its cost;
//   4. balloon speed: one guest shrunk by 256 MiB and grown back, timed through QMP.
// The guests run under KVM where /dev/kvm is usable, else under TCG; the machine line says which.
// Run as root: npm run build && node dist/bench/overcommit/calibrate.js [--step 60]
import { mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestImage } from '../../test/integration/support/guest-image.js';
import { qmpOnce } from '../../test/integration/support/qmp.js';
import {
  createMemoryCgroup,
  kvmUsable,
  startGuest,
  stopAll,
  type GuestHandle,
} from '../../test/integration/support/qemu.js';
import { realGuestsAvailable } from '../../test/integration/support/skip.js';
import { Cleanups } from './cleanup.js';
import {
  createHostSwap,
  hostCounters,
  machineInfo,
  removeHostSwap,
  removeStaleSwapFiles,
  swapPathFor,
} from './host.js';
import { resolveAccel } from './options.js';
import { parseMemloadLine, parseVmstatLine, SerialTail } from './serial.js';

const MIB = 1024 * 1024;
const GUESTS = 4;
const GUEST_MIB = 576;
const WS_MIB = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (msg: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

interface Phase {
  readonly name: string;
  /** Sum over guests of their mean memload throughput (MiB/s). */
  readonly throughputMiBs: number;
  /** Guest swap-ins and swap-outs per second, all guests. */
  readonly guestSwapInPs: number;
  readonly guestSwapOutPs: number;
  /** Host swap-ins and swap-outs per second (machine-wide /proc/vmstat). */
  readonly hostSwapInPs: number;
  readonly hostSwapOutPs: number;
  /** The cgroup's mean usage (MiB). */
  readonly usageMiB: number;
}

async function measure(
  name: string,
  guests: GuestHandle[],
  tails: SerialTail[],
  usage: () => number,
  seconds: number,
): Promise<Phase> {
  const from = Date.now();
  const host0 = await hostCounters();
  const usages: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    usages.push(usage());
  }
  const to = Date.now();
  const host1 = await hostCounters();
  for (const t of tails) t.poll(to);
  let throughput = 0;
  let swapIn = 0;
  let swapOut = 0;
  for (const t of tails) {
    const lines = t.lines.filter((l) => l.t >= from && l.t <= to);
    const tp = lines.flatMap((l) => parseMemloadLine(l.line)?.throughputMiBs ?? []);
    throughput += tp.length > 0 ? tp.reduce((a, b) => a + b, 0) / tp.length : 0;
    const vm = lines.flatMap((l) => parseVmstatLine(l.line) ?? []);
    const first = vm[0];
    const last = vm[vm.length - 1];
    if (first && last) {
      swapIn += last.pswpin - first.pswpin;
      swapOut += last.pswpout - first.pswpout;
    }
  }
  const s = (to - from) / 1000;
  const phase: Phase = {
    name,
    throughputMiBs: Math.round(throughput),
    guestSwapInPs: Math.round(swapIn / s),
    guestSwapOutPs: Math.round(swapOut / s),
    hostSwapInPs: Math.round((host1.pswpin - host0.pswpin) / s),
    hostSwapOutPs: Math.round((host1.pswpout - host0.pswpout) / s),
    usageMiB: Math.round(usages.reduce((a, b) => a + b, 0) / Math.max(1, usages.length)),
  };
  say(`${name}: ${JSON.stringify(phase)}`);
  return phase;
}

async function setBalloon(g: GuestHandle, mib: number): Promise<void> {
  await qmpOnce(g.qmpPaths[1] as string, 'balloon', { value: mib * MIB });
}

async function balloonMiB(g: GuestHandle): Promise<number> {
  const r = await qmpOnce<{ actual: number }>(g.qmpPaths[1] as string, 'query-balloon');
  return r.actual / MIB;
}

/** Seconds until the balloon is within 4 MiB of `mib` (polled every 100 ms). */
async function timeBalloon(g: GuestHandle, mib: number): Promise<number> {
  const start = Date.now();
  await setBalloon(g, mib);
  while (Math.abs((await balloonMiB(g)) - mib) > 4) {
    if (Date.now() - start > 120_000) throw new Error(`balloon of ${g.name} did not reach ${mib} MiB`);
    await sleep(100);
  }
  return (Date.now() - start) / 1000;
}

async function main(): Promise<void> {
  const ok = realGuestsAvailable();
  if (!ok.ok) throw new Error(ok.reason);
  const stepIdx = process.argv.indexOf('--step');
  const step = stepIdx > 0 ? Number(process.argv[stepIdx + 1]) : 60;
  const repo = process.cwd();
  const cleanups = new Cleanups();
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => void cleanups.runAll().then(() => process.exit(1)));
  const accel = resolveAccel('auto', kvmUsable());
  const machine = await machineInfo(repo, accel);
  say(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.qemu} (${accel}); step ${step} s`);
  await guestImage();
  for (const path of await removeStaleSwapFiles())
    say(`removed ${path}, the swap file of an earlier invocation that no longer runs`);
  const swapFile = swapPathFor('calibrate', process.pid);
  cleanups.add('host swap', () => removeHostSwap(swapFile));
  await createHostSwap(swapFile, 2048);
  const dir = mkdtempSync(join(tmpdir(), 'momd-calibrate-'));
  const cgroup = await createMemoryCgroup(`calibrate-${process.pid}`, undefined);
  let guests: GuestHandle[] = [];
  cleanups.add('guests', async () => {
    await stopAll(guests);
    await cgroup.remove(10_000);
    await rm(dir, { recursive: true, force: true });
  });
  try {
    guests = await Promise.all(
      Array.from({ length: GUESTS }, (_, i) =>
        startGuest({
          name: `c${i + 1}`,
          memoryMiB: GUEST_MIB,
          balloon: true,
          swapMiB: 512,
          qmpSockets: 2,
          cgroup,
          dir,
          workload: ['--mib', String(WS_MIB), '--free'],
          accel,
        }),
      ),
    );
    await Promise.all(guests.map((g) => g.waitForReady(180_000)));
    const tails = guests.map((g) => new SerialTail(g.serialLog));
    let usageBytes = 0;
    const sampler = setInterval(() => {
      void cgroup
        .usageBytes()
        .then((b) => (usageBytes = b))
        .catch(() => undefined);
      for (const t of tails) t.poll();
    }, 500);
    cleanups.add('sampler', async () => clearInterval(sampler));
    const usage = (): number => usageBytes / MIB;
    await sleep(30_000); // the working sets fill
    const base = await measure('baseline', guests, tails, usage, step);
    // QEMU's own memory: the cgroup's usage less what the guests hold (their working sets and kernels).
    const footprintMiB = base.usageMiB;
    const qemuRss = guests.map((g) => {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${g.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : 0;
    });
    say(`QEMU resident memory per guest (MiB): ${qemuRss.map((x) => Math.round(x)).join(', ')}`);

    await Promise.all(guests.map((g) => setBalloon(g, WS_MIB)));
    await sleep(15_000);
    const guestSwap = await measure('guest swapping', guests, tails, usage, step);
    await Promise.all(guests.map((g) => setBalloon(g, GUEST_MIB)));
    await sleep(20_000);

    const limit = Math.round(footprintMiB - 240);
    await cgroup.setLimitMiB(limit);
    say(`cgroup limited to ${limit} MiB (footprint ${footprintMiB} MiB)`);
    await sleep(15_000);
    const hostSwap = await measure('host swapping', guests, tails, usage, step);
    await cgroup.setLimitMiB(undefined);
    await sleep(10_000);

    const g = guests[0] as GuestHandle;
    const inflateS = await timeBalloon(g, GUEST_MIB - 256);
    const deflateS = await timeBalloon(g, GUEST_MIB);
    clearInterval(sampler);

    // The simulator's costs: each page of swap traffic costs the guests this much time (s).
    const lost = (p: Phase): number =>
      Math.max(0, (base.throughputMiBs - p.throughputMiBs) / base.throughputMiBs);
    const guestPages = guestSwap.guestSwapInPs + guestSwap.guestSwapOutPs;
    const hostPages = hostSwap.hostSwapInPs + hostSwap.hostSwapOutPs;
    const result = {
      machine,
      stepS: step,
      phases: [base, guestSwap, hostSwap],
      qemuRssMiB: qemuRss,
      footprintMiB,
      balloon: { inflateMiBs: Math.round(256 / inflateS), deflateMiBs: Math.round(256 / deflateS) },
      // Guest-seconds lost per page (GUESTS guests, each losing the same share of its time).
      guestSwapCostS: guestPages > 0 ? (lost(guestSwap) * GUESTS) / guestPages : null,
      hostSwapCostS: hostPages > 0 ? (lost(hostSwap) * GUESTS) / hostPages : null,
      baselinePerGuestMiBs: Math.round(base.throughputMiBs / GUESTS),
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await cleanups.runAll();
  }
}

main().catch((err: unknown) => {
  console.error(`calibrate: ${(err as Error).message}`);
  process.exitCode = 1;
});
