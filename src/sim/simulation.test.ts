// The simulation as the daemon sees it: guests coming and going, determinism, the interfaces.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HypervisorError } from '../hypervisors/hypervisor.js';
import { loadScenario } from './scenario.js';
import { createSimulation } from './simulation.js';
import { idleGuest, tinyScenario } from './testkit.js';

test('guests starting late and stopping early appear and disappear; a gone guest gives guest-gone', async () => {
  const sc = tinyScenario([idleGuest('early'), idleGuest('late', { start_s: 20, stop_s: 60 })]);
  const sim = createSimulation(sc);
  const names = async (): Promise<string[]> => (await sim.hypervisor.listGuests()).map((g) => g.name);
  assert.deepEqual(await names(), ['early']);
  sim.advance(25);
  assert.deepEqual(await names(), ['early', 'late']);
  const late = (await sim.hypervisor.listGuests()).find((g) => g.name === 'late');
  assert.ok(late);
  assert.equal(late.pid, null);
  assert.match(late.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  const ok = (await sim.hypervisor.guestStats([late.id])).get(late.id);
  assert.ok(ok && !(ok instanceof Error) && ok.balloon_cur === 1024 * 1024);
  sim.advance(40);
  assert.deepEqual(await names(), ['early']);
  const gone = (await sim.hypervisor.guestStats([late.id, 'no-such-id'])).get(late.id);
  assert.ok(gone instanceof HypervisorError);
  assert.equal(gone.code, 'guest-gone');
  await assert.rejects(sim.hypervisor.setBalloonTarget(late.id, 1000), (e: unknown) => {
    return e instanceof HypervisorError && e.code === 'guest-gone';
  });
  const unknown = (await sim.hypervisor.guestStats(['no-such-id'])).get('no-such-id');
  assert.ok(unknown instanceof HypervisorError && unknown.code === 'guest-gone');
});

test('the interface methods resolve at once, with no timers or I/O', async () => {
  const sim = createSimulation(tinyScenario([idleGuest('a')]));
  const [a] = await sim.hypervisor.listGuests();
  assert.ok(a);
  const calls: Array<Promise<unknown>> = [
    sim.hypervisor.listGuests(),
    sim.hypervisor.guestStats([a.id]),
    sim.hypervisor.setBalloonTarget(a.id, 512 * 1024),
    sim.host.memory(),
    sim.host.ksm(),
    sim.host.pressure(),
    sim.host.ksmShareable(),
    sim.host.ksmdCpuUsage(),
    sim.host.setKsm({ run: 1 }),
  ];
  let settled = 0;
  for (const p of calls) void p.then(() => settled++);
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(settled, calls.length);
});

test('an aborted signal rejects the call', async () => {
  const sim = createSimulation(tinyScenario([idleGuest('a')]));
  const ac = new AbortController();
  ac.abort(new Error('stop'));
  await assert.rejects(sim.hypervisor.listGuests(ac.signal), /stop/);
  await assert.rejects(sim.host.memory(ac.signal), /stop/);
});

test('advance steps in fixed steps and lands exactly on the requested time', () => {
  const sim = createSimulation(tinyScenario([idleGuest('a')], { step_s: 1 }));
  for (let i = 0; i < 4; i++) sim.advance(0.25);
  assert.equal(sim.now, 1);
  sim.advance(2.5);
  assert.equal(sim.now, 3.5);
  assert.throws(() => sim.advance(-1), RangeError);
});

test('host memory adds up: free + cached + anon = total', async () => {
  const sim = createSimulation(loadScenario('small'), { seed: 3 });
  for (const t of [5, 30, 60, 120]) {
    sim.advance(t - sim.now);
    const m = await sim.host.memory();
    assert.ok(Math.abs(m.free + m.cached + m.anon - m.total) < 8, `at ${t}s: ${JSON.stringify(m)}`);
    assert.ok(m.swapFree <= m.swapTotal);
  }
});

test('host swapping shows as memory pressure', async () => {
  const sim = createSimulation(loadScenario('small'));
  sim.advance(20);
  assert.equal((await sim.host.pressure())?.some10, 0);
  sim.advance(30); // the build guest's spike at 25 s pushes the host into swap
  const m = await sim.host.memory();
  assert.ok(m.swapInPages > 0);
  assert.ok(((await sim.host.pressure())?.some10 ?? 0) > 10);
});

test('deterministic: the same seed gives the same results, another seed different ones', () => {
  const run = (seed: number) => {
    const sim = createSimulation(loadScenario('memknobs-32'), { seed });
    sim.advance(600);
    return sim.results();
  };
  const a = run(1);
  assert.deepEqual(run(1), a);
  const b = run(2);
  assert.notEqual(b.throughput_total, a.throughput_total);
  assert.notEqual(b.host_swap_out_pages, a.host_swap_out_pages);
});

test('results sum the guests and name the scenario', () => {
  const sim = createSimulation(loadScenario('small'));
  sim.advance(120);
  const r = sim.results();
  assert.equal(r.scenario, 'small');
  assert.equal(r.duration_s, 120);
  assert.equal(r.guests.length, 4);
  const total = r.guests.reduce((s, g) => s + g.throughput, 0);
  assert.ok(Math.abs(r.throughput_total - total) < 1e-9);
  assert.equal(
    r.guest_swap_in_pages,
    r.guests.reduce((s, g) => s + g.swap_in_pages, 0),
  );
  assert.ok(r.throughput_total > 0);
});
