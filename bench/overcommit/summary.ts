// From runs to the summary: runs grouped by pattern, variant and budget, the median over repeats
// of every figure, ratios to the ceiling run and to the run without a policy, the density answer
// (the smallest budget a variant keeps 90% of the ceiling's throughput at), and the printed table.
import { median, type GuestMetrics, type RunMetrics } from './metrics.js';

export const VARIANTS = [
  'ceiling',
  'none',
  'none-zswap',
  'classic',
  'default',
  'default-zswap',
  'candidate',
] as const;
export type Variant = (typeof VARIANTS)[number];
/**
 * The variants run when --variants is not given. default-zswap (the default policy with
 * zswap-owned: true) changes the machine's zswap while it runs, so it runs only when asked for,
 * and the invocations recorded in docs/benchmarks.md stay comparable; so does none-zswap (no
 * policy, zswap turned on by the benchmark for the run: what an administrator gets by enabling
 * zswap by hand, against which default-zswap shows what momd adds). candidate (the policy folder
 * of --candidate-policy) runs only when asked for too: a change to a policy measured side by side
 * with the policy it would replace.
 */
export const DEFAULT_VARIANTS: readonly Variant[] = ['ceiling', 'none', 'classic', 'default'];

/** The budgets of a --density invocation, in percent of the guests' total RAM. */
export const DENSITY_BUDGETS = [100, 80, 67, 50] as const;
/** The share of the ceiling's throughput a variant must keep at a budget (--density). */
export const DENSITY_KEEP = 0.9;

export interface RunResult {
  pattern: string;
  variant: Variant;
  /** The cgroup's limit in percent of the guests' RAM; null for ceiling (no limit). */
  budgetPct: number | null;
  repeat: number;
  startedAt: string;
  /** The cgroup's limit in MiB (null: none). */
  limitMiB: number | null;
  metrics: RunMetrics;
  guests: GuestMetrics[];
  /** Parts of the cgroup's memory.stat at the window's end (rss_mib, cache_mib, swap_mib, ...). */
  cgroupAtEnd: Record<string, number>;
  /** What went wrong besides the figures (a guest that never booted, KSM not restored, ...). */
  notes: string[];
}

export type MetricName = keyof RunMetrics;
export type Medians = Record<MetricName, number | null>;

export interface SummaryRow {
  pattern: string;
  variant: Variant;
  budgetPct: number | null;
  runs: number;
  median: Medians;
  /** median / the same median of the ceiling (same pattern), per metric; null where undefined. */
  vsCeiling: Partial<Record<MetricName, number | null>>;
  /** median / the same median of `none` (same pattern and budget). */
  vsNone: Partial<Record<MetricName, number | null>>;
}

export interface DensityAnswer {
  variant: Variant;
  /** Smallest budget from which on (it and every larger one) throughput >= 90% of the ceiling. */
  smallestBudgetPct: number | null;
  throughputVsCeiling: Record<string, number | null>;
}

const key = (r: { pattern: string; variant: Variant; budgetPct: number | null }): string =>
  `${r.pattern}|${r.variant}|${r.budgetPct ?? 'none'}`;

function medians(runs: readonly RunResult[]): Medians {
  const names = Object.keys(runs[0]?.metrics ?? {}) as MetricName[];
  const out = {} as Medians;
  for (const n of names)
    out[n] = median(runs.flatMap((r) => (r.metrics[n] === null ? [] : [r.metrics[n] as number])));
  return out;
}

function ratios(a: Medians, b: Medians | undefined): Partial<Record<MetricName, number | null>> {
  if (!b) return {};
  const out: Partial<Record<MetricName, number | null>> = {};
  for (const n of Object.keys(a) as MetricName[]) {
    const x = a[n];
    const y = b[n];
    out[n] = x === null || y === null || y === 0 ? null : x / y;
  }
  return out;
}

