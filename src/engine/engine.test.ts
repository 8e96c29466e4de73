// The engine on the simulated host: the same engine, controllers and scheduler the daemon runs,
// driven by the simulated clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { NOT_OWNED } from '../controllers/zswap.js';
import { MomError } from '../errors.js';
import type { HostSource } from '../hypervisors/host.js';
import type { Hypervisor, HypervisorCapability } from '../hypervisors/hypervisor.js';
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

/** A debug-level logger whose lines land in `lines`, parsed. */
function capturingLog(lines: Array<Record<string, unknown>>): pino.Logger {
  return pino(
    { level: 'debug' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
}

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

test('a field whose collector is not configured reads nil, like one the kernel lacks; a misspelt one fails', async () => {
  // HostPressure is not among SETTINGS' host collectors: its fields are nil, not undefined symbols.
  const ok = await runEngine(
    scenario([idle('a')]),
    policy('(with Guests g (if (valid Host.psi_some_avg10) 0 (g.Control "balloon_target" 700000)))'),
    60,
  );
  assert.deepEqual(ok.errors, []);
  assert.ok(ok.reports.some((r) => r.status === 'done'));
  assert.ok(ok.balloonCalls.length > 0, 'the policy saw psi_some_avg10 as nil and acted');
  const typo = await runEngine(scenario([idle('a')]), policy('(valid Host.psi_some_avg11)'), 60);
  assert.ok(typo.reports.some((r) => r.status === 'policy-error' && /Undefined symbol/.test(r.error)));
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

test('configured floors, ceilings and opt-outs bind whatever the policy asks, and the policy sees them', async () => {
  const MiB = 1024;
  const run = await runEngine(
    scenario([idle('floored'), idle('capped'), idle('out')]),
    policy(
      '(with Guests g (g.Control "balloon_target" (if (== (g.Prop "name") "capped") g.balloon_max 300000)))',
    ),
    60,
    {
      guestLimits: [
        { match: 'floored', floorKib: 900 * MiB, ceilingKib: null, balloon: true },
        { match: 'capped', floorKib: null, ceilingKib: 800 * MiB, balloon: true },
        { match: 'out', floorKib: null, ceilingKib: null, balloon: false },
      ],
    },
  );
  const last = run.reports.at(-1);
  assert.ok(last && last.status === 'done');
  const stat = (name: string, field: string) =>
    last.snapshot.guests.find((g) => g.properties.name === name)?.stats.at(-1)?.[field];
  assert.equal(stat('floored', 'balloon_min'), 900 * MiB);
  assert.equal(stat('capped', 'balloon_max'), 800 * MiB);
  assert.equal(stat('out', 'balloon_opt_out'), 1);
  const ids = new Map(
    last.snapshot.guests.map((g) => [String(g.properties.name), String(g.properties['uuid'])]),
  );
  const sentTo = (name: string) => run.balloonCalls.filter((c) => c.id === ids.get(name)).map((c) => c.kib);
  assert.deepEqual(sentTo('floored'), [900 * MiB]);
  assert.deepEqual(sentTo('capped'), [800 * MiB]);
  assert.deepEqual(sentTo('out'), []);
  const skipped = last.outcomes.find((o) => o.entity === 'out');
  assert.deepEqual(
    [skipped?.outcome, skipped?.reason],
    ['skipped', 'opted out of ballooning by the configuration'],
  );
});

test('a host without KSM: the policy runs, balloons are applied, KSM controls are skipped saying why, once in the log', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const sim = createSimulation(
    parseScenario({ ...scenario([idle('a')]), ksm: { available: false } }, 'inline'),
    { seed: 7 },
  );
  const ports = createSimulatedBackend(sim);
  const engine = createEngine({
    settings: SETTINGS,
    hypervisor: ports.hypervisor,
    host: ports.host,
    now: () => sim.now,
    log: capturingLog(lines),
    policy: policy(
      '(Host.Control "ksm_run" 1)\n(with Guests g (g.Control "balloon_target" 700000))\n(Host.SetVar "ksm_seen" (valid Host.ksm_run))',
    ),
  });
  const reports: CycleReport[] = [];
  engine.events.on('cycle', (r) => reports.push(r));
  await runTasks(engine.tasks, simulatedClock(sim, 'fast'), new AbortController().signal, {
    until: 60,
    onError: (task, err) => assert.fail(`${task}: ${(err as Error).message}`),
  });
  assert.ok(reports.length >= 5 && reports.every((r) => r.status === 'done'));
  const last = reports.at(-1);
  assert.ok(last && last.status === 'done');
  assert.equal(last.snapshot.host.stats.at(-1)?.['ksm_run'], null, 'the KSM fields are nil');
  const ksm = last.outcomes.find((o) => o.control === 'ksm_run');
  assert.equal(ksm?.outcome, 'skipped');
  assert.match(ksm?.reason ?? '', /ksm\.available: false/);
  assert.ok(
    reports.some(
      (r) =>
        r.status === 'done' &&
        r.outcomes.some((o) => o.control === 'balloon_target' && o.outcome === 'applied'),
    ),
  );
  assert.equal(lines.filter((l) => l['code'] === 'MOM_W_KSM_MISSING').length, 1, 'said once at start');
  const skips = lines.filter((l) => l['control'] === 'ksm_run' && /skipped/.test(String(l['msg'])));
  assert.equal(skips.filter((l) => l['level'] === 30).length, 1, 'the skip at info level once, then debug');
});

test('zswap: the policy sees Host.Prop "zswap_owned"; a host without it is said once, a warning only when momd owns it', async () => {
  const go = async (zswapOwned: boolean) => {
    const lines: Array<Record<string, unknown>> = [];
    const sim = createSimulation(parseScenario(scenario([idle('a')]), 'inline'), { seed: 7 });
    const ports = createSimulatedBackend(sim);
    const engine = createEngine({
      settings: { ...SETTINGS, controllers: ['Balloon', 'KSM', 'Zswap'], zswapOwned },
      hypervisor: ports.hypervisor,
      host: ports.host,
      now: () => sim.now,
      log: capturingLog(lines),
      policy: policy('(Host.SetVar "owned" (Host.Prop "zswap_owned"))\n(Host.Control "zswap_enabled" 1)'),
    });
    const reports: CycleReport[] = [];
    engine.events.on('cycle', (r) => reports.push(r));
    await runTasks(engine.tasks, simulatedClock(sim, 'fast'), new AbortController().signal, {
      until: 30,
      onError: (task, err) => assert.fail(`${task}: ${(err as Error).message}`),
    });
    const last = reports.at(-1);
    assert.ok(last && last.status === 'done');
    return { lines, last };
  };
  const unowned = await go(false);
  assert.deepEqual(
    unowned.lines.filter((l) => l['code'] === 'MOM_W_ZSWAP_MISSING').map((l) => l['level']),
    [30],
    'said once, at info level',
  );
  assert.ok(!unowned.lines.some((l) => /controller Zswap cannot act/.test(String(l['msg']))));
  const o =
    unowned.last.status === 'done' ? unowned.last.outcomes.find((x) => x.control === 'zswap_enabled') : null;
  assert.deepEqual([o?.outcome, o?.reason], ['skipped', NOT_OWNED]);
  assert.equal(unowned.last.snapshot.host.properties['zswap_owned'], false);
  assert.equal(unowned.last.snapshot.host.stats.at(-1)?.['zswap_enabled'], null, 'nil on the simulated host');

  const owned = await go(true);
  assert.deepEqual(
    owned.lines.filter((l) => l['code'] === 'MOM_W_ZSWAP_MISSING').map((l) => l['level']),
    [40],
    'a warning when momd was to drive it',
  );
  assert.ok(
    owned.lines.some((l) => /controller Zswap cannot act here: the simulated host/.test(String(l['msg']))),
  );
  const p =
    owned.last.status === 'done' ? owned.last.outcomes.find((x) => x.control === 'zswap_enabled') : null;
  assert.deepEqual([p?.outcome, p?.reason], ['skipped', 'the simulated host does not model zswap']);
});

test('engine events reach every listener; a listener that throws does not stop the cycle', async () => {
  const sim = createSimulation(parseScenario(scenario([idle('a')]), 'inline'), { seed: 7 });
  const ports = createSimulatedBackend(sim);
  const errors: string[] = [];
  const engine = createEngine({
    settings: SETTINGS,
    hypervisor: ports.hypervisor,
    host: ports.host,
    now: () => sim.now,
    log: pino({ level: 'error' }, { write: (s: string) => void errors.push(s) }),
    policy: policy('(with Guests g (g.Control "balloon_target" 700000))'),
  });
  const seen = { cycles: 0, cycles2: 0, outcomes: 0, host: 0, guest: 0, evaluations: 0, capabilities: 0 };
  engine.events.on('cycle', () => seen.cycles++);
  engine.events.on('cycle', () => {
    seen.cycles2++;
    throw new Error('a broken listener');
  });
  engine.events.on('outcome', () => seen.outcomes++);
  engine.events.on('collection', (e) => (e.scope === 'host' ? seen.host++ : seen.guest++));
  engine.events.on('evaluation', (e) => {
    if (e.ok) seen.evaluations++;
  });
  engine.events.on('capabilities', () => seen.capabilities++);
  await runTasks(engine.tasks, simulatedClock(sim, 'fast'), new AbortController().signal, {
    until: 50,
    onError: (task, err) => assert.fail(`${task}: ${(err as Error).message}`),
  });
  assert.equal(seen.cycles, 6);
  assert.equal(seen.cycles2, 6);
  assert.ok(seen.outcomes >= 6 && seen.host >= 10 && seen.guest >= 10);
  assert.equal(seen.evaluations, 6);
  assert.equal(seen.capabilities, 1);
  assert.ok(errors.some((e) => /a listener of cycle events failed/.test(e)));
});

test('a pressure rise between cycles runs a cycle within a second, saying why; the policy sees Host.Prop "woken"', async () => {
  // A guest that allocates 1.5 GiB at 25 s on a 2 GiB host with cycles every 30 s.
  const input: ScenarioInput = {
    name: 'spike',
    duration_s: 120,
    host: { memory_gib: 2, swap_gib: 2, cache_mib: 64 },
    guests: [
      {
        name: 'sp',
        memory_mib: 1800,
        workload: { kind: 'spike', keep_mib: 64, boot_s: 5, at_s: 25, size_mib: 1500, hold_s: 60 },
      },
    ],
  };
  const run = await runEngine(
    input,
    policy(
      '(if (valid (Host.Prop "woken")) (Host.SetVar "woken" (Host.Prop "woken")) 0)\n(Host.Control "ksm_run" 0)',
    ),
    60,
    { policyEngineInterval: 30, pressureCheckInterval: 0.5, pressureWakeFree: 0.08 },
  );
  assert.deepEqual(run.errors, []);
  const times = run.reports.map((r) => r.t);
  const early = times.filter((t) => t % 30 !== 0);
  assert.ok(early.length >= 1, `cycles at ${times.join(', ')}`);
  const first = early[0] ?? Infinity;
  assert.ok(first > 25 && first < 40, `an early cycle soon after the spike at 25 s: ${times.join(', ')}`);
});

/** The engine on a simulated host with one idle guest, its log lines kept; runs the host monitor once. */
async function engineOnSim(settings: Partial<EngineSettings>) {
  const sim = createSimulation(parseScenario(scenario([idle('a')]), 'inline'), { seed: 7 });
  const ports = createSimulatedBackend(sim);
  const lines: string[] = [];
  const engine = createEngine({
    settings: { ...SETTINGS, ...settings },
    ...ports,
    log: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }),
    now: () => sim.now,
    policy: undefined,
  });
  const task = (name: string) => {
    const t = engine.tasks.find((x) => x.name === name);
    assert.ok(t, name);
    return () => t.run(new AbortController().signal);
  };
  await task('host-monitor')();
  return { sim, engine, lines, task };
}

test('GuestCpuTune and GuestIoTune on a backend that cannot read them: nil fields and one warning each', async () => {
  const { lines } = await engineOnSim({
    guestCollectors: ['GuestBalloon', 'GuestCpuTune', 'GuestIoTune'],
    controllers: ['CpuTune', 'IoTune'],
  });
  const missing = lines.filter((l) => l.includes('MOM_W_TUNING_MISSING'));
  assert.equal(missing.length, 2, lines.join('\n'));
  assert.match(missing[0] ?? '', /GuestCpuTune: the simulated backend cannot read it/);
  assert.ok(lines.some((l) => l.includes('controller CpuTune cannot act here')));
});

test('GuestQemuAgent on a backend that cannot reach agents: GuestMemory still collected, one warning', async () => {
  const { sim, engine, lines, task } = await engineOnSim({
    guestCollectors: ['GuestBalloon', 'GuestQemuAgent'],
  });
  const missing = lines.filter((l) => l.includes('MOM_W_AGENT_MISSING'));
  assert.equal(missing.length, 1, lines.join('\n'));
  assert.match(missing[0] ?? '', /GuestQemuAgent: the simulated backend cannot reach guest agents/);
  // GuestQemuAgent brings GuestMemory's fields with it, read from the balloon here.
  sim.advance(30);
  await task('guest-manager')();
  await task('guest-monitor')();
  await task('guest-monitor')();
  assert.equal(lines.filter((l) => l.includes('MOM_W_AGENT_MISSING')).length, 1, 'said once');
  const latest = engine.guests.all()[0]?.monitor.history.latest();
  assert.equal(typeof latest?.['mem_available'], 'number', JSON.stringify(latest));
});

test('a policy failing cycle after cycle: held, then the safe fallback gives memory back slowly; a good policy ends it', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const sim = createSimulation(parseScenario(scenario([idle('a'), idle('b')]), 'inline'), { seed: 7 });
  const ports = createSimulatedBackend(sim);
  const calls: Array<{ t: number; id: string; kib: number }> = [];
  const hypervisor: Hypervisor = {
    ...ports.hypervisor,
    listGuests: (s) => ports.hypervisor.listGuests(s),
    guestStats: (ids, s) => ports.hypervisor.guestStats(ids, s),
    setBalloonTarget: (id, kib, s) => {
      calls.push({ t: sim.now, id, kib });
      return ports.hypervisor.setBalloonTarget(id, kib, s);
    },
    close: () => ports.hypervisor.close(),
  };
  const engine = createEngine({
    settings: SETTINGS,
    hypervisor,
    host: ports.host,
    now: () => sim.now,
    log: capturingLog(lines),
    // Squeezes both guests to 500000 KiB, then from t=60 fails (division by zero) every cycle.
    policy: policy(
      '(with Guests g (g.Control "balloon_target" 500000))\n(if (> (Host.Prop "time") 60) (/ 1 0) 0)',
    ),
  });
  const reports: Array<CycleReport & { t: number }> = [];
  let fixed = false;
  engine.events.on('cycle', (r) => {
    reports.push({ ...r, t: sim.now });
    if (sim.now >= 200 && !fixed) {
      fixed = true;
      engine.setPolicy(policy('(with Guests g (g.Control "balloon_target" 600000))'));
    }
  });
  await runTasks(engine.tasks, simulatedClock(sim, 'fast'), new AbortController().signal, {
    until: 300,
    onError: (task, err) => assert.fail(`${task}: ${(err as Error).message}`),
  });
  const failed = reports.filter((r) => r.status === 'policy-error');
  assert.ok(failed.length >= 10, `${failed.length} failed cycles`);
  const first = failed[0]?.t ?? 0;
  const third = failed[2]?.t ?? 0;
  // Held for the first two failures: nothing sent.
  assert.deepEqual(
    calls.filter((c) => c.t >= first && c.t < third),
    [],
  );
  // From the third failure on, each guest's target only grows, by at most 5% of its maximum
  // (1 GiB) per cycle, and never past it.
  const during = calls.filter((c) => c.t >= third && c.t < 200);
  assert.ok(during.length >= 4, JSON.stringify(during));
  for (const id of new Set(during.map((c) => c.id))) {
    const ks = during.filter((c) => c.id === id).map((c) => c.kib);
    let prev = 500_000;
    for (const k of ks) {
      assert.ok(k > prev && k - prev <= 0.05 * 1_048_576 + 1 && k <= 1_048_576, `${id}: ${ks.join(', ')}`);
      prev = k;
    }
  }
  const state = failed.at(-1);
  assert.ok(state?.status === 'policy-error' && state.fallback.since === third);
  assert.ok(
    lines.some((l) => l['code'] === 'MOM_E_POLICY_FALLBACK'),
    'the fallback is announced at error level',
  );
  assert.equal(lines.filter((l) => l['code'] === 'MOM_E_POLICY_FALLBACK').length, 1);
  // The good policy is in charge again: it sets 600000, the fallback is said to be over.
  const after = reports.filter((r) => r.t > 210);
  assert.ok(after.length > 0 && after.every((r) => r.status === 'done'));
  assert.ok(calls.some((c) => c.t > 200 && c.kib === 600_000));
  assert.ok(lines.some((l) => l['code'] === 'MOM_W_POLICY_FALLBACK_OVER'));
});

