// The default policy set (policies/default), rule by rule, on snapshots built here: each test
// sets up a host and guests, evaluates the set through the daemon's policy engine (so SetVar
// values persist from one cycle to the next, as in momd) and checks the targets against
// arithmetic done by hand from the numbers. Memory in KiB.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SHIPPED_POLICIES } from '../../src/cli/paths.js';
import { PolicyEngine } from '../../src/engine/policy-engine.js';
import type { Entities } from '../../src/entities/snapshot.js';
import { readPolicySources } from '../../src/policy/sources.js';
import { engine, GiB, MiB, run, snapshot } from './support/default-set.js';

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

// A guest of 2 GiB keeps a margin of 15% of its maximum.
const margin2G = 0.15 * 2 * GiB;
// An 8 GiB host with 0.2 GiB free (2.5%, under tight_free 8%): the need is 10% of 8 GiB - 0.2 GiB.
const tight = { total: 8 * GiB, free: 0.2 * GiB };
const need = 0.1 * 8 * GiB - 0.2 * GiB;
const near = (actual: number | undefined, expected: number): boolean =>
  actual !== undefined && Math.abs(actual - expected) < 1;

test('under pressure, the guests give their spare (size beyond demand and margin) in proportion; a guest without spare is not asked', () => {
  // decay_frac 1: what momd has not seen stops counting after a second of pressure.
  const e = engine('(defvar decay_frac 1)');
  const guests = {
    big: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB },
    small: { cur: 2 * GiB, max: 2 * GiB, usable: 0.9 * GiB },
    none: { cur: 2 * GiB, max: 2 * GiB, usable: 0.3 * GiB },
  };
  const first = run(e, snapshot(tight, guests, 0));
  assert.equal(target(first, 'big'), undefined, 'a guest just met keeps its whole size');
  const es = run(e, snapshot(tight, guests, 10));
  const spareBig = 2 * GiB - (0.5 * GiB + margin2G);
  const spareSmall = 2 * GiB - (1.1 * GiB + margin2G);
  const total = spareBig + spareSmall;
  const takeBig = Math.min(spareBig, 0.25 * 2 * GiB, 1.2 * need * (spareBig / total));
  const takeSmall = Math.min(spareSmall, 0.25 * 2 * GiB, 1.2 * need * (spareSmall / total));
  assert.ok(near(target(es, 'big'), 2 * GiB - takeBig), String(target(es, 'big')));
  assert.ok(near(target(es, 'small'), 2 * GiB - takeSmall), String(target(es, 'small')));
  assert.equal(target(es, 'none'), undefined, 'no spare: not asked');
  assert.match(
    reason(es, 'big'),
    /^host short of free memory \(2\.5% free\): take \d+(\.\d)? MiB of the \d+(\.\d)? MiB the host holds for it unused; its demand 512 MiB$/,
  );
});

test('memory a guest used within the last window is kept; once the window has passed, it goes', () => {
  const e = engine('(defvar decay_frac 1)');
  const at = (t: number, usable: number): Entities =>
    run(e, snapshot(tight, { a: { cur: 2 * GiB, max: 2 * GiB, usable } }, t));
  at(0, 0.5 * GiB); // uses 1.5 GiB
  // It now uses 0.5 GiB, but used 1.5 GiB 10 s ago: only 2 - 1.5 - margin is spare.
  const soon = Math.min(2 * GiB - 1.5 * GiB - margin2G, 1.2 * need);
  assert.ok(near(target(at(10, 1.5 * GiB), 'a'), 2 * GiB - soon));
  // 170 s on, the first half-window (150 s) has become the previous one: still kept.
  assert.ok(near(target(at(170, 1.5 * GiB), 'a'), 2 * GiB - soon));
  // 330 s on, both halves saw 0.5 GiB: the rest is spare (at most a quarter of the size per cycle).
  const later = Math.min(2 * GiB - 0.5 * GiB - margin2G, 0.25 * 2 * GiB, 1.2 * need);
  assert.ok(near(target(at(330, 1.5 * GiB), 'a'), 2 * GiB - later));
});