/** One row per pattern, variant and budget, in the order the runs were first made. */
export function summarize(results: readonly RunResult[]): SummaryRow[] {
  const groups = new Map<string, RunResult[]>();
  for (const r of results) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  const rows = [...groups.values()].map((runs): SummaryRow => {
    const r = runs[0] as RunResult;
    return {
      pattern: r.pattern,
      variant: r.variant,
      budgetPct: r.budgetPct,
      runs: runs.length,
      median: medians(runs),
      vsCeiling: {},
      vsNone: {},
    };
  });
  const byKey = new Map(rows.map((row) => [key(row), row]));
  for (const row of rows) {
    const ceiling = byKey.get(key({ pattern: row.pattern, variant: 'ceiling', budgetPct: null }));
    const none = byKey.get(key({ pattern: row.pattern, variant: 'none', budgetPct: row.budgetPct }));
    row.vsCeiling = ratios(row.median, ceiling?.median);
    row.vsNone = row.variant === 'ceiling' ? {} : ratios(row.median, none?.median);
  }
  return rows;
}

/** For each managed variant, the smallest budget from which on it keeps 90% of the ceiling. */
export function density(rows: readonly SummaryRow[]): DensityAnswer[] {
  const variants = [...new Set(rows.map((r) => r.variant))].filter((v) => v !== 'ceiling');
  return variants.map((variant) => {
    const mine = rows
      .filter((r) => r.variant === variant && r.budgetPct !== null)
      .sort((a, b) => (b.budgetPct as number) - (a.budgetPct as number));
    const throughputVsCeiling: Record<string, number | null> = {};
    let smallest: number | null = null;
    let holding = true;
    for (const r of mine) {
      const ratio = r.vsCeiling.throughputMiBs ?? null;
      throughputVsCeiling[String(r.budgetPct)] = ratio;
      holding = holding && ratio !== null && ratio >= DENSITY_KEEP;
      if (holding) smallest = r.budgetPct;
    }
    return { variant, smallestBudgetPct: smallest, throughputVsCeiling };
  });
}

const COLUMNS: Array<{ title: string; metric: MetricName; digits: number }> = [
  { title: 'thr MiB/s', metric: 'throughputMiBs', digits: 1 },
  { title: 'g-swin MiB', metric: 'guestSwapInMiB', digits: 0 },
  { title: 'g-swout MiB', metric: 'guestSwapOutMiB', digits: 0 },
  { title: 'g-paging', metric: 'guestPagingShare', digits: 2 },
  { title: 'h-swin MiB', metric: 'hostSwapInMiB', digits: 0 },
  { title: 'h-swout MiB', metric: 'hostSwapOutMiB', digits: 0 },
  { title: 'h-zswout MiB', metric: 'hostZswapOutMiB', digits: 0 },
  { title: 'psi some%', metric: 'psiSomePct', digits: 1 },
  { title: 'psi full%', metric: 'psiFullPct', digits: 1 },
  { title: 'OOM', metric: 'guestOomKills', digits: 0 },
  { title: 'qemu lost', metric: 'qemuKilled', digits: 0 },
  { title: 'balloon ops', metric: 'balloonOps', digits: 0 },
  { title: 'spikes', metric: 'spikes', digits: 0 },
  { title: 'react s', metric: 'reactionS', digits: 1 },
  { title: 'wake s', metric: 'wakeS', digits: 1 },
  { title: 'min g thr', metric: 'minGuestThroughputMiBs', digits: 0 },
  { title: 'idle rec%', metric: 'idleReclaimedShare', digits: 2 },
];

function cell(x: number | null | undefined, digits: number): string {
  return x === null || x === undefined ? '-' : x.toFixed(digits);
}

/** The printed table: one line per row, medians over repeats, throughput ratios at the end. */
export function formatTable(rows: readonly SummaryRow[]): string {
  const head = [
    'pattern',
    'variant',
    'budget',
    'runs',
    ...COLUMNS.map((c) => c.title),
    'thr/ceil',
    'thr/none',
  ];
  const body = rows.map((r) => [
    r.pattern,
    r.variant,
    r.budgetPct === null ? 'none' : `${r.budgetPct}%`,
    String(r.runs),
    ...COLUMNS.map((c) => cell(r.median[c.metric], c.digits)),
    cell(r.vsCeiling.throughputMiBs, 2),
    cell(r.vsNone.throughputMiBs, 2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}