test('policy-fallback-after 0: a failing policy only holds, for ever', async () => {
  const run = await runEngine(
    scenario([idle('a')]),
    policy('(with Guests g (g.Control "balloon_target" 500000))\n(if (> (Host.Prop "time") 30) (/ 1 0) 0)'),
    200,
    { policyFallbackAfter: 0 },
  );
  const failedAt = run.reports.find((r) => r.status === 'policy-error')?.t ?? Infinity;
  assert.ok(failedAt < 50);
  assert.deepEqual(
    run.balloonCalls.filter((_, i) => i > 0),
    [],
    'only the first squeeze was sent',
  );
});

test('while the host collector fails, no cycle runs and no guest is shrunk; cycles resume when it reads again', async () => {
  const sim = createSimulation(parseScenario(scenario([idle('a')]), 'inline'), { seed: 7 });
  const ports = createSimulatedBackend(sim);
  const calls: Array<{ t: number; kib: number }> = [];
  const engine = createEngine({
    settings: SETTINGS,
    hypervisor: {
      ...ports.hypervisor,
      listGuests: (s) => ports.hypervisor.listGuests(s),
      guestStats: (ids, s) => ports.hypervisor.guestStats(ids, s),
      setBalloonTarget: (id, kib, s) => {
        calls.push({ t: sim.now, kib });
        return ports.hypervisor.setBalloonTarget(id, kib, s);
      },
      close: () => ports.hypervisor.close(),
    },
    host: {
      ...ports.host,
      probe: (s) => ports.host.probe(s),
      read: (groups, s) => {
        if (sim.now >= 30 && sim.now < 120)
          throw new MomError('MOM_E_HOST_READ', '/proc/meminfo: unreadable');
        return ports.host.read(groups, s);
      },
    },
    now: () => sim.now,
    log: pino({ level: 'silent' }),
    // Shrinks a little more every cycle: any cycle that runs sends a target.
    policy: policy('(with Guests g (g.Control "balloon_target" (- g.balloon_cur 20000)))'),
  });
  const reports: Array<CycleReport & { t: number }> = [];
  engine.events.on('cycle', (r) => reports.push({ ...r, t: sim.now }));
  await runTasks(engine.tasks, simulatedClock(sim, 'fast'), new AbortController().signal, {
    until: 200,
    onError: () => {},
  });
  const during = reports.filter((r) => r.t >= 35 && r.t < 120);
  assert.ok(during.length >= 5 && during.every((r) => r.status === 'skipped'), JSON.stringify(during));
  assert.deepEqual(
    calls.filter((c) => c.t >= 35 && c.t < 120),
    [],
  );
  assert.ok(reports.some((r) => r.t >= 130 && r.status === 'done'));
  assert.ok(calls.some((c) => c.t >= 130));
});

