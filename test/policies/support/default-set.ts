// The shipped default policy set on snapshots built by hand, for the tests of its rules
// (test/policies/default*.test.ts): a host and guests described by a few numbers, the set loaded
// in the daemon's policy engine (so SetVar values persist from one evaluation to the next, as in
// momd), optionally after a site file whose defvars it keeps. Memory in KiB.
import assert from 'node:assert/strict';
import { SHIPPED_POLICIES } from '../../../src/cli/paths.js';
import type { Entities, Snapshot } from '../../../src/entities/snapshot.js';
import { PolicyEngine } from '../../../src/engine/policy-engine.js';
import { GUEST_FIELDS, HOST_FIELDS } from '../../../src/fields/catalogue.js';
import { readPolicySources } from '../../../src/policy/sources.js';

export const MiB = 1024;
export const GiB = 1024 * MiB;

export interface HostState {
  total: number;
  /** Freeable memory (mem_free and mem_unused). */
  free: number;
  swapOutRate?: number;
  psi?: number;
  /** zswap's knobs and fill; undefined: a kernel without zswap (nil fields). */
  zswap?: { enabled: number; pct: number; fill: number | null };
  /** Whether momd owns zswap (zswap-owned in mom.conf); false when not given. */
  zswapOwned?: boolean;
}

export interface GuestState {
  cur: number;
  max: number;
  usable: number;
  swapInRate?: number;
  majorFaultRate?: number;
  /** Major faults of its QEMU process per second (the host paging it in); undefined: nil. */
  hostMajorFaultRate?: number;
  shares?: number;
  min?: number;
  stuck?: boolean;
  rss?: number;
  swapped?: number;
  /** CPU time its QEMU process used, ms per second; undefined: unknown (nil). */
  cpuUsage?: number;
}

export function snapshot(host: HostState, guests: Record<string, GuestState>, time: number): Snapshot {
  return {
    fields: { host: Object.keys(HOST_FIELDS), guest: Object.keys(GUEST_FIELDS) },
    host: {
      properties: {
        interval: 10,
        time,
        woken: null,
        memory_source: 'machine',
        ksm_owned: false,
        zswap_owned: host.zswapOwned ?? false,
      },
      stats: [
        {
          mem_available: host.total,
          mem_total: host.total,
          mem_free: host.free,
          mem_unused: host.free,
          swap_out_rate: host.swapOutRate ?? 0,
          swap_in_rate: 0,
          psi_some_avg10: host.psi ?? null,
          zswap_enabled: host.zswap?.enabled ?? null,
          zswap_max_pool_percent: host.zswap?.pct ?? null,
          zswap_pool_fill: host.zswap ? host.zswap.fill : null,
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
          swapped: g.swapped ?? null,
          cpu_usage: g.cpuUsage ?? null,
          shares: g.shares ?? 1000,
          mem_available: g.cur,
          mem_usable: g.usable,
          mem_unused: g.usable,
          swap_in_rate: g.swapInRate ?? 0,
          major_fault_rate: g.majorFaultRate ?? 0,
          host_major_fault_rate: g.hostMajorFaultRate ?? null,
        },
      ],
    })),
  };
}

/** A policy engine with the default set loaded, after `site` (a 05-site.policy) when given. */
export function engine(site = ''): PolicyEngine {
  const e = new PolicyEngine(() => {});
  const sources = [
    ...(site ? [{ file: '05-site.policy', text: site }] : []),
    ...readPolicySources([SHIPPED_POLICIES.default]),
  ];
  const loaded = e.load(sources);
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.map((x) => x.message).join('\n'));
  return e;
}

/** One evaluation; its error fails the test. */
export function run(e: PolicyEngine, s: Snapshot): Entities {
  const r = e.evaluate(s);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.entities;
}
