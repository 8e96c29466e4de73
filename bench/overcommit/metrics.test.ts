import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  balloonActions,
  minBusyThroughput,
  idleReclaim,
  median,
  psiPercent,
  reactionTimes,
  runMetrics,
  spikes,
  type HostCounters,
  type RunRecord,
} from './metrics.js';

const MiB = 1024 * 1024;
const at = (t: number, line: string) => ({ t, line });
const vm = (t: number, pswpin: number, pswpout = 0) =>
  at(t, `MOMD-GUEST-VMSTAT pswpin=${pswpin} pswpout=${pswpout} pgmajfault=${pswpin}`);
const load = (t: number, x: number) => at(t, `memload t=${t} size_mib=100 throughput_mib_s=${x}`);
const host = (t: number, pswpin: number, someUs: number): HostCounters => ({
  t,
  pswpin,
  pswpout: 0,
  zswpin: 0,
  zswpout: 0,
  psiSomeUs: someUs,
  psiFullUs: 0,
});
const balloon = (time: number, entity: string, old: number, next: number) => ({
  time,
  controller: 'Balloon',
  entity,
  old,
  new: next,
  msg: `balloon_target of ${entity}: ${old} → ${next}`,
});

test('median of odd and even counts, null when empty', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(median([]), null);
});

test('spikes are crossings of 95% of the limit from below, inside the window', () => {
  const usage = [90, 96, 97, 80, 95, 99, 50, 96].map((pct, i) => ({ t: i * 200, bytes: pct }));
  assert.deepEqual(spikes(usage, 100, 0, 1200), [200, 800]);
});

test('the reaction is the delay to the first shrinking balloon action after the spike', () => {
  const actions = balloonActions([
    balloon(1000, 'g1', 100, 120), // a growth does not count
    balloon(4000, 'g2', 200, 190),
    { time: 4500, controller: 'KSM', msg: 'ksm_run of host: 0 → 1', old: 0, new: 1 },
    { time: 5000, controller: 'Balloon', msg: 'balloon_target of g2 failed', old: 190, new: 180 },
  ]);
  assert.equal(actions.length, 2);
  assert.deepEqual(reactionTimes([500, 3000, 9000], actions), [3.5, 1]);
});

test('PSI: the share of wall time the stall total grew by', () => {
  assert.equal(psiPercent(0, 500_000, 0, 10_000), 5);
});

test('a run: throughput, guest and host paging, balloon operations, reaction', () => {
  const record: RunRecord = {
    window: { start: 10_000, end: 14_000 },
    guests: [
      {
        name: 'g1',
        lines: [
          load(9000, 999),
          load(11_000, 100),
          load(12_000, 200),
          vm(10_000, 0),
          vm(11_000, 256),
          vm(12_000, 256),
          vm(14_000, 512),
        ],
        exitedDuringRun: false,
        balloonMiB: 500,
      },
      {
        name: 'g2',
        lines: [
          load(11_000, 50),
          at(12_500, 'Out of memory: Killed process 9 (memload)'),
          vm(10_000, 0),
          vm(14_000, 0),
        ],
        exitedDuringRun: true,
        balloonMiB: null,
      },
    ],
    momdLog: [
      balloon(9000, 'g1', 600, 590),
      { time: 11_900, cycle: true },
      { time: 12_050, cycle: true },
      balloon(12_100, 'g2', 590, 580),
    ],
    usage: [
      { t: 11_800, bytes: 90 * MiB },
      { t: 12_000, bytes: 96 * MiB },
    ],
    limitBytes: 100 * MiB,
    hostStart: host(10_000, 0, 0),
    hostEnd: { ...host(14_000, 512, 400_000), zswpout: 768, zswpin: 256 },
  };
  const { run, guests } = runMetrics(record);
  assert.equal(guests[0]?.throughputMiBs, 150);
  assert.equal(run.throughputMiBs, 200);
  assert.equal(run.guestSwapInMiB, 2);
  // g1 paged during 1 s + 2 s of its 4 s, g2 during none of its 4 s.
  assert.equal(run.guestPagingShare, 3 / 8);
  assert.equal(run.hostSwapInMiB, 2);
  // zswap's stores are counted apart from the writes to the swap device.
  assert.equal(run.hostZswapOutMiB, 3);
  assert.equal(run.hostZswapInMiB, 1);
  assert.equal(run.hostSwapOutMiB, 0);
  assert.equal(run.psiSomePct, 10);
  assert.equal(run.guestOomKills, 1);
  assert.equal(run.qemuKilled, 1);
  assert.equal(run.balloonOps, 1);
  assert.equal(run.spikes, 1);
  assert.ok(Math.abs((run.reactionS ?? 0) - 0.1) < 1e-9);
  // The spike at 12 s; the first cycle to end after it, at 12.05 s.
  assert.ok(Math.abs((run.wakeS ?? 0) - 0.05) < 1e-9);
  assert.equal(run.peakUsageMiB, 96);
});

test('no limit: no spikes and no reaction', () => {
  const empty = { t: 0, pswpin: 0, pswpout: 0, zswpin: 0, zswpout: 0, psiSomeUs: 0, psiFullUs: 0 };
  const { run } = runMetrics({
    window: { start: 0, end: 1 },
    guests: [],
    momdLog: [],
    usage: [{ t: 0, bytes: 1 }],
    limitBytes: null,
    hostStart: empty,
    hostEnd: { ...empty, t: 1 },
  });
  assert.equal(run.spikes, 0);
  assert.equal(run.reactionS, null);
  assert.equal(run.wakeS, null);
  assert.equal(run.guestPagingShare, null);
});

test('idle reclaim: what balloons took from the idle guests within 60 s, against their free memory', () => {
  const r = idleReclaim([
    { name: 'g3', freeMiB: 240, cacheMiB: 150, maxMiB: 576, balloonLaterMiB: 376 },
    { name: 'g4', freeMiB: 260, cacheMiB: 150, maxMiB: 576, balloonLaterMiB: 476 },
    { name: 'g5', freeMiB: null, cacheMiB: null, maxMiB: 576, balloonLaterMiB: 300 },
  ]);
  assert.deepEqual(r, { idleFreeMiB: 500, idleReclaimedMiB: 300, idleReclaimedShare: 0.6 });
  assert.deepEqual(idleReclaim([]), { idleFreeMiB: null, idleReclaimedMiB: null, idleReclaimedShare: null });
  assert.deepEqual(idleReclaim(undefined).idleReclaimedShare, null);
});

test("the slowest guest's throughput leaves idle guests out; a busy guest that printed nothing counts 0", () => {
  const g = (name: string, throughputMiBs: number | null) => ({
    name,
    throughputMiBs,
    swapInMiB: 0,
    swapOutMiB: 0,
    majorFaults: 0,
    pagingS: 0,
    observedS: 0,
    oomKills: 0,
    memloadExited: false,
    qemuExited: false,
    balloonMiB: null,
  });
  const idle = [{ name: 'g3', freeMiB: 1, cacheMiB: 1, maxMiB: 576, balloonLaterMiB: 576 }];
  assert.equal(minBusyThroughput([g('g1', 50), g('g2', 40), g('g3', null)], idle), 40);
  assert.equal(minBusyThroughput([g('g1', 50), g('g2', null)], undefined), 0);
  assert.equal(minBusyThroughput([], undefined), null);
});