test('while the host swaps out, only the last half-minute of use counts: memory a guest used two minutes ago goes', () => {
  const e = engine('(defvar decay_frac 1)');
  const at = (
    t: number,
    usable: number,
    host: { total: number; free: number; swapOutRate?: number } = tight,
  ) => run(e, snapshot(host, { a: { cur: 2 * GiB, max: 2 * GiB, usable } }, t));
  at(0, 0.5 * GiB); // uses 1.5 GiB
  for (let t = 10; t < 120; t += 10) at(t, 1.5 * GiB); // then 0.5 GiB
  // Short of free memory only, at 120 s: the 1.5 GiB used within the 300 s window is kept.
  const kept = Math.min(2 * GiB - 1.5 * GiB - margin2G, 1.2 * need);
  assert.ok(near(target(at(120, 1.5 * GiB), 'a'), 2 * GiB - kept));
  // The host swapping out as well: the last 30 s saw 0.5 GiB, and the rest of the spare goes.
  const es = at(130, 1.5 * GiB, { ...tight, swapOutRate: 300 });
  const taken = Math.min(2 * GiB - 0.5 * GiB - margin2G, 0.25 * 2 * GiB, 1.2 * need);
  assert.ok(near(target(es, 'a'), 2 * GiB - taken), String(target(es, 'a')));
  assert.match(reason(es, 'a'), /^host swapping out \(2\.5% free\): take .* its demand 512 MiB$/);
});

test('while the host swaps out, a guest keeps margin_min (64 MiB) beyond its demand instead of 15% of its maximum', () => {
  const guest = { a: { cur: 2 * GiB, max: 2 * GiB, usable: 0.5 * GiB } }; // uses 1.5 GiB
  const targetOn = (host: { total: number; free: number; swapOutRate?: number }): number | undefined => {
    const e = engine('(defvar decay_frac 1)');
    run(e, snapshot(host, guest, 0));
    return target(run(e, snapshot(host, guest, 10)), 'a');
  };
  assert.ok(near(targetOn(tight), 1.5 * GiB + margin2G), 'short of free memory only: the whole margin');
  assert.ok(near(targetOn({ ...tight, swapOutRate: 300 }), 1.5 * GiB + 64 * MiB), 'swapping: 64 MiB');
});

test('a guest growing faster than its statistics show is not squeezed: what the host holds for it unused counts at its smallest over 10 s', () => {
  const e = engine('(defvar decay_frac 1)');
  const qemu = 64 * MiB;
  // It uses 0.5 GiB of 2 GiB, and the host holds only that for it (free page reporting).
  const guest = (resident: number) => ({
    a: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB, rss: qemu + resident },
  });
  for (let t = 0; t <= 20; t += 10)
    assert.equal(target(run(e, snapshot(tight, guest(0.5 * GiB), t)), 'a'), undefined, `${t} s`);
  // It grows: its QEMU holds 0.3 GiB more before its statistics (polled every few seconds) show
  // it. The cycles that falling free memory wakes, a second apart, take none of it ...
  for (let t = 21; t <= 24; t++)
    assert.equal(target(run(e, snapshot(tight, guest(0.8 * GiB), t)), 'a'), undefined, `${t} s`);
  // ... nor the next regular cycle, whose previous half-window still saw none unused;
  assert.equal(target(run(e, snapshot(tight, guest(0.8 * GiB), 30)), 'a'), undefined, '30 s');
  // but memory left unused for 10 s is taken.
  const es = run(e, snapshot(tight, guest(0.8 * GiB), 40));
  // (less the 16 MiB of slack for the error in QEMU's own memory)
  assert.ok(near(target(es, 'a'), 2 * GiB - (0.3 * GiB - 16 * MiB)), String(target(es, 'a')));
});

test('what the host seems to hold unused within unused_slack (16 MiB: the error of qemu_overhead) is left alone, cycle after cycle', () => {
  const e = engine('(defvar decay_frac 1)');
  const qemu = 64 * MiB;
  // QEMU really holds 8 MiB more of its own than qemu_overhead says: the guest looks as if the
  // host held 8 MiB unused for it, and would be trimmed by that much every cycle.
  const guest = { a: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB, rss: qemu + 0.5 * GiB + 8 * MiB } };
  const comfortable = { total: 8 * GiB, free: 1.2 * GiB };
  for (let t = 0; t <= 60; t += 10)
    assert.equal(target(run(e, snapshot(comfortable, guest, t)), 'a'), undefined, `${t} s`);
});

