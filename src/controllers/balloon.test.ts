import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controlContext, FakeHypervisor } from '../../test/support/fakes.js';
import { ControlLog } from '../engine/control-log.js';
import { buildEntities, type Entities } from '../entities/snapshot.js';
import { HypervisorError, MIN_BALLOON_KIB } from '../hypervisors/hypervisor.js';
import type { Value } from '../policy/values.js';
import { BALLOON_DEAD_BAND_KIB, balloonBackoffS, createBalloonController } from './balloon.js';
import type { Outcome } from './controller.js';

const MiB = 1024;

interface G {
  cur: number;
  max: number;
  min?: number;
  target?: Value;
  optOut?: boolean;
  /** stats_age_s; undefined: the field is null (the backend does not know). */
  age?: number;
}

function entities(guests: Record<string, G>): Entities {
  const e = buildEntities({
    fields: {
      host: ['mem_free'],
      guest: ['balloon_cur', 'balloon_max', 'balloon_min', 'balloon_opt_out', 'stats_age_s'],
    },
    host: { properties: {}, stats: [{ mem_free: 1 }] },
    guests: Object.entries(guests).map(([name, g]) => ({
      properties: { name },
      stats: [
        {
          balloon_cur: g.cur,
          balloon_max: g.max,
          balloon_min: g.min ?? null,
          balloon_opt_out: g.optOut ? 1 : 0,
          stats_age_s: g.age ?? null,
        },
      ],
    })),
  });
  for (const g of e.guests) {
    const t = guests[String(g.properties['name'])]?.target;
    if (t !== undefined) g.controls.set('balloon_target', t);
  }
  return e;
}

/** The controller with the engine's outcome log around it, cycle after cycle, as the engine runs it. */
function harness(hv = new FakeHypervisor()) {
  const c = createBalloonController();
  const log = new ControlLog(BALLOON_DEAD_BAND_KIB);
  const stuckAfter = 60;
  return {
    hv,
    log,
    async cycle(now: number, guests: Record<string, G>): Promise<Outcome[]> {
      for (const [name, g] of Object.entries(guests))
        log.observe(name, 'balloon_target', g.cur, now, stuckAfter);
      const ctx = controlContext({ entities: entities(guests), hypervisor: hv, now });
      const out = await c.reconcile({ ...ctx, previous: (e, k) => log.previous(e, k) });
      for (const o of out) log.record(o, now);
      return out;
    },
  };
}

const brief = (os: Outcome[]): unknown[] => os.map((o) => [o.outcome, o.old, o.new]);

test('applies the target truncated toward zero; while the balloon moves toward it, nothing is sent again', async () => {
  const h = harness();
  h.hv.add('a');
  const first = await h.cycle(0, { a: { cur: 1000 * MiB, max: 2000 * MiB, target: 900 * MiB + 0.9 } });
  assert.deepEqual(brief(first), [['applied', 1000 * MiB, 900 * MiB]]);
  assert.deepEqual(h.hv.calls, [{ id: 'id-a', kib: 900 * MiB }]);
  const moving = await h.cycle(10, { a: { cur: 950 * MiB, max: 2000 * MiB, target: 900n * 1024n } });
  assert.equal(moving[0]?.outcome, 'unchanged');
  assert.match(moving[0]?.reason ?? '', /moving toward the target/);
  const there = await h.cycle(20, { a: { cur: 900 * MiB, max: 2000 * MiB, target: 900n * 1024n } });
  assert.equal(there[0]?.outcome, 'unchanged');
  assert.equal(h.hv.calls.length, 1);
});

