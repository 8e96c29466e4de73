import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { FakeHypervisor } from '../../test/support/fakes.js';
import { HypervisorError, type HypervisorCapability } from '../hypervisors/hypervisor.js';
import { ContentionPause, pauseOrder, type PauseCandidate, type PauseChange } from './contention-pause.js';
import { memoryRecord, type PauseRecord } from './pause-record.js';

const MiB = 1024;
const cand = (name: string, shares: number | null, rssMib: number | null): PauseCandidate => ({
  id: `id-${name}`,
  name,
  shares,
  rssKib: rssMib === null ? null : rssMib * MiB,
});

test('the order of a pause: lowest shares, then the largest resident memory, then the name', () => {
  const names = (c: PauseCandidate[]): string[] => pauseOrder(c).map((g) => g.name);
  assert.deepEqual(names([cand('a', 2000, 900), cand('b', 500, 100), cand('c', 1000, 4000)]), [
    'b',
    'c',
    'a',
  ]);
  assert.deepEqual(names([cand('small', 1000, 100), cand('big', 1000, 800)]), ['big', 'small']);
  assert.deepEqual(names([cand('web2', 1000, 512), cand('web1', 1000, 512)]), ['web1', 'web2']);
  // Unknown shares count as the default 1000, an unknown resident memory as 0.
  assert.deepEqual(names([cand('x', null, 100), cand('y', 999, null), cand('z', 1000, null)]), [
    'y',
    'x',
    'z',
  ]);
});

interface Bed {
  hv: FakeHypervisor;
  step: ContentionPause;
  changes: PauseChange[];
  lines: Array<Record<string, unknown>>;
  candidates: () => PauseCandidate[];
}

function bed(
  settings = { enabled: true, afterS: 20 },
  withCapability = true,
  record: PauseRecord = memoryRecord(),
): Bed {
  const hv = new FakeHypervisor();
  if (withCapability) hv.capabilities = new Set<HypervisorCapability>(['balloon', 'guest-stats', 'pause']);
  for (const n of ['gold', 'bronze', 'silver']) hv.add(n);
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'debug' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  const changes: PauseChange[] = [];
  const step = new ContentionPause(hv, settings, log, (c) => changes.push(c), record);
  const candidates = (): PauseCandidate[] => [
    cand('gold', 4000, 1024),
    cand('bronze', 200, 512),
    cand('silver', 1000, 2048),
  ];
  return { hv, step, changes, lines, candidates };
}
const on = (since: number) => ({ since, psiFull: 35 });
const off = { since: null, psiFull: 2 };

test('once an episode has lasted afterS, the guest with the lowest shares is paused; it is resumed when the episode ends', async () => {
  const { hv, step, changes, lines, candidates } = bed();
  await step.step(off, 0, candidates, false);
  await step.step(on(100), 100, candidates, false);
  await step.step(on(100), 110, candidates, false);
  assert.deepEqual(hv.pauseCalls, [], 'not before afterS');
  await step.step(on(100), 120, candidates, false);
  assert.deepEqual(hv.pauseCalls, [{ id: 'id-bronze', call: 'pause' }]);
  assert.equal(step.paused, 'bronze');
  await step.step(on(100), 130, candidates, false);
  await step.step(on(100), 200, candidates, false);
  assert.equal(hv.pauseCalls.length, 1, 'one guest, paused once');
  const said = lines.find((l) => l['code'] === 'MOM_E_CONTENTION_PAUSE');
  assert.equal(said?.['level'], 50, 'at error level');
  assert.equal(said?.['guest'], 'bronze');
  assert.equal(said?.['shares'], 200);
  assert.equal(said?.['psi_full'], 35);
  assert.match(
    String(said?.['msg']),
    /^contention: paused guest bronze: contention for 20 s \(host memory PSI full 35%\): bronze is the running guest with the lowest priority \(shares 200, resident 512 MiB; 3 guests\)/,
  );
  await step.step(off, 230, candidates, false);
  assert.deepEqual(hv.pauseCalls[1], { id: 'id-bronze', call: 'resume' });
  assert.equal(step.paused, null);
  assert.deepEqual(
    changes.map((c) => c.change),
    ['paused', 'resumed'],
  );
  assert.deepEqual(changes[1], {
    change: 'resumed',
    guest: 'bronze',
    pausedS: 110,
    reason: 'the contention is over',
  });
  assert.ok(lines.some((l) => l['code'] === 'MOM_W_CONTENTION_RESUME' && l['paused_s'] === 110));
  // A new episode may pause again.
  await step.step(on(300), 300, candidates, false);
  await step.step(on(300), 320, candidates, false);
  assert.equal(hv.pauseCalls.length, 3);
});