test('a trim that does not lower the resident memory of the guest was an error of the estimate: it is not taken again', () => {
  const e = engine('(defvar decay_frac 1)');
  const qemu = 64 * MiB;
  // QEMU holds 36 MiB more of its own than qemu_overhead: beyond the 16 MiB of slack, the guest
  // looks as if the host held 20 MiB unused for it (over calm_take_min, 16 MiB). Its balloon takes
  // 20 MiB, and the resident memory does not go down (the pages were not resident).
  const guest = { a: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB, rss: qemu + 0.5 * GiB + 36 * MiB } };
  const comfortable = { total: 8 * GiB, free: 1.2 * GiB };
  const taken: number[] = [];
  for (let t = 0; t <= 90; t += 10) {
    const v = target(run(e, snapshot(comfortable, guest, t)), 'a');
    if (v !== undefined) taken.push(t);
  }
  // Taken at 10 and at 20 s (the check waits more than take_check_s, 15 s), then never again.
  assert.deepEqual(taken, [10, 20]);
});

test('without pressure a take under calm_take_min (16 MiB) is not worth it; under pressure the same memory is taken', () => {
  const qemu = 64 * MiB;
  // Beyond the 16 MiB of slack the host holds 8 MiB unused for the guest: over min_change (4 MiB),
  // under calm_take_min.
  const guest = { a: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB, rss: qemu + 0.5 * GiB + 24 * MiB } };
  const calm = engine('(defvar decay_frac 1)');
  const comfortable = { total: 8 * GiB, free: 1.2 * GiB };
  for (let t = 0; t <= 90; t += 10)
    assert.equal(target(run(calm, snapshot(comfortable, guest, t)), 'a'), undefined, `at ${t} s`);
  const pressed = engine('(defvar decay_frac 1)');
  const taken: number[] = [];
  for (let t = 0; t <= 30; t += 10) {
    const v = target(run(pressed, snapshot(tight, guest, t)), 'a');
    if (v !== undefined) taken.push(2 * GiB - v);
  }
  // The 8 MiB, twice: the check of the first take comes only after take_check_s (15 s).
  assert.deepEqual(
    taken.map((k) => Math.round(k / MiB)),
    [8, 8],
  );
});

test('a guest momd has just met may need its whole size: that comes down by 0.5% of its maximum a second under pressure, 0.1% while the host is merely not relaxed', () => {
  const e = engine();
  const guest = { a: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB } };
  // Ten minutes of a relaxed host (50% free): nothing decays, nothing is taken.
  for (let t = 0; t <= 600; t += 10) run(e, snapshot({ total: 8 * GiB, free: 4 * GiB }, guest, t));
  // 20 s of pressure (-10% of 2 GiB), 10 s of a comfortable host (-1%): demand and margin still
  // cover the whole size. Then 10 s of pressure (-5%).
  for (let t = 610; t <= 620; t += 10)
    assert.equal(target(run(e, snapshot(tight, guest, t)), 'a'), undefined);
  assert.equal(target(run(e, snapshot({ total: 8 * GiB, free: 1.6 * GiB }, guest, 630)), 'a'), undefined);
  const es = run(e, snapshot(tight, guest, 640));
  const unseen = 2 * GiB - 0.16 * 2 * GiB;
  // Without the QEMU process's resident memory, all of the spare counts under pressure.
  const take = Math.min(2 * GiB - (unseen + margin2G), 0.25 * 2 * GiB, Math.max(1.2 * need, 16 * MiB));
  assert.ok(near(target(es, 'a'), 2 * GiB - take), `${target(es, 'a')} vs ${2 * GiB - take}`);
});