/** Contention on after 30 s of host memory PSI full at 10% or more, with PSI collected. */
const CONTENTION_SETTINGS: EngineSettings = {
  ...SETTINGS,
  contentionPsiFull: 10,
  contentionAfter: 30,
  hostCollectors: ['HostMemory', 'HostKSM', 'HostPressure'],
};

/** The host stalls (memory PSI full 40%) from t=60 to t=200 of the simulation, then is calm. */
const stallsFrom60To200 =
  (sim: { readonly now: number }): (() => number) =>
  () =>
    sim.now >= 60 && sim.now < 200 ? 40 : 0;

/** The simulated host port, its memory PSI full (avg10) given by `psi` at each read. */
function stallingHost(host: HostSource, psi: () => number): HostSource {
  return {
    ...host,
    probe: (s) => host.probe(s),
    read: async (groups, s) => ({ ...(await host.read(groups, s)), psi_full_avg10: psi() }),
  };
}

test('contention on the simulated host: every guest squeezed to its floor while the host stalls starts an episode; calm ends it', async () => {
  const MiB = 1024;
  const sim = createSimulation(parseScenario(scenario([idle('a'), idle('b')]), 'inline'), { seed: 7 });
  const ports = createSimulatedBackend(sim);
  const lines: Array<Record<string, unknown>> = [];
  const psi = stallsFrom60To200(sim);
  const engine = createEngine({
    settings: {
      ...CONTENTION_SETTINGS,
      guestLimits: ['a', 'b'].map((match) => ({
        match,
        floorKib: 900 * MiB,
        ceilingKib: null,
        balloon: true,
      })),
    },
    hypervisor: ports.hypervisor,
    host: stallingHost(ports.host, psi),
    now: () => sim.now,
    log: capturingLog(lines),
    // Asks for less than the floor: every guest ends at its floor.
    policy: policy('(with Guests g (g.Control "balloon_target" 0))'),
  });
  const seen: Array<{ change: string; at: number }> = [];
  engine.events.on('contention', (e) => seen.push({ change: e.change, at: e.at }));
  await runTasks(engine.tasks, simulatedClock(sim, 'fast'), new AbortController().signal, {
    until: 320,
    onError: (task, err) => assert.fail(`${task}: ${(err as Error).message}`),
  });
  assert.deepEqual(
    seen.map((e) => e.change),
    ['started', 'ended'],
  );
  const [start, end] = seen;
  // Started 30 s into the stall (a cycle every 10 s), ended 30 s into the calm.
  assert.ok(start && start.at >= 90 && start.at <= 110, `started at ${start?.at}`);
  assert.ok(end && end.at >= 230 && end.at <= 250, `ended at ${end?.at}`);
  const said = lines.filter((l) => l['code'] === 'MOM_E_CONTENTION');
  assert.equal(said.length, 1);
  assert.match(String(said[0]?.['msg']), /^contention: host memory PSI full 40% for \d+ s with every guest/);
});

