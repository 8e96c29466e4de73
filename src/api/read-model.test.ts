import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Outcome } from '../controllers/controller.js';
import type { Snapshot } from '../entities/snapshot.js';
import { EngineEvents } from '../engine/events.js';
import { ReadModel } from './read-model.js';
import type { StreamEvent } from './views.js';

const snapshot = (names: string[]): Snapshot => ({
  host: { properties: {}, stats: [{ mem_free: 1 }] },
  guests: names.map((name) => ({ properties: { name }, stats: [{ balloon_cur: 1024 }] })),
});

function setup(opts: { hostHistory?: number; decisions?: number } = {}) {
  const events = new EngineEvents((_e, err) => {
    throw err;
  });
  let now = Date.parse('2026-12-02T10:00:00Z');
  const model = new ReadModel(
    { version: '9.9.9', pid: 42, startedAt: now, backend: () => ({ hypervisor: 'simulated', speed: 2 }) },
    { ...opts, now: () => now },
  );
  const detach = model.attach(events);
  const streamed: StreamEvent[] = [];
  model.subscribe((e) => streamed.push(e));
  const guest = (name: string, sample: Record<string, number> | null, at = 0): void =>
    events.emit('collection', { scope: 'guest', entity: name, at, sample });
  const outcome = (o: Partial<Outcome> & { entity: string; control: string }, at = 0): void =>
    events.emit('outcome', {
      controller: 'Balloon',
      outcome: 'applied',
      old: null,
      new: null,
      ...o,
      at,
    });
  const cycle = (names: string[], outcomes: Outcome[] = []): void =>
    events.emit('cycle', {
      status: 'done',
      outcomes,
      snapshot: snapshot(names),
      at: 0,
      durationMs: 3.5,
      dryRun: false,
    });
  return { events, model, detach, streamed, guest, outcome, cycle, tick: (ms: number) => (now += ms) };
}

test('a guest row carries its latest sample in the API names, and its controls wanted and applied', () => {
  const { model, events, guest, outcome } = setup();
  guest('web', {
    balloon_cur: 2048,
    balloon_max: 4096,
    balloon_min: 512,
    mem_usable: 1024,
    mem_cache: 256,
    swap_in_rate: 1.5,
    balloon_stuck: 1,
  });
  events.emit('evaluation', {
    ok: true,
    at: 0,
    controls: { host: { ksm_run: 1 }, guests: { web: { balloon_target: 1800 } } },
  });
  outcome({ entity: 'web', control: 'balloon_target', old: 2048, new: 1800, reason: 'host short' });
  const [row] = model.guests();
  assert.equal(row?.name, 'web');
  assert.equal(row?.sizeKib, 2048);
  assert.equal(row?.ceilingKib, 4096);
  assert.equal(row?.floorKib, 512);
  assert.equal(row?.availableKib, 1024);
  assert.equal(row?.cacheKib, 256);
  assert.equal(row?.swapInRate, 1.5);
  assert.equal(row?.swapOutRate, null);
  assert.equal(row?.stuck, true);
  assert.deepEqual(row?.wanted, { balloon_target: 1800 });
  assert.equal(row?.applied['balloon_target']?.new, 1800);
  assert.equal(row?.lastAction?.reason, 'host short');
  assert.deepEqual(model.hostView().wanted, { ksm_run: 1 });
  assert.equal(model.guest('nope'), undefined);
  // An incomplete sample does not hide the last complete one.
  guest('web', null);
  assert.equal(model.guest('web')?.latest?.['balloon_cur'], 2048);
  assert.equal(model.guest('web')?.history.length, 2);
});

test('decisions: every action, but the same skip every cycle only once', () => {
  const { model, outcome } = setup();
  outcome({ entity: 'a', control: 'balloon_target', outcome: 'unchanged' });
  for (let i = 0; i < 3; i++)
    outcome({ entity: 'a', control: 'balloon_target', outcome: 'skipped', reason: 'opted out' });
  outcome({ entity: 'a', control: 'balloon_target', outcome: 'applied', old: 1, new: 2 });
  outcome({ entity: 'a', control: 'balloon_target', outcome: 'applied', old: 2, new: 2 });
  outcome({ entity: 'host', control: 'ksm_run', controller: 'KSM', outcome: 'failed', reason: 'EACCES' });
  assert.deepEqual(
    model.decisions().map((d) => `${d.entity} ${d.outcome} ${d.reason ?? ''}`),
    ['a skipped opted out', 'a applied ', 'a applied ', 'host failed EACCES'],
  );
  assert.equal(model.decisions(1).length, 1);
  // A failed control is also a recent error.
  assert.match(model.status().recentErrors[0]?.message ?? '', /ksm_run of host failed: EACCES/);
});

test('the decision ring is bounded', () => {
  const { model, outcome } = setup({ decisions: 3 });
  for (let i = 0; i < 10; i++) outcome({ entity: 'a', control: 'balloon_target', new: i });
  assert.deepEqual(
    model.decisions().map((d) => d.new),
    [7, 8, 9],
  );
});