test('free page reporting: only memory the host still holds for a guest is taken, trimmed even when the host is merely comfortable', () => {
  const e = engine('(defvar decay_frac 1)');
  const qemu = 64 * MiB;
  // Both use 0.5 GiB of 2 GiB. "cached" has 0.3 GiB of page cache or touched free memory resident
  // on the host; "reported" has given all its free memory back (rss = QEMU + what it uses).
  const guests = {
    cached: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB, rss: qemu + 0.8 * GiB },
    reported: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB, rss: qemu + 0.5 * GiB },
  };
  const comfortable = { total: 8 * GiB, free: 1.6 * GiB };
  run(e, snapshot(comfortable, guests, 0));
  const es = run(e, snapshot(comfortable, guests, 10));
  // All of it but the 16 MiB of slack for the error in QEMU's own memory (unused_slack).
  assert.ok(near(target(es, 'cached'), 2 * GiB - (0.3 * GiB - 16 * MiB)), String(target(es, 'cached')));
  assert.match(
    reason(es, 'cached'),
    /^host not relaxed \(20% free\): take 291\.2 MiB of the 291\.2 MiB the host holds for it unused; its demand 512 MiB$/,
  );
  assert.equal(target(es, 'reported'), undefined, 'nothing to gain');
  assert.equal(target(run(e, snapshot(tight, guests, 20)), 'reported'), undefined, 'not even under pressure');
});

test('memory the host swapped out of a guest is not taken: the balloon would read it back in to gain no RAM', () => {
  const e = engine('(defvar decay_frac 1)');
  const qemu = 64 * MiB;
  // Both use 0.5 GiB of 2 GiB and have only that resident; "paged" has 0.4 GiB more of touched
  // memory in the host's swap, "reported" gave its free memory back.
  const guests = {
    paged: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB, rss: qemu + 0.5 * GiB, swapped: 0.4 * GiB },
    reported: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB, rss: qemu + 0.5 * GiB, swapped: 0 },
  };
  const comfortable = { total: 8 * GiB, free: 1.6 * GiB };
  run(e, snapshot(comfortable, guests, 0));
  const es = run(e, snapshot(comfortable, guests, 10));
  assert.equal(target(es, 'paged'), undefined, 'nothing resident to gain');
  assert.equal(target(es, 'reported'), undefined);
  // The same guest with 0.3 GiB of it still resident gives that, and only that.
  const resident = { ...guests.paged, rss: qemu + 0.8 * GiB, swapped: 0.1 * GiB };
  const e2 = engine('(defvar decay_frac 1)');
  run(e2, snapshot(comfortable, { paged: resident }, 0));
  const es2 = run(e2, snapshot(comfortable, { paged: resident }, 10));
  assert.ok(near(target(es2, 'paged'), 2 * GiB - (0.3 * GiB - 16 * MiB)), String(target(es2, 'paged')));
});

test('a host that swaps out or stalls on memory is under pressure even with free memory, and says so', () => {
  const e = engine('(defvar decay_frac 1)');
  const guest = { a: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB } };
  const swapping = { total: 8 * GiB, free: 0.7 * GiB, swapOutRate: 300 };
  run(e, snapshot(swapping, guest, 0));
  const es = run(e, snapshot(swapping, guest, 10));
  assert.ok((target(es, 'a') ?? 2 * GiB) < 2 * GiB);
  assert.match(reason(es, 'a'), /^host swapping out \(8\.8% free\): take/);
  const s = snapshot({ total: 8 * GiB, free: 0.7 * GiB }, guest, 20);
  const hostStats = s.host.stats[0];
  if (hostStats) hostStats['psi_some_avg10'] = 12;
  assert.match(reason(run(e, s), 'a'), /^host stalling on memory \(PSI\) \(8\.8% free\): take/);
  // Neither swapping nor stalling, 8.75% free: not under pressure, nothing taken.
  assert.equal(target(run(e, snapshot({ total: 8 * GiB, free: 0.7 * GiB }, guest, 30)), 'a'), undefined);
});