test('a guest paused by someone else is passed over and never resumed by momd; a guest gone is passed over', async () => {
  const { hv, step, changes, candidates } = bed({ enabled: true, afterS: 0 });
  hv.runStates.set('id-bronze', 'paused');
  hv.guests.delete('silver'); // gone: runState says MOM_E_GUEST_GONE
  await step.step(on(10), 10, candidates, false);
  assert.deepEqual(hv.pauseCalls, [{ id: 'id-gold', call: 'pause' }], 'the next one in order that runs');
  await step.step(off, 50, candidates, false);
  assert.deepEqual(hv.pauseCalls[1], { id: 'id-gold', call: 'resume' });
  assert.equal(hv.runStates.get('id-bronze'), 'paused', 'left as someone else left it');
  assert.deepEqual(
    changes.map((c) => [c.change, c.guest]),
    [
      ['paused', 'gold'],
      ['resumed', 'gold'],
    ],
  );
});

test('no running guest: said once per episode at error level, nothing paused', async () => {
  const { hv, step, lines, candidates } = bed({ enabled: true, afterS: 0 });
  for (const id of ['id-gold', 'id-bronze', 'id-silver']) hv.runStates.set(id, 'paused');
  await step.step(on(10), 10, candidates, false);
  await step.step(on(10), 20, candidates, false);
  assert.deepEqual(hv.pauseCalls, []);
  assert.equal(lines.filter((l) => l['code'] === 'MOM_E_PAUSE_FAILED').length, 1);
  assert.equal(step.paused, null);
});

test('a failed pause is tried again next cycle; a failed resume keeps the guest and is tried again; errors said once', async () => {
  const { hv, step, lines, candidates } = bed({ enabled: true, afterS: 0 });
  hv.pauseFailWith = new HypervisorError('MOM_E_TIMEOUT', 'no reply within 5000 ms');
  await step.step(on(10), 10, candidates, false);
  await step.step(on(10), 20, candidates, false);
  assert.equal(step.paused, null);
  const failures = lines.filter((l) => l['code'] === 'MOM_E_PAUSE_FAILED');
  assert.deepEqual(
    failures.map((l) => l['level']),
    [50, 20],
    'error once, then debug while it repeats',
  );
  hv.pauseFailWith = undefined;
  await step.step(on(10), 30, candidates, false);
  assert.equal(step.paused, 'bronze');
  hv.pauseFailWith = new HypervisorError('MOM_E_TRANSPORT', 'virsh: connection reset');
  await step.step(off, 40, candidates, false);
  assert.equal(step.paused, 'bronze', 'still ours to resume');
  hv.pauseFailWith = undefined;
  await step.step(off, 50, candidates, false);
  assert.equal(step.paused, null);
  assert.deepEqual(hv.pauseCalls.at(-1), { id: 'id-bronze', call: 'resume' });
});

test('release resumes the guest momd holds (shutdown, reload); a guest gone meanwhile is forgotten', async () => {
  const { hv, step, changes, candidates } = bed({ enabled: true, afterS: 0 });
  await step.release('momd stops', 0);
  assert.equal(hv.pauseCalls.length, 0, 'nothing held, nothing resumed');
  await step.step(on(10), 10, candidates, false);
  await step.release('momd stops', 15);
  assert.deepEqual(
    hv.pauseCalls.map((c) => c.call),
    ['pause', 'resume'],
  );
  assert.deepEqual(changes.at(-1), { change: 'resumed', guest: 'bronze', pausedS: 5, reason: 'momd stops' });
  // Gone while paused.
  await step.step(on(100), 100, candidates, false);
  hv.guests.delete('bronze');
  await step.step(off, 120, candidates, false);
  assert.equal(step.paused, null);
  assert.deepEqual(changes.at(-1), { change: 'gone', guest: 'bronze' });
});

