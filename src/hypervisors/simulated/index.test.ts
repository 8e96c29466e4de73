// The simulated host behind the daemon's two ports: guests coming and going, balloon targets,
// guests without a driver, KSM on a scenario without it, memory limits, and calls that settle
// at once. The behaviour every backend shares is in the contract suite (test/hypervisors/).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idleGuest, MIB, tinyScenario } from '../../../test/support/sim-testkit.js';
import { createSimulation } from '../../sim/index.js';
import { HypervisorError } from '../hypervisor.js';
import { createSimulatedBackend } from './index.js';

test('guests starting late and stopping early appear and disappear; a gone guest gives guest-gone', async () => {
  const sc = tinyScenario([idleGuest('early'), idleGuest('late', { start_s: 20, stop_s: 60 })]);
  const sim = createSimulation(sc);
  const { hypervisor } = createSimulatedBackend(sim);
  const names = async (): Promise<string[]> => sim.running().map((g) => g.name);
  assert.deepEqual(await names(), ['early']);
  sim.advance(25);
  assert.deepEqual(await names(), ['early', 'late']);
  const late = (await hypervisor.listGuests()).find((g) => g.name === 'late');
  assert.ok(late);
  assert.equal(late.pid, null);
  assert.match(late.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  const ok = (await hypervisor.guestStats([late.id])).get(late.id);
  assert.ok(ok && !(ok instanceof Error) && ok.balloon_cur === 1024 * 1024);
  sim.advance(40);
  assert.deepEqual(await names(), ['early']);
  const gone = (await hypervisor.guestStats([late.id, 'no-such-id'])).get(late.id);
  assert.ok(gone instanceof HypervisorError);
  assert.equal(gone.code, 'MOM_E_GUEST_GONE');
  await assert.rejects(hypervisor.setBalloonTarget(late.id, 1000), (e: unknown) => {
    return e instanceof HypervisorError && e.code === 'MOM_E_GUEST_GONE';
  });
  const unknown = (await hypervisor.guestStats(['no-such-id'])).get('no-such-id');
  assert.ok(unknown instanceof HypervisorError && unknown.code === 'MOM_E_GUEST_GONE');
});

test('the interface methods resolve at once, with no timers or I/O', async () => {
  const sim = createSimulation(tinyScenario([idleGuest('a')]));
  const { hypervisor, host } = createSimulatedBackend(sim);
  const [a] = await hypervisor.listGuests();
  assert.ok(a);
  const calls: Array<Promise<unknown>> = [
    hypervisor.listGuests(),
    hypervisor.guestStats([a.id]),
    hypervisor.setBalloonTarget(a.id, 512 * 1024),
    host.probe(),
    host.read(new Set(['HostMemory', 'HostKSM', 'HostPressure'])),
    host.setKsm({ run: 1 }),
    host.memoryLimits([a]),
    host.setMemoryLimit(a, 900 * 1024),
  ];
  let settled = 0;
  for (const p of calls) void p.then(() => settled++);
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(settled, calls.length);
});

test('an aborted signal rejects the call', async () => {
  const { hypervisor, host } = createSimulatedBackend(createSimulation(tinyScenario([idleGuest('a')])));
  const ac = new AbortController();
  ac.abort(new Error('stop'));
  await assert.rejects(hypervisor.listGuests(ac.signal), /stop/);
  await assert.rejects(host.read(new Set(['HostMemory']), ac.signal), /stop/);
});

test('inflating and deflating proceed at the configured rates', async () => {
  const sc = tinyScenario([idleGuest('vm', { memory_mib: 2048 })], {
    balloon: { inflate_mib_s: 100, deflate_mib_s: 50, deflate_on_oom: false },
  });
  const sim = createSimulation(sc, { seed: 1 });
  const { hypervisor } = createSimulatedBackend(sim);
  sim.advance(10);
  const [vm] = await hypervisor.listGuests();
  assert.ok(vm);
  const cur = async (): Promise<number> => {
    const s = (await hypervisor.guestStats([vm.id])).get(vm.id);
    assert.ok(s && !(s instanceof Error));
    return (s.balloon_cur ?? NaN) / MIB;
  };
  assert.equal(await cur(), 2048);
  await hypervisor.setBalloonTarget(vm.id, 1024 * MIB);
  sim.advance(1);
  assert.equal(Math.round(await cur()), 1948);
  sim.advance(4);
  assert.equal(Math.round(await cur()), 1548);
  sim.advance(10);
  assert.equal(Math.round(await cur()), 1024, 'stops at the target');
  await hypervisor.setBalloonTarget(vm.id, 2048 * MIB);
  sim.advance(2);
  assert.equal(Math.round(await cur()), 1124);
  assert.equal(sim.results().balloon_ops, 2);
  // The same target again is not an operation; a target above the maximum is clamped to it.
  await hypervisor.setBalloonTarget(vm.id, 2048 * MIB);
  await hypervisor.setBalloonTarget(vm.id, 4096 * MIB);
  assert.equal(sim.results().balloon_ops, 2);
});

test('a guest without a balloon driver ignores targets and reports only its balloon size', async () => {
  const sc = tinyScenario([idleGuest('nodrv', { balloon: false }), idleGuest('drv')]);
  const sim = createSimulation(sc);
  const { hypervisor } = createSimulatedBackend(sim);
  sim.advance(10);
  const guests = await hypervisor.listGuests();
  const nodrv = guests.find((g) => g.name === 'nodrv');
  assert.ok(nodrv);
  const model = sim.guests.find((g) => g.name === 'nodrv');
  assert.ok(model);
  const before = model.cur;
  await hypervisor.setBalloonTarget(nodrv.id, 256 * MIB);
  sim.advance(30);
  assert.equal(model.cur, before);
  assert.equal(sim.results().balloon_ops, 0);
  const stats = (await hypervisor.guestStats([nodrv.id])).get(nodrv.id);
  assert.ok(stats && !(stats instanceof Error));
  assert.equal(stats.balloon_cur, before);
  assert.equal(stats.mem_unused ?? null, null, 'left out: nothing reported');
  assert.equal(stats.swap_in ?? null, null);
  assert.ok((stats.rss ?? 0) > 0, 'the host still knows its RSS');
});

test('a scenario without KSM: the capability is missing with the reason, no ksm fields, setKsm unsupported', async () => {
  const sim = createSimulation(tinyScenario([idleGuest('a')], { ksm: { available: false } }));
  const { host } = createSimulatedBackend(sim);
  const probe = await host.probe();
  assert.ok(!probe.capabilities.has('ksm') && probe.capabilities.has('psi'));
  assert.match(probe.missing.get('ksm') ?? '', /ksm.available: false/);
  const r = await host.read(new Set(['HostMemory', 'HostKSM']));
  assert.equal(r.ksm_run, undefined);
  assert.ok(typeof r.ksm_shareable === 'number' && typeof r.mem_free === 'number');
  await assert.rejects(
    host.setKsm({ run: 1 }),
    (e: unknown) => e instanceof HypervisorError && e.code === 'MOM_E_UNSUPPORTED',
  );
});

test('a memory limit on a guest is modelled: the excess goes to host swap', async () => {
  const sim = createSimulation(tinyScenario([idleGuest('a', { memory_mib: 1024 })]));
  const { hypervisor, host } = createSimulatedBackend(sim);
  sim.advance(20);
  const [a] = await hypervisor.listGuests();
  assert.ok(a);
  assert.deepEqual((await host.memoryLimits([a])).get(a.id), { limitKib: null });
  const rss = (await hypervisor.guestStats([a.id])).get(a.id);
  assert.ok(rss && !(rss instanceof Error) && typeof rss.rss === 'number');
  await host.setMemoryLimit(a, Math.round(rss.rss / 2));
  sim.advance(5);
  assert.deepEqual((await host.memoryLimits([a])).get(a.id), { limitKib: Math.round(rss.rss / 2) });
  const after = (await hypervisor.guestStats([a.id])).get(a.id);
  assert.ok(after && !(after instanceof Error) && (after.rss ?? Infinity) <= Math.round(rss.rss / 2) + 1);
  assert.ok(sim.hostSwapUsed() > 0);
});

test("HostCpu is the scenario's CPUs; HostTime runs on the simulator's clock from the given start", async () => {
  const sim = createSimulation(tinyScenario([idleGuest('a')], { host: { memory_gib: 8, cpus: 6 } }));
  const start = new Date(2026, 5, 30, 23, 59, 0).getTime();
  const { host } = createSimulatedBackend(sim, { epochMs: start });
  const read = async (): Promise<number[]> => {
    const r = await host.read(new Set(['HostCpu', 'HostTime']));
    return [r.time_month, r.time_day, r.time_hour, r.time_minute, r.time_second, r.time_microsecond].map(
      (v) => v ?? NaN,
    );
  };
  assert.equal((await host.read(new Set(['HostCpu']))).cpu_count, 6);
  assert.deepEqual(await read(), [6, 30, 23, 59, 0, 0]);
  sim.advance(61.25);
  assert.deepEqual(await read(), [7, 1, 0, 0, 1, 250000], 'simulated time, not the wall clock');
  // Without a start: local midnight, 1 January 2026, so that runs are reproducible.
  const r = await createSimulatedBackend(sim).host.read(new Set(['HostTime']));
  assert.deepEqual([r.time_year, r.time_month, r.time_day, r.time_hour], [2026, 1, 1, 0]);
});

test("the QEMU process's host page faults: fresh host pages are minor faults, host swap-ins major", async () => {
  const sim = createSimulation(tinyScenario([idleGuest('a')]));
  const { hypervisor } = createSimulatedBackend(sim);
  const [a] = await hypervisor.listGuests();
  assert.ok(a);
  const faults = async (): Promise<[number, number]> => {
    const s = (await hypervisor.guestStats([a.id])).get(a.id);
    assert.ok(s && !(s instanceof Error));
    return [s.host_minor_faults ?? NaN, s.host_major_faults ?? NaN];
  };
  const [minor0] = await faults();
  sim.advance(30); // the guest boots and touches its 300 MiB
  const [minor, major] = await faults();
  assert.ok(minor - minor0 >= (250 * MIB) / 4, `minor faults ${minor0} → ${minor}`);
  assert.equal(major, 0, 'nothing was in host swap');
});