test('shares: a guest with twice the shares keeps twice the margin and is asked half as hard', () => {
  const e = engine('(defvar decay_frac 1)');
  // 32 GiB host, 1 GiB free: the need is 2.2 GiB; guests of 8 GiB using 2 GiB each.
  const host = { total: 32 * GiB, free: 1 * GiB };
  const guests = {
    normal: { cur: 8 * GiB, max: 8 * GiB, usable: 6 * GiB },
    high: { cur: 8 * GiB, max: 8 * GiB, usable: 6 * GiB, shares: 2000 },
  };
  run(e, snapshot(host, guests, 0));
  const es = run(e, snapshot(host, guests, 10));
  const spareNormal = 8 * GiB - (2 * GiB + 0.15 * 8 * GiB);
  const spareHigh = 8 * GiB - (2 * GiB + 2 * 0.15 * 8 * GiB);
  const weightNormal = spareNormal;
  const weightHigh = spareHigh / 2;
  const hostNeed = 0.1 * 32 * GiB - 1 * GiB;
  const share = (w: number): number => (1.2 * hostNeed * w) / (weightNormal + weightHigh);
  const gaveNormal = 8 * GiB - (target(es, 'normal') ?? 8 * GiB);
  const gaveHigh = 8 * GiB - (target(es, 'high') ?? 8 * GiB);
  assert.ok(near(gaveNormal, Math.min(spareNormal, 2 * GiB, share(weightNormal))), String(gaveNormal));
  assert.ok(near(gaveHigh, Math.min(spareHigh, 2 * GiB, share(weightHigh))), String(gaveHigh));
  assert.ok(gaveHigh < gaveNormal / 2);
});

test('the idle tax: memory left idle for a window goes before memory used lately, shares being equal', () => {
  const e = engine('(defvar decay_frac 1)');
  // Both use 2 GiB of 8 now; "busy" used 6 GiB a minute ago, "idler" never did.
  const host = { total: 32 * GiB, free: 1 * GiB };
  run(
    e,
    snapshot(
      host,
      {
        idler: { cur: 8 * GiB, max: 8 * GiB, usable: 6 * GiB },
        busy: { cur: 8 * GiB, max: 8 * GiB, usable: 2 * GiB },
      },
      0,
    ),
  );
  const es = run(
    e,
    snapshot(
      host,
      {
        idler: { cur: 8 * GiB, max: 8 * GiB, usable: 6 * GiB },
        busy: { cur: 8 * GiB, max: 8 * GiB, usable: 6 * GiB },
      },
      60,
    ),
  );
  assert.ok((target(es, 'idler') ?? 8 * GiB) < 8 * GiB, 'the idle guest gives');
  const busySpare = 8 * GiB - (6 * GiB + 0.15 * 8 * GiB);
  assert.ok(8 * GiB - (target(es, 'busy') ?? 8 * GiB) <= busySpare + 1, 'the busy one keeps what it used');
  assert.ok(8 * GiB - (target(es, 'idler') ?? 8 * GiB) > 8 * GiB - (target(es, 'busy') ?? 8 * GiB));
});

