import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunMetrics } from './metrics.js';
import { density, formatTable, summarize, type RunResult, type Variant } from './summary.js';

function metrics(throughputMiBs: number, hostSwapOutMiB = 0): RunMetrics {
  return {
    throughputMiBs,
    guestSwapInMiB: 0,
    guestSwapOutMiB: 0,
    guestMajorFaults: 0,
    guestPagingShare: 0,
    hostSwapInMiB: 0,
    hostSwapOutMiB,
    hostZswapInMiB: 0,
    hostZswapOutMiB: 0,
    psiSomePct: 0,
    psiFullPct: 0,
    guestOomKills: 0,
    memloadExits: 0,
    qemuKilled: 0,
    balloonOps: 0,
    balloonShrinks: 0,
    spikes: 0,
    reactionS: null,
    wakeS: null,
    meanUsageMiB: null,
    peakUsageMiB: null,
    minGuestThroughputMiBs: null,
    idleFreeMiB: null,
    idleReclaimedMiB: null,
    idleReclaimedShare: null,
  };
}

function run(variant: Variant, budgetPct: number | null, repeat: number, m: RunMetrics): RunResult {
  return {
    pattern: 'moderate',
    variant,
    budgetPct,
    repeat,
    startedAt: '',
    limitMiB: null,
    metrics: m,
    guests: [],
    cgroupAtEnd: {},
    notes: [],
  };
}

test('medians over repeats, and ratios to the ceiling and to none', () => {
  const rows = summarize([
    run('ceiling', null, 1, metrics(100)),
    run('none', 67, 1, metrics(60, 100)),
    run('classic', 67, 1, metrics(80, 10)),
    run('ceiling', null, 2, metrics(120)),
    run('none', 67, 2, metrics(40, 300)),
    run('classic', 67, 2, metrics(90, 30)),
  ]);
  assert.deepEqual(
    rows.map((r) => [r.variant, r.runs, r.median.throughputMiBs]),
    [
      ['ceiling', 2, 110],
      ['none', 2, 50],
      ['classic', 2, 85],
    ],
  );
  const classic = rows[2];
  assert.ok(Math.abs((classic?.vsCeiling.throughputMiBs ?? 0) - 85 / 110) < 1e-9);
  assert.equal(classic?.vsNone.throughputMiBs, 1.7);
  assert.equal(classic?.vsNone.hostSwapOutMiB, 0.1);
  // A zero denominator or a metric that is null gives no ratio.
  assert.equal(classic?.vsNone.guestSwapInMiB, null);
  assert.equal(classic?.median.reactionS, null);
  const table = formatTable(rows);
  assert.match(table, /^pattern\s+variant\s+budget/);
  assert.equal(table.split('\n').length, 4);
});

test('density: the smallest budget from which on 90% of the ceiling is kept', () => {
  const rows = summarize([
    run('ceiling', null, 1, metrics(100)),
    ...[
      [100, 99, 98],
      [80, 95, 85],
      [67, 91, 93],
      [50, 70, 60],
    ].flatMap(([b, none, classic]) => [
      run('none', b ?? 0, 1, metrics(none ?? 0)),
      run('classic', b ?? 0, 1, metrics(classic ?? 0)),
    ]),
  ]);
  const answers = density(rows);
  assert.deepEqual(
    answers.map((a) => [a.variant, a.smallestBudgetPct]),
    [
      ['none', 67],
      // classic dips under 90% at 80%: it does not "stay" above from 67% on.
      ['classic', 100],
    ],
  );
});
