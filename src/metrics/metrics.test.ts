// The metrics fed by engine events only: what a scrape shows after a few events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineEvents } from '../engine/events.js';
import type { Snapshot } from '../entities/snapshot.js';
import { createMetrics } from './index.js';

const SNAPSHOT: Snapshot = {
  fields: { host: [], guest: [] },
  host: { properties: {}, stats: [] },
  guests: [],
};

function setup() {
  const metrics = createMetrics({ version: '9.9.9', process: false });
  const events = new EngineEvents((event, err) => assert.fail(`${event}: ${String(err)}`));
  const detach = metrics.attach(events);
  /** The sample lines of the exposition, without HELP and TYPE. */
  const scrape = async (): Promise<string[]> =>
    (await metrics.registry.metrics()).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  return { metrics, events, detach, scrape };
}

test('host and guest statistics in base units; a nil statistic has no series', async () => {
  const { events, scrape } = setup();
  events.emit('collection', {
    scope: 'host',
    entity: 'host',
    at: 5,
    sample: { mem_free: 1000, psi_some_avg10: 12.5, swap_in: 3, ksm_run: null },
  });
  events.emit('collection', {
    scope: 'guest',
    entity: 'web1',
    at: 5,
    sample: { balloon_cur: 2048, balloon_stuck: 1, mem_cache: null, major_fault_rate: 4.5 },
  });
  const lines = await scrape();
  assert.ok(lines.includes('momd_host_mem_free_bytes 1024000'));
  assert.ok(lines.includes('momd_host_psi_some_avg10_ratio 0.125'));
  assert.ok(lines.includes('momd_host_swap_in_pages_total 3'));
  assert.ok(!lines.some((l) => l.startsWith('momd_host_ksm_run')), 'nil: no series, not 0');
  assert.ok(lines.includes('momd_guest_balloon_cur_bytes{guest="web1"} 2097152'));
  assert.ok(lines.includes('momd_guest_balloon_stuck{guest="web1"} 1'));
  assert.ok(lines.includes('momd_guest_major_fault_per_second{guest="web1"} 4.5'));
  assert.ok(!lines.some((l) => l.startsWith('momd_guest_mem_cache_bytes')));
  assert.ok(lines.includes('momd_build_info{version="9.9.9",nodejs="' + process.version + '"} 1'));

  // The next host sample: counters add up, a statistic that became nil goes away.
  events.emit('collection', {
    scope: 'host',
    entity: 'host',
    at: 10,
    sample: { mem_free: null, swap_in: 2 },
  });
  const again = await scrape();
  assert.ok(again.includes('momd_host_swap_in_pages_total 5'));
  assert.ok(!again.some((l) => l.startsWith('momd_host_mem_free_bytes')));
});

test('a guest that is gone disappears from every per-guest metric; the others stay', async () => {
  const { events, scrape } = setup();
  for (const g of ['a', 'b']) {
    events.emit('collection', { scope: 'guest', entity: g, at: 5, sample: { balloon_cur: 100, swap_in: 1 } });
    events.emit('outcome', {
      controller: 'Balloon',
      entity: g,
      control: 'balloon_target',
      outcome: 'applied',
      old: 100,
      new: 90,
      desired: 90,
      at: 5,
    });
  }
  let lines = await scrape();
  assert.ok(lines.includes('momd_guest_balloon_target_bytes{guest="a"} 92160'));
  assert.ok(lines.includes('momd_guest_swap_in_pages_total{guest="a"} 1'));
  events.emit('guest', { change: 'gone', entity: 'a', at: 10, reason: 'guest gone' });
  lines = await scrape();
  assert.ok(!lines.some((l) => l.includes('guest="a"')), lines.join('\n'));
  assert.ok(lines.includes('momd_guest_balloon_cur_bytes{guest="b"} 102400'));
  assert.ok(lines.includes('momd_guest_balloon_target_bytes{guest="b"} 92160'));
  // Controller actions are not per guest: they stay counted.
  assert.ok(
    lines.includes(
      'momd_controller_actions_total{controller="Balloon",control="balloon_target",outcome="applied"} 2',
    ),
  );
});