test('an idle guest (its QEMU under 100 ms of CPU a second for 20 s) gives what it holds beyond what it uses now, untouched memory included; busy again for 10 s, it is left alone', () => {
  // These snapshots do not follow the balloons (the resident memory stays as it was after a take):
  // the policy's check of its own takes is left out here (take_check_s) and tested on its own.
  const e = engine('(defvar take_check_s 1000)');
  const qemu = 64 * MiB;
  // Each of 2 GiB uses 0.5 GiB now; the host holds 0.6 GiB of its RAM (0.1 GiB of it unused)
  // and swapped 1.1 GiB out: 0.3 GiB the guest never touched. "idle" and "busy" used 1.8 GiB at
  // first, "calm" never more than now; only "idle" has an idle CPU.
  const guest = (usable: number, cpuUsage: number) => ({
    cur: 2 * GiB,
    max: 2 * GiB,
    usable,
    rss: qemu + 0.6 * GiB,
    swapped: 1.1 * GiB,
    cpuUsage,
  });
  const at = (t: number, idleCpu: number) =>
    run(
      e,
      snapshot(
        tight,
        {
          idle: guest(t === 0 ? 0.2 * GiB : 1.5 * GiB, idleCpu),
          busy: guest(t === 0 ? 0.2 * GiB : 1.5 * GiB, 900),
          calm: guest(1.5 * GiB, 900),
        },
        t,
      ),
    );
  for (let t = 0; t < 50; t += 10) at(t, 30);
  const es = at(50, 30);
  // idle, idle since 0 s: from 20 s on its unseen demand (2 GiB, less 0.5%/s of it for the first
  // 20 s) comes down 2.5%/s of 2 GiB and is gone by 50 s, and the 1.8 GiB it used at first does
  // not count: it keeps 0.5 GiB + its margin and gives what it holds unused, the 0.1 GiB the host
  // holds and the 0.3 GiB untouched.
  // calm: its unseen demand has come down 0.5%/s (to 1.5 GiB): it keeps 1.5 GiB + its margin, and
  // of the 0.2 GiB beyond, gives only the 0.1 GiB the host holds (its untouched memory stays).
  // busy: its 1.8 GiB of a moment ago still counts: no spare.
  // (What the host holds unused counts less the 16 MiB of unused_slack.)
  const gainIdle = 0.4 * GiB - 16 * MiB;
  const gainCalm = 0.1 * GiB - 16 * MiB;
  const share = (g: number) => g / (gainIdle + gainCalm);
  const takeIdle = Math.min(gainIdle, 0.25 * 2 * GiB, 1.2 * need * share(gainIdle));
  const takeCalm = Math.min(gainCalm, 0.25 * 2 * GiB, 1.2 * need * share(gainCalm));
  assert.ok(near(target(es, 'idle'), 2 * GiB - takeIdle), String(target(es, 'idle')));
  assert.ok(near(target(es, 'calm'), 2 * GiB - takeCalm), String(target(es, 'calm')));
  assert.equal(target(es, 'busy'), undefined);
  assert.match(
    reason(es, 'idle'),
    /take 393\.6 MiB of the 393\.6 MiB it holds unused \(idle guest: untouched memory counts, its earlier use does not\); its demand 512 MiB$/,
  );
  // One sample of a busy CPU (its balloon driver inflating costs it some) does not end its
  // idleness; busy for idle_grace_s (10 s), it is no longer idle: what it used within the window
  // counts again.
  assert.ok(near(target(at(60, 900), 'idle'), 2 * GiB - takeIdle), 'still idle');
  assert.equal(target(at(70, 900), 'idle'), undefined);
});

test('a guest that swaps after a shrink gets memory back at once and is not shrunk again for a minute', () => {
  const e = engine('(defvar decay_frac 1)');
  const guests = {
    a: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB },
    b: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB },
  };
  run(e, snapshot(tight, guests, 0));
  const shrunk = target(run(e, snapshot(tight, guests, 10)), 'a') ?? 2 * GiB;
  assert.ok(shrunk < 2 * GiB);
  // Ten seconds on, "a" swaps in 200 pages/s: a quarter of its size back, and a hold.
  const second = run(
    e,
    snapshot(tight, { ...guests, a: { cur: shrunk, max: 2 * GiB, usable: 50 * MiB, swapInRate: 200 } }, 20),
  );
  assert.equal(target(second, 'a'), Math.min(2 * GiB, shrunk * 1.25));
  assert.match(
    reason(second, 'a'),
    /^guest short of memory \(swap-in 200 pages\/s, major faults 0\/s\): give memory back, hold off 60 s$/,
  );
  // The host is still tight 30 s later, "a" no longer swaps and has spare again: held, not shrunk.
  const third = run(e, snapshot(tight, guests, 50));
  assert.equal(target(third, 'a'), undefined);
  // After the hold, it may give again, but only what it did not use: it used up to its whole
  // shrunk size while it swapped.
  const fourth = run(e, snapshot(tight, guests, 90));
  const usedWhenShort = shrunk - 50 * MiB;
  const after = target(fourth, 'a') ?? 2 * GiB;
  assert.ok(after < 2 * GiB, 'it gives again');
  assert.ok(after >= usedWhenShort + margin2G - 1, 'but keeps what it used when it swapped, and its margin');
});

test('a major-fault storm counts as being short of memory too', () => {
  const e = engine();
  const es = run(
    e,
    snapshot(tight, { a: { cur: 1 * GiB, max: 2 * GiB, usable: 0.5 * GiB, majorFaultRate: 900 } }, 0),
  );
  assert.equal(target(es, 'a'), 1.25 * GiB);
});

