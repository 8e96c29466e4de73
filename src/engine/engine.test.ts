// The engine on the simulated host: the same engine, controllers and scheduler the daemon runs,
// driven by the simulated clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { MomError } from '../errors.js';
import type { Hypervisor } from '../hypervisors/hypervisor.js';
import { createSimulatedBackend } from '../hypervisors/simulated/index.js';
import type { PolicySource } from '../policy/index.js';
import { createSimulation, parseScenario, type ScenarioInput } from '../sim/index.js';
import type { CycleReport } from './cycle.js';
import { createEngine, type EngineSettings } from './engine.js';
import { runTasks, simulatedClock } from './scheduler.js';

const SETTINGS: EngineSettings = {
  hostMonitorInterval: 5,
  guestMonitorInterval: 5,
  guestManagerInterval: 5,
  policyEngineInterval: 10,
  mainLoopInterval: 5,
  sampleHistoryLength: 10,
  hostCollectors: ['HostMemory', 'HostKSM'],
  guestCollectors: ['GuestQemuProc', 'GuestMemory', 'GuestBalloon'],
  controllers: ['Balloon', 'KSM'],
};

function scenario(guests: ScenarioInput['guests']): ScenarioInput {
  return { name: 'engine-test', duration_s: 600, host: { memory_gib: 8, swap_gib: 2 }, guests };
}
const idle = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  memory_mib: 1024,
  workload: { kind: 'idle' as const, touch_mib: 300, keep_mib: 100, boot_s: 5 },
  ...extra,
});

interface Run {
  reports: Array<CycleReport & { t: number }>;
  balloonCalls: Array<{ id: string; kib: number }>;
  errors: string[];
}

async function runEngine(
  input: ScenarioInput,
  policy: readonly PolicySource[] | undefined,
  until: number,
  settings: Partial<EngineSettings> = {},
  during?: (t: number, engine: ReturnType<typeof createEngine>) => void,
): Promise<Run> {
  const sim = createSimulation(parseScenario(input, 'inline'), { seed: 7 });
  const ports = createSimulatedBackend(sim);
  const run: Run = { reports: [], balloonCalls: [], errors: [] };
  // Spy on balloon requests while still going to the real simulated hypervisor.
  const hypervisor: Hypervisor = {
    name: ports.hypervisor.name,
    capabilities: ports.hypervisor.capabilities,
    listGuests: (s) => ports.hypervisor.listGuests(s),
    guestStats: (ids, s) => ports.hypervisor.guestStats(ids, s),
    setBalloonTarget: (id, kib, s) => {
      run.balloonCalls.push({ id, kib });
      return ports.hypervisor.setBalloonTarget(id, kib, s);
    },
    close: () => ports.hypervisor.close(),
  };
  const engine = createEngine({
    settings: { ...SETTINGS, ...settings },
    hypervisor,
    host: ports.host,
    now: () => sim.now,
    log: pino({ level: 'silent' }),
    policy,
  });
  engine.events.on('cycle', (r) => {
    run.reports.push({ ...r, t: sim.now });
    during?.(sim.now, engine);
  });
  await runTasks(engine.tasks, simulatedClock(sim, 'fast'), new AbortController().signal, {
    until,
    onError: (task, err) => run.errors.push(`${task}: ${(err as Error).message}`),
  });
  return run;
}

const policy = (text: string, file = 'p.policy'): PolicySource[] => [{ file, text }];
const guestNames = (r: CycleReport): string[] =>
  r.status === 'skipped' ? [] : r.snapshot.guests.map((g) => g.properties.name).sort();

test('guests appearing and vanishing mid-run are picked up and dropped without errors', async () => {
  const run = await runEngine(
    scenario([idle('a'), idle('late', { start_s: 60 }), idle('early', { stop_s: 90 })]),
    policy('(with Guests g (g.Control "balloon_target" g.balloon_cur))'),
    200,
  );
  assert.deepEqual(run.errors, []);
  const at = (t: number): string[] => guestNames(run.reports.find((r) => r.t >= t) as CycleReport);
  assert.deepEqual(at(30), ['a', 'early']);
  assert.deepEqual(at(80), ['a', 'early', 'late']);
  assert.deepEqual(at(150), ['a', 'late']);
  assert.ok(run.reports.every((r) => r.status === 'done'));
});

test('a policy that errors applies nothing in that cycle', async () => {
  const run = await runEngine(
    scenario([idle('a'), idle('b')]),
    policy('(with Guests g (g.Control "balloon_target" 500000))\n(Host.Control "ksm_run" 1)\n(/ 1 0)'),
    100,
  );
  const errors = run.reports.filter((r) => r.status === 'policy-error');
  assert.ok(errors.length >= 5);
  assert.match(
    errors[0]?.status === 'policy-error' ? errors[0].error : '',
    /p\.policy:3:1: error: Division by zero/,
  );
  assert.deepEqual(run.balloonCalls, []);
  assert.ok(run.reports.every((r) => r.status !== 'done'));
});

