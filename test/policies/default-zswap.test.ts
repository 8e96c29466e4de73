// The default policy set's zswap rules (policies/default/30-zswap.policy), on snapshots built
// here and evaluated with the rest of the set through the daemon's policy engine, so that the
// host state comes from 10-balloon.policy and SetVar values persist from cycle to cycle as in
// momd. Pool sizes in percent of RAM, fill in percent of the pool's limit, memory in KiB.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entities, Snapshot } from '../../src/entities/snapshot.js';
import type { PolicyEngine } from '../../src/engine/policy-engine.js';
import {
  engine,
  GiB,
  snapshot as defaultSetSnapshot,
  type HostState as Host,
} from './support/default-set.js';

interface HostState {
  /** Freeable memory as a fraction of 8 GiB. */
  free: number;
  swapOutRate?: number;
  psi?: number;
  /** zswap's knobs and fill; undefined: a kernel without zswap (nil fields). */
  zswap?: Host['zswap'];
  owned?: boolean;
}

/** An 8 GiB host without guests; momd owns zswap unless `owned` says otherwise. */
function snapshot(h: HostState, time: number): Snapshot {
  const total = 8 * GiB;
  return defaultSetSnapshot(
    {
      total,
      free: h.free * total,
      ...(h.swapOutRate === undefined ? {} : { swapOutRate: h.swapOutRate }),
      ...(h.psi === undefined ? {} : { psi: h.psi }),
      ...(h.zswap === undefined ? {} : { zswap: h.zswap }),
      zswapOwned: h.owned ?? true,
    },
    {},
    time,
  );
}

/** The zswap controls and their reasons after one evaluation. */
function zswap(e: PolicyEngine, h: HostState, time: number): Record<string, [unknown, string]> {
  const r = e.evaluate(snapshot(h, time));
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  const host: Entities['host'] = r.entities.host;
  const out: Record<string, [unknown, string]> = {};
  for (const [k, v] of host.controls)
    if (k.startsWith('zswap_')) out[k] = [typeof v === 'bigint' ? Number(v) : v, host.reasons.get(k) ?? ''];
  return out;
}

const off = { enabled: 0, pct: 20, fill: 0 };
const tightFree = 0.02;

test('not owned: nothing, however tight the host and whatever zswap shows', () => {
  const e = engine();
  assert.deepEqual(zswap(e, { free: tightFree, swapOutRate: 500, zswap: off, owned: false }, 0), {});
});

test('owned on a kernel without zswap (nil fields): nothing', () => {
  assert.deepEqual(zswap(engine(), { free: tightFree, swapOutRate: 500 }, 0), {});
});

test('a tight host turns zswap on with a pool of 10% of RAM, saying why', () => {
  const e = engine();
  assert.deepEqual(zswap(e, { free: tightFree, zswap: off }, 0), {
    zswap_max_pool_percent: [10, "host short of free memory: zswap's pool at 10% of RAM"],
    zswap_enabled: [1, 'host short of free memory: compress pages in RAM before they go to disk'],
  });
  // Swapping out or stalling on memory counts as pressure with free memory left.
  assert.match(
    zswap(engine(), { free: 0.2, swapOutRate: 40, zswap: off }, 0)['zswap_enabled']?.[1] ?? '',
    /^host swapping out/,
  );
  assert.match(
    zswap(engine(), { free: 0.2, psi: 12, zswap: off }, 0)['zswap_enabled']?.[1] ?? '',
    /^host stalling on memory \(PSI\)/,
  );
  // Comfortable or relaxed: zswap stays off.
  assert.deepEqual(zswap(engine(), { free: 0.2, zswap: off }, 0), {});
  assert.deepEqual(zswap(engine(), { free: 0.5, zswap: off }, 0), {});
});