test('a guest taken from while the host paged it in may fault that much more before it counts as short; the allowance fades over 120 s', () => {
  const e = engine('(defvar decay_frac 1)');
  const swapping = { ...tight, swapOutRate: 500 };
  const guests = {
    a: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB, hostMajorFaultRate: 300 },
    b: { cur: 2 * GiB, max: 2 * GiB, usable: 1.5 * GiB, hostMajorFaultRate: 300 },
  };
  run(e, snapshot(swapping, guests, 0));
  const shrunk = run(e, snapshot(swapping, guests, 10));
  const a = target(shrunk, 'a') ?? 2 * GiB;
  const b = target(shrunk, 'b') ?? 2 * GiB;
  assert.ok(a < 2 * GiB && b < 2 * GiB, 'both give while the host swaps');
  // Now the guests fault on their own instead of the host: "a" at 500/s, under the threshold
  // (256) plus what the host paged (300); "b" at 600/s, over it.
  const after = (t: number, aFaults: number): Entities =>
    run(
      e,
      snapshot(
        swapping,
        {
          a: { cur: a, max: 2 * GiB, usable: 0.4 * GiB, majorFaultRate: aFaults, hostMajorFaultRate: 0 },
          b: { cur: b, max: 2 * GiB, usable: 0.4 * GiB, majorFaultRate: 600, hostMajorFaultRate: 0 },
        },
        t,
      ),
    );
  const next = after(20, 500);
  assert.doesNotMatch(reason(next, 'a'), /short of memory/);
  assert.match(reason(next, 'b'), /^guest short of memory \(swap-in 0 pages\/s, major faults 600\/s\)/);
  assert.equal(target(next, 'b'), Math.min(2 * GiB, b * 1.25));
  // 100 s after the take the allowance is a sixth of 300 (50): 500/s is short again.
  const late = after(110, 500);
  assert.match(reason(late, 'a'), /^guest short of memory/);
});

test('a guest whose usable memory fell under half its margin is topped up to it, even under pressure', () => {
  const es = run(engine(), snapshot(tight, { a: { cur: 1 * GiB, max: 2 * GiB, usable: 20 * MiB } }, 0));
  assert.equal(target(es, 'a'), 1 * GiB + (margin2G - 20 * MiB));
  assert.match(reason(es, 'a'), /under half its margin/);
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

test('a guest whose balloon is stuck gets a memory limit while the host is under pressure, lifted when it is relaxed', () => {
  const e = engine();
  const limit = (es: Entities): unknown =>
    es.guests.find((g) => g.properties['name'] === 'nodrv')?.controls.get('mem_limit');
  const stuck = { cur: 2 * GiB, max: 2 * GiB, usable: 0, stuck: true, rss: 1.5 * GiB };
  const shortHost = run(e, snapshot(tight, { nodrv: stuck }, 0));
  assert.equal(limit(shortHost), 0.9 * 1.5 * GiB);
  const comfortable = run(e, snapshot({ total: 8 * GiB, free: 2 * GiB }, { nodrv: stuck }, 10));
  assert.equal(limit(comfortable), undefined, 'kept while merely comfortable');
  const relaxed = run(e, snapshot({ total: 8 * GiB, free: 4 * GiB }, { nodrv: stuck }, 20));
  assert.equal(limit(relaxed), null, 'lifted');
  const after = run(e, snapshot({ total: 8 * GiB, free: 4 * GiB }, { nodrv: stuck }, 30));
  assert.equal(limit(after), undefined, 'once');
});

test('the per-guest debug line is worked out only while debug output is shown', () => {
  const s = snapshot(tight, { a: { cur: 2 * GiB, max: 2 * GiB, usable: 1 * GiB } }, 0);
  for (const shown of [false, true]) {
    const lines: string[] = [];
    const e = new PolicyEngine(
      (m) => lines.push(m),
      () => shown,
    );
    assert.ok(e.load(readPolicySources([SHIPPED_POLICIES.default])).ok);
    run(e, s);
    assert.equal(
      lines.filter((l) => l.startsWith('default policy: a host tight used ')).length,
      shown ? 1 : 0,
    );
  }
});