test('off, a backend without pause, or a dry run: nothing is paused', async () => {
  for (const [b, dryRun] of [
    [bed({ enabled: false, afterS: 0 }), false],
    [bed({ enabled: true, afterS: 0 }, false), false],
    [bed({ enabled: true, afterS: 0 }), true],
  ] as const) {
    await b.step.step(on(10), 10, b.candidates, dryRun);
    await b.step.step(on(10), 20, b.candidates, dryRun);
    assert.deepEqual(b.hv.pauseCalls, []);
    assert.deepEqual(b.changes, []);
  }
  const dry = bed({ enabled: true, afterS: 0 });
  await dry.step.step(on(10), 10, dry.candidates, true);
  await dry.step.step(on(10), 20, dry.candidates, true);
  const would = dry.lines.filter((l) => String(l['msg']).startsWith('dry run: would pause guest bronze'));
  assert.equal(would.length, 1, 'said once per episode');
});

test('the paused guest is noted before the pause and the note removed after the resume', async () => {
  const record = memoryRecord();
  const { hv, step, candidates } = bed({ enabled: true, afterS: 0 }, true, record);
  const saved: unknown[] = [];
  const save = record.save.bind(record);
  record.save = (g) => {
    saved.push({ guest: g, pausesBefore: hv.pauseCalls.length });
    save(g);
  };
  await step.step(on(100), 100, candidates, false);
  assert.deepEqual(saved, [{ guest: { id: 'id-bronze', name: 'bronze' }, pausesBefore: 0 }]);
  assert.deepEqual(record.current, { id: 'id-bronze', name: 'bronze' });
  await step.step(off, 200, candidates, false);
  assert.equal(record.current, null);
});

test('a note left by a killed momd: a guest still paused is resumed at the first cycle, one that runs is only forgotten', async () => {
  const record = memoryRecord({ id: 'id-silver', name: 'silver' });
  const { hv, step, changes, lines, candidates } = bed({ enabled: false, afterS: 0 }, true, record);
  hv.runStates.set('id-silver', 'paused');
  await step.step(off, 0, candidates, false);
  assert.deepEqual(hv.pauseCalls, [{ id: 'id-silver', call: 'resume' }], 'resumed even with the step off');
  assert.equal(record.current, null);
  assert.equal(changes[0]?.change, 'resumed');
  assert.match(
    String(lines.find((l) => l['code'] === 'MOM_W_CONTENTION_RESUME')?.['msg']),
    /^resumed guest silver, paused for contention by an earlier momd that stopped without resuming it$/,
  );
  await step.step(off, 10, candidates, false);
  assert.equal(hv.pauseCalls.length, 1, 'once');

  const running = bed({ enabled: true, afterS: 0 }, true, memoryRecord({ id: 'id-gold', name: 'gold' }));
  await running.step.step(off, 0, running.candidates, false);
  assert.deepEqual(running.hv.pauseCalls, [], 'a guest that runs (resumed by hand) is left alone');
  const gone = memoryRecord({ id: 'id-vanished', name: 'vanished' });
  const g = bed({ enabled: true, afterS: 0 }, true, gone);
  await g.step.step(off, 0, g.candidates, false);
  assert.equal(gone.current, null, 'a guest that is gone is forgotten');
});

test('no pause when the note cannot be written: the guest would stay paused if momd were killed', async () => {
  const record = memoryRecord();
  record.save = () => {
    throw new Error('EACCES: permission denied');
  };
  const { hv, step, lines, candidates } = bed({ enabled: true, afterS: 0 }, true, record);
  await step.step(on(100), 100, candidates, false);
  assert.deepEqual(hv.pauseCalls, []);
  assert.equal(step.paused, null);
  assert.match(
    String(lines.find((l) => l['code'] === 'MOM_E_PAUSE_FAILED')?.['msg']),
    /not pausing guest bronze: cannot note it for a later momd \(contention-pause-record\): EACCES/,
  );
});