test('while the host swaps out to disk and the pool is nearly full, the pool grows a step a cycle up to 30%', () => {
  const e = engine();
  const swapping = (pct: number, fill: number | null): HostState => ({
    free: 0.04,
    swapOutRate: 300,
    zswap: { enabled: 1, pct, fill },
  });
  assert.deepEqual(zswap(e, swapping(10, 95), 0), {
    zswap_max_pool_percent: [15, "host swapping out with zswap's pool 95% full: grow it"],
  });
  assert.deepEqual(zswap(e, swapping(25, 92), 10)['zswap_max_pool_percent']?.[0], 30);
  assert.deepEqual(zswap(e, swapping(28, 99), 20)['zswap_max_pool_percent']?.[0], 30, 'capped');
  assert.deepEqual(zswap(e, swapping(30, 99), 30), {}, 'at the cap');
  // A kernel before 5.19 does not tell the fill: swapping is enough.
  assert.match(zswap(e, swapping(10, null), 40)['zswap_max_pool_percent']?.[1] ?? '', /pool \?% full/);
});

test('swapping out with room left in the pool (pages zswap refused) does not grow it', () => {
  const e = engine();
  assert.deepEqual(
    zswap(e, { free: 0.04, swapOutRate: 300, zswap: { enabled: 1, pct: 10, fill: 40 } }, 0),
    {},
  );
  // Tight without swapping out: the pool takes what comes, nothing to change either.
  assert.deepEqual(zswap(e, { free: 0.02, zswap: { enabled: 1, pct: 10, fill: 99 } }, 10), {});
});

test('relaxed for five minutes, the pool shrinks a step a cycle back to 10%, never under what it holds plus a step; zswap stays on', () => {
  const e = engine();
  const relaxed = (pct: number, fill: number): HostState => ({ free: 0.5, zswap: { enabled: 1, pct, fill } });
  assert.deepEqual(zswap(e, relaxed(30, 10), 0), {});
  assert.deepEqual(zswap(e, relaxed(30, 10), 290), {}, 'not yet five minutes');
  // The pool holds 3% of RAM (10% of 30%): the step down to 25 is free to go.
  assert.deepEqual(zswap(e, relaxed(30, 10), 300), {
    zswap_max_pool_percent: [25, "host relaxed for 300 s: shrink zswap's pool (it holds 3% of RAM)"],
  });
  // It holds 24% of RAM (80% of 30%): no lower than 29.
  assert.deepEqual(zswap(e, relaxed(30, 80), 310)['zswap_max_pool_percent']?.[0], 29);
  // It holds 22.5% of a 25% limit: 27.5 is above the limit, nothing to shrink.
  assert.deepEqual(zswap(e, relaxed(25, 90), 320), {});
  assert.deepEqual(zswap(e, relaxed(15, 0), 330)['zswap_max_pool_percent']?.[0], 10);
  assert.deepEqual(zswap(e, relaxed(10, 0), 340), {}, 'at the low size, and never turned off');
});

test('a cycle that is not relaxed starts the five minutes again', () => {
  const e = engine();
  const z = { enabled: 1, pct: 30, fill: 0 };
  zswap(e, { free: 0.5, zswap: z }, 0);
  assert.deepEqual(zswap(e, { free: 0.2, zswap: z }, 200), {}, 'comfortable: nothing');
  assert.deepEqual(zswap(e, { free: 0.5, zswap: z }, 310), {});
  assert.deepEqual(zswap(e, { free: 0.5, zswap: z }, 510), {});
  assert.equal(zswap(e, { free: 0.5, zswap: z }, 610)['zswap_max_pool_percent']?.[0], 25, 'from 310 on');
});

test('a site file loaded first changes the sizes (defvar never overwrites)', () => {
  const e = engine('(defvar zswap_pool_low 5)\n(defvar zswap_pool_cap 12)\n(defvar zswap_pool_step 4)');
  assert.equal(zswap(e, { free: tightFree, zswap: off }, 0)['zswap_max_pool_percent']?.[0], 5);
  const swapping = { free: 0.04, swapOutRate: 300, zswap: { enabled: 1, pct: 9, fill: 97 } };
  assert.equal(zswap(e, swapping, 10)['zswap_max_pool_percent']?.[0], 12);
});
