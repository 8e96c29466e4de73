// KSM: the merge rate follows pages_to_scan and sleep_millisecs; written pages are unshared.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSimulation, type HostSimulation } from './simulation.js';
import {
  bootedGuest,
  context,
  idleGuest,
  MIB,
  setMemory,
  tinyScenario,
} from '../../test/support/sim-testkit.js';

function idleHost(): HostSimulation {
  const guests = [1, 2, 3, 4].map((i) => idleGuest(`vm${i}`, { memory_mib: 2048, image: 'same' }));
  return createSimulation(tinyScenario(guests, { host: { memory_gib: 16, swap_gib: 4 } }));
}

async function mergedAfter(pagesToScan: number, sleepMillisecs: number): Promise<number> {
  const sim = idleHost();
  sim.advance(20); // booted, idle
  sim.setKsm({ run: 1, pagesToScan, sleepMillisecs });
  sim.advance(5);
  const ksm = sim.ksmState();
  assert.ok(ksm);
  return ksm.pagesShared + ksm.pagesSharing;
}

test('the merge rate follows pages_to_scan / sleep_millisecs', async () => {
  const base = await mergedAfter(100, 20);
  assert.ok(base > 0);
  const double = await mergedAfter(200, 20);
  const slower = await mergedAfter(100, 40);
  // ksmd scans pages_to_scan pages (2 µs each) then sleeps: 100/(20 ms + 0.2 ms) pages/s.
  assert.ok(Math.abs(double / base - 1.98) < 0.1, `ratio ${double / base}`);
  assert.ok(Math.abs(slower / base - 0.503) < 0.05, `ratio ${slower / base}`);
});

test('ksmd costs host CPU in proportion to its scan rate, nothing when stopped', async () => {
  const sim = idleHost();
  sim.advance(10);
  sim.ksmdCpuUsage();
  sim.advance(10);
  assert.equal(sim.ksmdCpuUsage(), 0);
  sim.setKsm({ run: 1, pagesToScan: 1250, sleepMillisecs: 10 });
  sim.advance(10);
  const cpu = sim.ksmdCpuUsage();
  assert.ok(cpu !== null && cpu > 15 && cpu < 25, `ksmd at ${cpu}% of a CPU`); // 1250/12.5 ms × 2 µs = 20%
  sim.setKsm({ run: 0 });
  const ksm = sim.ksmState();
  assert.equal(ksm?.run, 0);
  assert.equal(ksm?.pagesToScan, 1250);
  await assert.throws(() => sim.setKsm({ run: 3 }), /run/);
});

test('merging frees host memory; run=2 unmerges everything', async () => {
  const sim = idleHost();
  sim.advance(20);
  const free0 = sim.hostMemory().free;
  sim.setKsm({ run: 1, pagesToScan: 1250, sleepMillisecs: 10 });
  sim.advance(60);
  const ksm = sim.ksmState();
  assert.ok(ksm && ksm.pagesSharing > 0);
  const free1 = sim.hostMemory().free;
  assert.ok(free1 > free0 + (ksm.pagesSharing * 4) / 2, 'shared pages free host memory');
  sim.setKsm({ run: 2 });
  sim.advance(1);
  assert.equal(sim.ksmState()?.pagesSharing, 0);
});

test('merged pages are unshared when the guest writes them', () => {
  const sc = tinyScenario([
    {
      name: 'mk',
      memory_mib: 1024,
      workload: { kind: 'memknobs', base_mib: 0, pattern: { kind: 'constant', mib: 512 } },
    },
  ]);
  const g = bootedGuest(sc);
  setMemory(g, { hotR: 512 });
  g.merged = g.resident() / 2;
  const mergedHot = g.merged * (g.hotR / g.resident());
  const before = g.merged;
  g.step(context()); // touches the 512 MiB buffer at 1 GiB/s: every page written at least once
  assert.ok(Math.abs(before - g.merged - mergedHot) < MIB, 'the merged pages of the buffer are unshared');
  assert.ok(g.merged > 0, 'merged free and kernel pages stay merged');
});

test('a hot buffer written faster than a full scan is not merged; idle memory is', async () => {
  const sc = tinyScenario(
    [
      {
        name: 'mk',
        memory_mib: 2048,
        workload: { kind: 'memknobs', base_mib: 0, ksm_dup: 0.9, pattern: { kind: 'constant', mib: 1536 } },
      },
    ],
    { host: { memory_gib: 8, swap_gib: 2 } },
  );
  const sim = createSimulation(sc);
  sim.advance(30);
  sim.setKsm({ run: 1, pagesToScan: 1250, sleepMillisecs: 10 });
  sim.advance(300);
  const g = sim.guests[0];
  assert.ok(g);
  // Everything but the buffer is at most 2048 - 1536 MiB; merges stay within it.
  assert.ok(g.merged < 0.9 * (g.resident() - g.hotR) + MIB, `${g.merged / MIB} MiB merged`);
});