test('an unparsable policy update is rejected and the previous set keeps running', async () => {
  let rejected: unknown;
  const run = await runEngine(
    scenario([idle('a')]),
    policy('(Host.Control "ksm_pages_to_scan" 200)'),
    100,
    {},
    (t, engine) => {
      if (t >= 30 && rejected === undefined)
        rejected = engine.setPolicy(policy('(Host.Control "ksm_run" @)', 'bad.policy'));
    },
  );
  assert.deepEqual(
    (rejected as { ok: boolean; errors: Array<{ message: string }> }).errors.map((e) => e.message),
    ["Unexpected character '@'."],
  );
  const late = run.reports.filter((r) => r.t > 40);
  assert.ok(late.length > 0);
  for (const r of late) {
    assert.equal(r.status, 'done');
    // The old set still runs: it keeps asking for 200 pages (already applied, so unchanged).
    const o = r.status === 'done' ? r.outcomes.find((x) => x.control === 'ksm_pages_to_scan') : undefined;
    assert.deepEqual([o?.outcome, o?.new], ['unchanged', 200]);
  }
});

test('the history keeps sample-history-length samples', async () => {
  const run = await runEngine(scenario([idle('a')]), policy('1'), 100, { sampleHistoryLength: 3 });
  const last = run.reports.at(-1);
  assert.ok(last && last.status === 'done');
  assert.equal(last.snapshot.host.stats.length, 3);
  assert.equal(last.snapshot.guests[0]?.stats.length, 3);
  assert.equal(run.reports[0]?.status === 'done' ? run.reports[0].snapshot.host.stats.length : -1, 1);
});

test('controls are applied only when they change', async () => {
  const run = await runEngine(
    scenario([idle('a'), idle('b')]),
    policy('(with Guests g (g.Control "balloon_target" 700000))\n(Host.Control "ksm_run" 1)'),
    300,
  );
  // One balloon request per guest over 30 cycles, although the policy asks every cycle.
  assert.equal(run.balloonCalls.length, 2);
  assert.ok(run.balloonCalls.every((c) => c.kib === 700000));
  const ksmApplied = run.reports.flatMap((r) =>
    r.status === 'done' ? r.outcomes.filter((o) => o.control === 'ksm_run' && o.outcome === 'applied') : [],
  );
  assert.equal(ksmApplied.length, 1);
});

test('SetVar values persist between cycles', async () => {
  const run = await runEngine(
    scenario([idle('a')]),
    policy(
      '(defvar n (Host.GetVar "n"))\n(if (valid n) 0 (set n 0))\n(Host.SetVar "n" (+ n 1))\n(Host.Control "ksm_pages_to_scan" (+ 100 n))',
    ),
    50,
  );
  const wanted = run.reports.map((r) =>
    r.status === 'done' ? r.outcomes.find((o) => o.control === 'ksm_pages_to_scan')?.new : undefined,
  );
  assert.deepEqual(wanted, [100, 101, 102, 103, 104, 105]);
});

test('a controller whose fields no collector provides stops start-up, naming both', () => {
  const sim = createSimulation(parseScenario(scenario([idle('a')]), 'inline'));
  const ports = createSimulatedBackend(sim);
  assert.throws(
    () =>
      createEngine({
        settings: { ...SETTINGS, hostCollectors: ['HostMemory'] },
        hypervisor: ports.hypervisor,
        host: ports.host,
        now: () => sim.now,
        log: pino({ level: 'silent' }),
        policy: undefined,
      }),
    (err: unknown) =>
      err instanceof MomError &&
      err.code === 'MOM_E_SETUP' &&
      /controller KSM needs the host field 'ksm_run'/.test(err.message),
  );
});

test('a guest without a balloon driver stays in Guests, is marked stuck, and the daemon goes on', async () => {
  const run = await runEngine(
    scenario([idle('drv'), idle('nodrv', { balloon: false })]),
    policy('(with Guests g (g.Control "balloon_target" 700000))'),
    200,
    { balloonStuckTimeout: 30 },
  );
  assert.deepEqual(run.errors, []);
  const last = run.reports.at(-1);
  assert.ok(last && last.status === 'done');
  const stuck = (name: string) =>
    last.snapshot.guests.find((g) => g.properties.name === name)?.stats.at(-1)?.['balloon_stuck'];
  assert.equal(stuck('nodrv'), 1);
  assert.equal(stuck('drv'), 0);
  const nodrv = last.snapshot.guests.find((g) => g.properties.name === 'nodrv')?.stats.at(-1);
  assert.equal(nodrv?.['mem_unused'], null);
});