test('status: the last cycle, the policy with its hash, settings, and a rejected policy', () => {
  const { model, events, cycle, tick } = setup();
  assert.equal(model.status().lastCycle, null);
  assert.equal(model.snapshot(), null);
  events.emit('policy', {
    ok: true,
    files: ['a.policy'],
    sources: [{ file: 'a.policy', text: '(+ 1 1)' }],
    hash: 'abc',
    origin: 'files',
  });
  events.emit('settings', { dryRun: true, verbosity: 'debug' });
  tick(2500);
  cycle(['web']);
  events.emit('policy', { ok: false, errors: 'b.policy:1:2: error: nope', origin: 'api' });
  const s = model.status();
  assert.equal(s.version, '9.9.9');
  assert.equal(s.uptimeS, 2.5);
  assert.deepEqual(s.backend, { hypervisor: 'simulated', speed: 2 });
  assert.equal(s.policy?.hash, 'abc');
  assert.equal(s.dryRun, true);
  assert.equal(s.verbosity, 'debug');
  assert.equal(s.lastCycle?.durationMs, 3.5);
  assert.equal(s.lastCycle?.guests, 1);
  assert.equal(s.cycles, 1);
  assert.equal(s.lastPolicyRejection?.errors, 'b.policy:1:2: error: nope');
  // The rejected set did not replace the one in force.
  assert.deepEqual(model.policy()?.sources, [{ name: 'a.policy', text: '(+ 1 1)' }]);
  assert.deepEqual(model.snapshot(), snapshot(['web']));
});

test('a guest not collected for three cycles is gone', () => {
  const { model, guest, cycle } = setup();
  guest('a', { balloon_cur: 1 });
  guest('b', { balloon_cur: 1 });
  for (let i = 0; i < 4; i++) {
    guest('a', { balloon_cur: 1 });
    cycle(['a']);
  }
  assert.deepEqual(
    model.guests().map((g) => g.name),
    ['a'],
  );
});

test('the host history is bounded and the stream gets cycles with the guest rows', () => {
  const { model, events, streamed, guest, cycle, detach } = setup({ hostHistory: 2 });
  for (let i = 0; i < 5; i++)
    events.emit('collection', { scope: 'host', entity: 'host', at: i, sample: { mem_free: i } });
  assert.deepEqual(
    model.hostView().history.map((h) => h.at),
    [3, 4],
  );
  assert.deepEqual(model.hostView(1).history.length, 1);
  guest('web', { balloon_cur: 1024 });
  cycle(['web']);
  const c = streamed.find((e) => e.event === 'cycle');
  assert.ok(c && c.event === 'cycle');
  assert.deepEqual(c.data.host, { mem_free: 4 });
  assert.equal(c.data.guestRows[0]?.sizeKib, 1024);
  // Detached: no more updates.
  detach();
  cycle(['web']);
  assert.equal(model.status().cycles, 1);
});

test('status says when the safe fallback acts, since when, and that a good cycle ends it', () => {
  const { model, events, cycle, tick } = setup();
  const failed = (failures: number, since: number | null): void =>
    events.emit('cycle', {
      status: 'policy-error',
      error: 'p.policy:2:1: error: Division by zero',
      snapshot: snapshot(['a']),
      fallback: { failures, since },
      outcomes: [
        { controller: 'Balloon', entity: 'a', control: 'balloon_target', outcome: 'applied', old: 1, new: 2 },
      ],
      at: 0,
      durationMs: 1,
      dryRun: false,
    });
  failed(1, null);
  assert.equal(model.status().policyFallback, null, 'one failure only holds');
  tick(10_000);
  failed(3, 20);
  assert.deepEqual(model.status().policyFallback, { since: '2026-12-02T10:00:10.000Z', failures: 3 });
  assert.equal(model.status().lastCycle?.applied, 1, "the fallback's own changes count");
  tick(10_000);
  failed(4, 20);
  assert.deepEqual(model.status().policyFallback, { since: '2026-12-02T10:00:10.000Z', failures: 4 });
  cycle(['a']);
  assert.equal(model.status().policyFallback, null);
});

test('status names the guest momd holds paused for contention, since when and why, until it is resumed', () => {
  const { model, events, tick } = setup();
  assert.equal(model.status().paused, null);
  tick(5_000);
  const reason = 'contention for 30 s: batch is the running guest with the lowest priority (shares 200)';
  events.emit('pause', { change: 'paused', guest: 'batch', shares: 200, rssKib: null, reason, at: 5 });
  assert.deepEqual(model.status().paused, { guest: 'batch', since: '2026-12-02T10:00:05.000Z', reason });
  assert.equal(model.status().recentErrors.at(-1)?.code, 'MOM_E_CONTENTION_PAUSE');
  events.emit('pause', { change: 'resumed', guest: 'batch', pausedS: 60, reason: 'over', at: 65 });
  assert.equal(model.status().paused, null);
  events.emit('pause', { change: 'paused', guest: 'batch', shares: 200, rssKib: null, reason, at: 90 });
  events.emit('pause', { change: 'gone', guest: 'batch', at: 95 });
  assert.equal(model.status().paused, null, 'a guest gone is no longer held');
});