test('contention-pause on the simulated host: the guest with the lowest shares is paused during the episode and resumed at its end; stop() resumes it too', async () => {
  const MiB = 1024;
  /** One run: the host stalls from t=60 to t=200; `until` ends it, then engine.stop(). */
  const run = async (
    until: number,
  ): Promise<{ calls: string[]; pauses: string[]; lines: Array<Record<string, unknown>> }> => {
    const sim = createSimulation(parseScenario(scenario([idle('a'), idle('b'), idle('c')]), 'inline'), {
      seed: 7,
    });
    const ports = createSimulatedBackend(sim);
    const lines: Array<Record<string, unknown>> = [];
    const calls: string[] = [];
    const states = new Map<string, 'running' | 'paused'>();
    const name = async (id: string): Promise<string> =>
      (await ports.hypervisor.listGuests()).find((g) => g.id === id)?.name ?? id;
    // The simulated host cannot pause a guest (its model has no stopped vCPUs): a pause here is
    // recorded and read back, the workload runs on.
    const hypervisor: Hypervisor = {
      ...ports.hypervisor,
      capabilities: new Set<HypervisorCapability>([...ports.hypervisor.capabilities, 'pause']),
      listGuests: (s) => ports.hypervisor.listGuests(s),
      guestStats: (ids, s) => ports.hypervisor.guestStats(ids, s),
      setBalloonTarget: (id, kib, s) => ports.hypervisor.setBalloonTarget(id, kib, s),
      runState: async (id) => states.get(id) ?? 'running',
      pause: async (id) => {
        calls.push(`${sim.now} pause ${await name(id)}`);
        states.set(id, 'paused');
      },
      resume: async (id) => {
        calls.push(`${sim.now} resume ${await name(id)}`);
        states.set(id, 'running');
      },
      close: () => ports.hypervisor.close(),
    };
    const psi = stallsFrom60To200(sim);
    const engine = createEngine({
      settings: {
        ...CONTENTION_SETTINGS,
        contentionPause: true,
        contentionPauseAfter: 20,
        guestLimits: (
          [
            ['a', 1000],
            ['b', 500],
            ['c', 2000],
          ] as const
        ).map(([match, shares]) => ({ match, floorKib: 900 * MiB, ceilingKib: null, balloon: true, shares })),
      },
      hypervisor,
      host: stallingHost(ports.host, psi),
      now: () => sim.now,
      log: capturingLog(lines),
      policy: policy('(with Guests g (g.Control "balloon_target" 0))'),
    });
    const pauses: string[] = [];
    engine.events.on('pause', (e) => pauses.push(`${e.change} ${e.guest}`));
    await runTasks(engine.tasks, simulatedClock(sim, 'fast'), new AbortController().signal, {
      until,
      onError: (task, err) => assert.fail(`${task}: ${(err as Error).message}`),
    });
    await engine.stop();
    return { calls, pauses, lines };
  };

  const whole = await run(320);
  assert.deepEqual(
    whole.calls.map((c) => c.replace(/^\S+ /, '')),
    ['pause b', 'resume b'],
  );
  // The episode starts 30 s into the stall (90-110), the pause 20 s later; it ends 30 s into the calm.
  const [pausedAt, resumedAt] = whole.calls.map((c) => Number(c.split(' ')[0]));
  assert.ok(pausedAt !== undefined && pausedAt >= 110 && pausedAt <= 130, `paused at ${pausedAt}`);
  assert.ok(resumedAt !== undefined && resumedAt >= 230 && resumedAt <= 250, `resumed at ${resumedAt}`);
  assert.deepEqual(whole.pauses, ['paused b', 'resumed b']);
  const said = whole.lines.filter((l) => l['code'] === 'MOM_E_CONTENTION_PAUSE');
  assert.equal(said.length, 1);
  assert.match(
    String(said[0]?.['msg']),
    /paused guest b: .*b is the running guest with the lowest priority \(shares 500/,
  );

  // Stopped mid-episode (a shutdown, a reload): the guest is resumed on the way out.
  const stopped = await run(170);
  assert.deepEqual(
    stopped.calls.map((c) => c.replace(/^\S+ /, '')),
    ['pause b', 'resume b'],
  );
  assert.deepEqual(stopped.pauses, ['paused b', 'resumed b']);
  assert.ok(
    stopped.lines.some(
      (l) => l['code'] === 'MOM_W_CONTENTION_RESUME' && /shutdown or reload/.test(String(l['msg'])),
    ),
  );
});

test('contention-pause on a backend that cannot pause: one warning at start', async () => {
  const sim = createSimulation(parseScenario(scenario([idle('a')]), 'inline'), { seed: 7 });
  const ports = createSimulatedBackend(sim);
  const lines: Array<Record<string, unknown>> = [];
  const engine = createEngine({
    settings: { ...SETTINGS, contentionPsiFull: 10, contentionPause: true },
    hypervisor: ports.hypervisor,
    host: ports.host,
    now: () => sim.now,
    log: capturingLog(lines),
    policy: undefined,
  });
  await runTasks(engine.tasks, simulatedClock(sim, 'fast'), new AbortController().signal, {
    until: 60,
    onError: (task, err) => assert.fail(`${task}: ${(err as Error).message}`),
  });
  const warned = lines.filter((l) => l['code'] === 'MOM_W_PAUSE_MISSING');
  assert.equal(warned.length, 1);
  assert.match(String(warned[0]?.['msg']), /the simulated backend cannot pause guests/);
});
