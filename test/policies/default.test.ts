// The default policy set (policies/default), rule by rule, on snapshots built here: each test
// sets up a host and guests, evaluates the set through the daemon's policy engine (so SetVar
// values persist from one cycle to the next, as in momd) and checks the targets against
// arithmetic done by hand from the numbers. Memory in KiB.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SHIPPED_POLICIES } from '../../src/cli/paths.js';
import type { Entities, Snapshot } from '../../src/entities/snapshot.js';
import { PolicyEngine } from '../../src/engine/policy-engine.js';
import { GUEST_FIELDS, HOST_FIELDS } from '../../src/fields/catalogue.js';
import { readPolicySources } from '../../src/policy/sources.js';

const MiB = 1024;
const GiB = 1024 * MiB;

interface GuestState {
  cur: number;
  max: number;
  usable: number;
  swapInRate?: number;
  majorFaultRate?: number;
  shares?: number;
  min?: number;
  stuck?: boolean;
  rss?: number;
}

function snapshot(
  host: { total: number; free: number; swapOutRate?: number },
  guests: Record<string, GuestState>,
  time: number,
): Snapshot {
  return {
    fields: { host: Object.keys(HOST_FIELDS), guest: Object.keys(GUEST_FIELDS) },
    host: {
      properties: { interval: 10, time, woken: null, memory_source: 'machine', ksm_owned: false },
      stats: [
        {
          mem_available: host.total,
          mem_total: host.total,
          mem_free: host.free,
          mem_unused: host.free,
          swap_out_rate: host.swapOutRate ?? 0,
          swap_in_rate: 0,
        },
      ],
    },
    guests: Object.entries(guests).map(([name, g]) => ({
      properties: { name, uuid: `uuid-${name}`, pid: null },
      stats: [
        {
          balloon_cur: g.cur,
          balloon_max: g.max,
          balloon_min: g.min ?? 0,
          balloon_opt_out: 0,
          balloon_stuck: g.stuck ? 1 : 0,
          rss: g.rss ?? null,
          shares: g.shares ?? 1000,
          mem_available: g.cur,
          mem_usable: g.usable,
          mem_unused: g.usable,
          swap_in_rate: g.swapInRate ?? 0,
          major_fault_rate: g.majorFaultRate ?? 0,
        },
      ],
    })),
  };
}

/** A policy engine with the default set loaded, kept across cycles like the daemon's. */
function engine(): PolicyEngine {
  const e = new PolicyEngine(() => {});
  const loaded = e.load(readPolicySources([SHIPPED_POLICIES.default]));
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.map((x) => x.message).join('\n'));
  return e;
}

function run(e: PolicyEngine, s: Snapshot): Entities {
  const r = e.evaluate(s);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.entities;
}

const target = (es: Entities, name: string): number | undefined => {
  const v = es.guests.find((g) => g.properties['name'] === name)?.controls.get('balloon_target');
  return v === undefined || v === null ? undefined : Number(v);
};
const reason = (es: Entities, name: string): string =>
  es.guests.find((g) => g.properties['name'] === name)?.reasons.get('balloon_target') ?? '';

test('a relaxed host: a guest under its maximum grows by a tenth of its maximum; one at its maximum is left alone', () => {
  const es = run(
    engine(),
    snapshot(
      { total: 8 * GiB, free: 4 * GiB },
      {
        a: { cur: 1 * GiB, max: 2 * GiB, usable: 600 * MiB },
        b: { cur: 2 * GiB, max: 2 * GiB, usable: 1 * GiB },
      },
      0,
    ),
  );
  assert.equal(target(es, 'a'), 1 * GiB + 0.1 * 2 * GiB);
  assert.match(reason(es, 'a'), /^host relaxed \(50% free\): give memory back step by step$/);
  assert.equal(target(es, 'b'), undefined);
});