test("level-based: a balloon put back behind momd's back is moved again at the next cycle", async () => {
  const h = harness();
  h.hv.add('a');
  const want = { max: 2000 * MiB, target: 900 * MiB };
  await h.cycle(0, { a: { cur: 2000 * MiB, ...want } });
  await h.cycle(10, { a: { cur: 900 * MiB, ...want } });
  await h.cycle(20, { a: { cur: 900 * MiB, ...want } });
  assert.equal(h.hv.calls.length, 1);
  // The guest rebooted: its balloon is back at the maximum while the policy still wants 900 MiB.
  const again = await h.cycle(30, { a: { cur: 2000 * MiB, ...want } });
  assert.deepEqual(brief(again), [['applied', 2000 * MiB, 900 * MiB]]);
  assert.match(again[0]?.reason ?? '', /moved back .* behind momd's back/);
  assert.equal(h.hv.calls.length, 2);
});

test('a balloon that does not move is sent its target again with a doubling back-off', async () => {
  const h = harness();
  h.hv.add('a');
  const g = { cur: 2000 * MiB, max: 2000 * MiB, target: 900 * MiB };
  const sentAt: number[] = [];
  for (let t = 0; t <= 400; t += 10) {
    const out = await h.cycle(t, { a: g });
    if (out[0]?.outcome === 'applied') sentAt.push(t);
    else assert.equal(out[0]?.outcome, 'unchanged');
  }
  // First send, then again after 10, 20, 40, 80, 160 s of no movement (capped at 320 s).
  assert.deepEqual(sentAt, [0, 10, 30, 70, 150, 310]);
  assert.deepEqual([balloonBackoffS(0), balloonBackoffS(3), balloonBackoffS(10)], [10, 80, 320]);
  // The log calls it stuck once the timeout passed without movement.
  assert.equal(h.log.observe('a', 'balloon_target', 2000 * MiB, 410, 60).stuck, true);
});

test('a target within the dead band of the current size is unchanged, nothing sent', async () => {
  const h = harness();
  h.hv.add('a');
  const out = await h.cycle(0, { a: { cur: 1000 * MiB, max: 2000 * MiB, target: 1000 * MiB + 512 } });
  assert.equal(out[0]?.outcome, 'unchanged');
  assert.equal(h.hv.calls.length, 0);
});

test('targets are clamped to [balloon_min, balloon_max], and never under 64 MiB', async () => {
  const h = harness();
  for (const n of ['a', 'b', 'c']) h.hv.add(n);
  const out = await h.cycle(0, {
    a: { cur: 1000 * MiB, max: 2000 * MiB, min: 500 * MiB, target: 10 },
    b: { cur: 1000 * MiB, max: 2000 * MiB, target: 99999 * MiB },
    c: { cur: 1000 * MiB, max: 2000 * MiB, target: 0 },
  });
  assert.deepEqual(
    h.hv.calls.map((c) => c.kib),
    [500 * MiB, 2000 * MiB, MIN_BALLOON_KIB],
  );
  assert.match(out[0]?.reason ?? '', /clamped from 10/);
});

test('a guest that vanished is skipped; other hypervisor errors fail; a bad value fails', async () => {
  const hv = new FakeHypervisor();
  hv.add('a');
  const c = createBalloonController();
  const gone = await c.reconcile(
    controlContext({
      entities: entities({ b: { cur: 1000 * MiB, max: 2000 * MiB, target: 500 * MiB } }),
      hypervisor: hv,
      guests: [],
    }),
  );
  assert.deepEqual([gone[0]?.outcome, gone[0]?.reason], ['skipped', 'guest gone']);
  hv.failWith = new HypervisorError('MOM_E_TIMEOUT', 'no reply');
  const failed = await c.reconcile(
    controlContext({
      entities: entities({ a: { cur: 1000 * MiB, max: 2000 * MiB, target: 500 * MiB } }),
      hypervisor: hv,
    }),
  );
  assert.deepEqual([failed[0]?.outcome, failed[0]?.reason], ['failed', 'MOM_E_TIMEOUT: no reply']);
  hv.failWith = new HypervisorError('MOM_E_GUEST_GONE', 'stopped meanwhile');
  const stopped = await c.reconcile(
    controlContext({
      entities: entities({ a: { cur: 1000 * MiB, max: 2000 * MiB, target: 500 * MiB } }),
      hypervisor: hv,
    }),
  );
  assert.equal(stopped[0]?.outcome, 'skipped');
  const bad = await c.reconcile(
    controlContext({
      entities: entities({ a: { cur: 1000 * MiB, max: 2000 * MiB, target: 'big' } }),
      hypervisor: hv,
    }),
  );
  assert.equal(bad[0]?.outcome, 'failed');
  assert.match(bad[0]?.reason ?? '', /expected a number/);
});

test('an opted-out guest and a backend that cannot balloon are skipped, saying why; nothing is sent', async () => {
  const hv = new FakeHypervisor();
  hv.add('a');
  const c = createBalloonController();
  const optedOut = await c.reconcile(
    controlContext({
      entities: entities({ a: { cur: 1000 * MiB, max: 2000 * MiB, target: 500 * MiB, optOut: true } }),
      hypervisor: hv,
    }),
  );
  assert.deepEqual(
    [optedOut[0]?.outcome, optedOut[0]?.reason],
    ['skipped', 'opted out of ballooning by the configuration'],
  );
  const noBalloon = await c.reconcile(
    controlContext({
      entities: entities({ a: { cur: 1000 * MiB, max: 2000 * MiB, target: 500 * MiB } }),
      hypervisor: hv,
      capabilities: { hypervisor: new Set(['guest-stats']) },
    }),
  );
  assert.equal(noBalloon[0]?.outcome, 'skipped');
  assert.match(noBalloon[0]?.reason ?? '', /cannot do balloon/);
  assert.equal(hv.calls.length, 0);
});

test('a guest whose statistics are stale is not shrunk, saying why; it may still grow, and fresh ones shrink', async () => {
  const h = harness();
  h.hv.add('a');
  const stale = await h.cycle(0, { a: { cur: 1000 * MiB, max: 2000 * MiB, target: 800 * MiB, age: 14.2 } });
  assert.deepEqual(brief(stale), [['skipped', 1000 * MiB, 800 * MiB]]);
  assert.match(
    stale[0]?.reason ?? '',
    /^held: the guest's memory statistics are stale \(none for over 10 s\)/,
  );
  assert.equal(h.hv.calls.length, 0);
  const grow = await h.cycle(2, { a: { cur: 1000 * MiB, max: 2000 * MiB, target: 1200 * MiB, age: 60 } });
  assert.deepEqual(brief(grow), [['applied', 1000 * MiB, 1200 * MiB]]);
  // At the bound, and with no age known (a backend that cannot tell), shrinking goes on.
  const fresh = await h.cycle(4, { a: { cur: 1200 * MiB, max: 2000 * MiB, target: 800 * MiB, age: 10 } });
  assert.deepEqual(brief(fresh), [['applied', 1200 * MiB, 800 * MiB]]);
  h.hv.add('b');
  const unknown = await h.cycle(6, { b: { cur: 1200 * MiB, max: 2000 * MiB, target: 700 * MiB } });
  assert.deepEqual(brief(unknown), [['applied', 1200 * MiB, 700 * MiB]]);
});