test('an incomplete guest sample removes its statistics until a complete one comes', async () => {
  const { events, scrape } = setup();
  events.emit('collection', { scope: 'guest', entity: 'a', at: 5, sample: { balloon_cur: 100 } });
  events.emit('collection', { scope: 'guest', entity: 'a', at: 10, sample: null });
  assert.ok(!(await scrape()).some((l) => l.startsWith('momd_guest_balloon_cur_bytes')));
});

test('cycles: duration histogram in seconds, count by status, evaluation errors', async () => {
  const { events, scrape } = setup();
  events.emit('cycle', {
    status: 'done',
    outcomes: [],
    snapshot: SNAPSHOT,
    at: 10,
    durationMs: 3,
    dryRun: false,
  });
  events.emit('cycle', {
    status: 'policy-error',
    error: 'x',
    snapshot: SNAPSHOT,
    fallback: { failures: 1, since: null },
    outcomes: [],
    at: 20,
    durationMs: 30,
    dryRun: false,
  });
  events.emit('evaluation', { ok: false, at: 20, code: 'MOM_E_POLICY_EVAL', error: 'x' });
  const lines = await scrape();
  assert.ok(lines.includes('momd_policy_cycle_duration_seconds_bucket{le="0.005"} 1'));
  assert.ok(lines.includes('momd_policy_cycle_duration_seconds_bucket{le="0.05"} 2'));
  assert.ok(lines.includes('momd_policy_cycle_duration_seconds_sum 0.033'));
  assert.ok(lines.includes('momd_policy_cycles_total{status="done"} 1'));
  assert.ok(lines.includes('momd_policy_cycles_total{status="policy-error"} 1'));
  assert.ok(lines.includes('momd_policy_cycles_total{status="skipped"} 0'));
  assert.ok(lines.includes('momd_policy_evaluation_errors_total 1'));
  assert.ok(lines.includes('momd_dry_run 0'));
  assert.ok(lines.includes('momd_policy_fallback 0'), 'one failure holds, no fallback yet');
  events.emit('cycle', {
    status: 'policy-error',
    error: 'x',
    snapshot: SNAPSHOT,
    fallback: { failures: 3, since: 25 },
    outcomes: [],
    at: 25,
    durationMs: 3,
    dryRun: false,
  });
  assert.ok((await scrape()).includes('momd_policy_fallback 1'), 'the fallback shows');
  events.emit('cycle', {
    status: 'done',
    outcomes: [],
    snapshot: SNAPSHOT,
    at: 30,
    durationMs: 3,
    dryRun: true,
  });
  assert.ok((await scrape()).includes('momd_dry_run 1'), 'a dry run shows');
});

test('detaching stops listening and forgets the guests (a reload lists them again)', async () => {
  const { events, detach, scrape } = setup();
  events.emit('collection', { scope: 'guest', entity: 'a', at: 5, sample: { balloon_cur: 100 } });
  detach();
  events.emit('collection', { scope: 'guest', entity: 'b', at: 10, sample: { balloon_cur: 100 } });
  assert.ok(!(await scrape()).some((l) => l.startsWith('momd_guest_')));
});

test('contention-pause: whether a guest is held paused, and how many were', async () => {
  const { events, scrape } = setup();
  assert.ok((await scrape()).includes('momd_contention_paused 0'));
  events.emit('pause', { change: 'paused', guest: 'b', shares: 500, rssKib: 1024, reason: 'r', at: 1 });
  let lines = await scrape();
  assert.ok(lines.includes('momd_contention_paused 1'));
  assert.ok(lines.includes('momd_contention_pauses_total 1'));
  events.emit('pause', { change: 'resumed', guest: 'b', pausedS: 10, reason: 'over', at: 11 });
  lines = await scrape();
  assert.ok(lines.includes('momd_contention_paused 0'));
  assert.ok(lines.includes('momd_contention_pauses_total 1'));
});