test('a host short of memory takes what it needs from the guests spare memory, in proportion, never their reserve', () => {
  // 8 GiB host with 0.4 GiB free (5%): the need is 25% of 8 GiB - 0.4 GiB = 1.6 GiB. A guest keeps
  // 35% of its maximum usable (0.7 GiB): spare is usable memory beyond that.
  const es = run(
    engine(),
    snapshot(
      { total: 8 * GiB, free: 0.4 * GiB },
      {
        big: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB },
        small: { cur: 2 * GiB, max: 2 * GiB, usable: 0.9 * GiB },
        none: { cur: 2 * GiB, max: 2 * GiB, usable: 0.5 * GiB },
      },
      0,
    ),
  );
  const reserve = 0.35 * 2 * GiB;
  const spareBig = 1.5 * GiB - reserve;
  const spareSmall = 0.9 * GiB - reserve;
  const need = 0.25 * 8 * GiB - 0.4 * GiB;
  const total = spareBig + spareSmall;
  const takeBig = Math.min(spareBig, 0.25 * 2 * GiB, 1.2 * need * (spareBig / total));
  const takeSmall = Math.min(spareSmall, 0.25 * 2 * GiB, 1.2 * need * (spareSmall / total));
  assert.ok(Math.abs((target(es, 'big') ?? 0) - (2 * GiB - takeBig)) < 1);
  assert.ok(Math.abs((target(es, 'small') ?? 0) - (2 * GiB - takeSmall)) < 1);
  assert.equal(target(es, 'none'), undefined, 'no spare: not asked');
  assert.match(
    reason(es, 'big'),
    /^host short of memory \(5% free\): take \d+(\.\d)? MiB of the guest's \d+(\.\d)? MiB spare$/,
  );
  // Nobody is taken under its reserve.
  assert.ok(2 * GiB - (target(es, 'small') ?? 0) <= spareSmall + 1);
});

test('shares: a guest with twice the shares gives half as much', () => {
  // 32 GiB host, 6 GiB free (18.75%): the need is 2 GiB; guests of 8 GiB with 3.2 GiB spare each.
  const es = run(
    engine(),
    snapshot(
      { total: 32 * GiB, free: 6 * GiB },
      {
        normal: { cur: 8 * GiB, max: 8 * GiB, usable: 6 * GiB },
        high: { cur: 8 * GiB, max: 8 * GiB, usable: 6 * GiB, shares: 2000 },
      },
      0,
    ),
  );
  const gaveNormal = 8 * GiB - (target(es, 'normal') ?? 8 * GiB);
  const gaveHigh = 8 * GiB - (target(es, 'high') ?? 8 * GiB);
  assert.ok(gaveHigh > 0 && Math.abs(gaveNormal / gaveHigh - 2) < 0.01, `${gaveNormal} vs ${gaveHigh}`);
});

test('the idle tax: a guest whose spare stayed idle keeps a smaller reserve, so it gives more', () => {
  const e = engine();
  const calm = { total: 32 * GiB, free: 12 * GiB };
  // Ten calm cycles in which only "idler" has spare memory: its reserve falls to 2.8 / (1 + 10/15) GiB.
  for (let t = 0; t < 100; t += 10)
    run(
      e,
      snapshot(
        calm,
        {
          idler: { cur: 8 * GiB, max: 8 * GiB, usable: 6 * GiB },
          fresh: { cur: 8 * GiB, max: 8 * GiB, usable: 2 * GiB },
        },
        t,
      ),
    );
  const es = run(
    e,
    snapshot(
      { total: 32 * GiB, free: 6 * GiB },
      {
        idler: { cur: 8 * GiB, max: 8 * GiB, usable: 6 * GiB },
        fresh: { cur: 8 * GiB, max: 8 * GiB, usable: 6 * GiB },
      },
      100,
    ),
  );
  const spareIdler = 6 * GiB - (0.35 * 8 * GiB) / (1 + 10 / 15);
  const spareFresh = 6 * GiB - 0.35 * 8 * GiB;
  const gaveIdler = 8 * GiB - (target(es, 'idler') ?? 8 * GiB);
  const gaveFresh = 8 * GiB - (target(es, 'fresh') ?? 8 * GiB);
  assert.ok(Math.abs(gaveIdler / gaveFresh - spareIdler / spareFresh) < 0.01, `${gaveIdler} vs ${gaveFresh}`);
  assert.ok(gaveIdler > 1.3 * gaveFresh);
});

test('a guest that swaps after a shrink gets memory back at once and is not shrunk again for a minute', () => {
  const e = engine();
  const short = { total: 8 * GiB, free: 0.4 * GiB };
  const first = run(
    e,
    snapshot(
      short,
      {
        a: { cur: 2 * GiB, max: 2 * GiB, usable: 1 * GiB },
        b: { cur: 2 * GiB, max: 2 * GiB, usable: 1 * GiB },
      },
      0,
    ),
  );
  const shrunk = target(first, 'a') ?? 2 * GiB;
  assert.ok(shrunk < 2 * GiB);
  // Ten seconds on, "a" swaps in 200 pages/s: a quarter of its size back, and a hold.
  const second = run(
    e,
    snapshot(
      short,
      {
        a: { cur: shrunk, max: 2 * GiB, usable: 50 * MiB, swapInRate: 200 },
        b: { cur: 2 * GiB, max: 2 * GiB, usable: 1 * GiB },
      },
      10,
    ),
  );
  assert.equal(target(second, 'a'), Math.min(2 * GiB, shrunk * 1.25));
  assert.match(
    reason(second, 'a'),
    /^guest short of memory \(swap-in 200 pages\/s, major faults 0\/s\): give memory back, hold off 60 s$/,
  );
  // The host is still short 30 s later, "a" no longer swaps and has spare again: held, not shrunk.
  const third = run(
    e,
    snapshot(
      short,
      {
        a: { cur: 2 * GiB, max: 2 * GiB, usable: 1 * GiB },
        b: { cur: 2 * GiB, max: 2 * GiB, usable: 1 * GiB },
      },
      40,
    ),
  );
  assert.equal(target(third, 'a'), undefined);
  assert.ok((target(third, 'b') ?? 2 * GiB) < 2 * GiB, 'the others give instead');
  // After the hold, it may give again.
  const fourth = run(
    e,
    snapshot(
      short,
      {
        a: { cur: 2 * GiB, max: 2 * GiB, usable: 1 * GiB },
        b: { cur: 2 * GiB, max: 2 * GiB, usable: 1 * GiB },
      },
      80,
    ),
  );
  assert.ok((target(fourth, 'a') ?? 2 * GiB) < 2 * GiB);
});

test('a guest whose usable memory fell under half its reserve is topped up to it, even when the host is short', () => {
  const es = run(
    engine(),
    snapshot({ total: 8 * GiB, free: 0.4 * GiB }, { a: { cur: 1 * GiB, max: 2 * GiB, usable: 20 * MiB } }, 0),
  );
  assert.equal(target(es, 'a'), 1 * GiB + (0.35 * 2 * GiB - 20 * MiB));
  assert.match(reason(es, 'a'), /under its reserve/);
});

test('a comfortable host changes nothing; a guest without statistics is left alone', () => {
  const es = run(
    engine(),
    snapshot(
      { total: 8 * GiB, free: 1.6 * GiB },
      { a: { cur: 1 * GiB, max: 2 * GiB, usable: 600 * MiB } },
      0,
    ),
  );
  assert.equal(target(es, 'a'), undefined);
  const s = snapshot(
    { total: 8 * GiB, free: 0.1 * GiB },
    { a: { cur: 1 * GiB, max: 2 * GiB, usable: 600 * MiB } },
    0,
  );
  const stats = s.guests[0]?.stats[0];
  if (stats) stats['mem_usable'] = null;
  assert.equal(target(run(engine(), s), 'a'), undefined);
});

test('a guest whose balloon is stuck gets a memory limit while the host is short, lifted when it is relaxed', () => {
  const e = engine();
  const limit = (es: Entities): unknown =>
    es.guests.find((g) => g.properties['name'] === 'nodrv')?.controls.get('mem_limit');
  const stuck = { cur: 2 * GiB, max: 2 * GiB, usable: 0, stuck: true, rss: 1.5 * GiB };
  const shortHost = run(e, snapshot({ total: 8 * GiB, free: 0.4 * GiB }, { nodrv: stuck }, 0));
  assert.equal(limit(shortHost), 0.9 * 1.5 * GiB);
  const comfortable = run(e, snapshot({ total: 8 * GiB, free: 2 * GiB }, { nodrv: stuck }, 10));
  assert.equal(limit(comfortable), undefined, 'kept while merely comfortable');
  const relaxed = run(e, snapshot({ total: 8 * GiB, free: 4 * GiB }, { nodrv: stuck }, 20));
  assert.equal(limit(relaxed), null, 'lifted');
  const after = run(e, snapshot({ total: 8 * GiB, free: 4 * GiB }, { nodrv: stuck }, 30));
  assert.equal(limit(after), undefined, 'once');
});
