// The benchmark's command line. parseOptions() is pure: it turns argv into options or throws a
// message for the user.
import { parseArgs } from 'node:util';
import type { Accel } from '../../test/integration/support/qemu.js';
import { PATTERN_NAMES, type PatternName } from './patterns.js';
import { DEFAULT_VARIANTS, DENSITY_BUDGETS, VARIANTS, type Variant } from './summary.js';

export interface Options {
  pattern: PatternName;
  variants: Variant[];
  repeats: number;
  guests: number;
  guestMiB: number;
  guestSwapMiB: number;
  hostSwapMiB: number;
  budgetPct: number;
  density: boolean;
  /** With --density, the budgets measured (%), largest first. */
  densityBudgets: number[];
  warmupS: number;
  windowS: number;
  defaultPolicy: string;
  /** The policy folder of variant candidate (--candidate-policy); undefined: none given. */
  candidatePolicy: string | undefined;
  /** Where the results go; undefined: bench/results/overcommit-<date>.json. */
  json: string | undefined;
  /** mom.conf [main] keys for momd, from --momd-set key=value. */
  momdSettings: Record<string, string>;
  /** --accel: the guests' accelerator; auto is kvm where /dev/kvm is usable, else tcg. */
  accel: AccelWanted;
  help: boolean;
}

export type AccelWanted = 'auto' | Accel;

export const USAGE = `usage: node dist/bench/overcommit/index.js [options]   (root; real QEMU guests)
  --pattern moderate|heavy|idle-heavy   the guests' workloads (default moderate)
  --variants LIST          of ceiling,none,none-zswap,classic,default,default-zswap,candidate
                           (default ceiling,none,classic,default; default-zswap is the default
                           policy with zswap-owned: true: momd drives the machine's zswap;
                           none-zswap is none with zswap turned on by the benchmark for the run
                           (the pool as found); candidate is the folder of --candidate-policy)
  --repeats N              runs of each variant, interleaved (default 2)
  --guests N               guests per run (default 4)
  --guest-mib N            each guest's RAM (default 576)
  --guest-swap-mib N       each guest's swap disk (default 512)
  --host-swap-mib N        the host swap file made for the invocation (default 2048)
  --budget-pct P           the cgroup's limit, % of the guests' total RAM (default 67)
  --density                budgets 100,80,67,50 for every managed variant, plus the ceiling
  --budgets LIST           with --density, these budgets instead (e.g. 80,67,50); the smallest
                           budget held assumes those above the list held too
  --warmup S               seconds before the window (default 60)
  --window S               the measuring window in seconds (default 180)
  --default-policy DIR     the policy folder of variants default and default-zswap
                           (default policies/default)
  --candidate-policy DIR   the policy folder of variant candidate: a policy change measured
                           side by side with the default (required with that variant)
  --momd-set KEY=VALUE     a mom.conf [main] setting for momd (repeatable)
  --json FILE              results file (default bench/results/overcommit-<date>.json)
  --accel auto|kvm|tcg     the guests' accelerator (default auto: kvm where /dev/kvm is
                           usable, else tcg; kvm on a machine without it is an error)
  -h, --help`;

function positive(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min)
    throw new Error(`--${name}: expected a number >= ${min}, got '${text}'`);
  return n;
}

function integer(name: string, text: string | undefined, fallback: number): number {
  const n = positive(name, text, fallback);
  if (!Number.isInteger(n)) throw new Error(`--${name}: expected a whole number, got '${text}'`);
  return n;
}

function variantList(text: string | undefined): Variant[] {
  if (text === undefined) return [...DEFAULT_VARIANTS];
  const names = text.split(',').map((s) => s.trim());
  for (const n of names)
    if (!(VARIANTS as readonly string[]).includes(n))
      throw new Error(`--variants: unknown variant '${n}' (known: ${VARIANTS.join(', ')})`);
  return [...new Set(names)] as Variant[];
}

function settings(pairs: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`--momd-set: expected KEY=VALUE, got '${p}'`);
    out[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
  }
  return out;
}

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      pattern: { type: 'string' },
      variants: { type: 'string' },
      repeats: { type: 'string' },
      guests: { type: 'string' },
      'guest-mib': { type: 'string' },
      'guest-swap-mib': { type: 'string' },
      'host-swap-mib': { type: 'string' },
      'budget-pct': { type: 'string' },
      density: { type: 'boolean' },
      budgets: { type: 'string' },
      warmup: { type: 'string' },
      window: { type: 'string' },
      'default-policy': { type: 'string' },
      'candidate-policy': { type: 'string' },
      'momd-set': { type: 'string', multiple: true },
      json: { type: 'string' },
      accel: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const pattern = values.pattern ?? 'moderate';
  if (!(PATTERN_NAMES as readonly string[]).includes(pattern))
    throw new Error(`--pattern: unknown pattern '${pattern}' (known: ${PATTERN_NAMES.join(', ')})`);
  const variants = variantList(values.variants);
  const accel = values.accel ?? 'auto';
  if (accel !== 'auto' && accel !== 'kvm' && accel !== 'tcg')
    throw new Error(`--accel: expected auto, kvm or tcg, got '${accel}'`);
  if (variants.includes('candidate') && values['candidate-policy'] === undefined)
    throw new Error('--variants: candidate needs --candidate-policy DIR');
  return {
    pattern: pattern as PatternName,
    variants,
    repeats: integer('repeats', values.repeats, 2),
    guests: integer('guests', values.guests, 4),
    guestMiB: integer('guest-mib', values['guest-mib'], 576),
    guestSwapMiB: integer('guest-swap-mib', values['guest-swap-mib'], 512),
    hostSwapMiB: integer('host-swap-mib', values['host-swap-mib'], 2048),
    budgetPct: positive('budget-pct', values['budget-pct'], 67),
    density: values.density ?? false,
    densityBudgets: budgetList(values.budgets, values.density ?? false),
    warmupS: positive('warmup', values.warmup, 60, 0),
    windowS: positive('window', values.window, 180),
    defaultPolicy: values['default-policy'] ?? 'policies/default',
    candidatePolicy: values['candidate-policy'],
    json: values.json,
    momdSettings: settings(values['momd-set']),
    accel,
    help: values.help ?? false,
  };
}

/** The accelerator the guests get: auto picks kvm when KVM is usable here. */
export function resolveAccel(wanted: AccelWanted, kvmIsUsable: boolean): Accel {
  if (wanted === 'tcg') return 'tcg';
  if (wanted === 'kvm' && !kvmIsUsable)
    throw new Error('--accel kvm: /dev/kvm is missing or not readable and writable here');
  return kvmIsUsable ? 'kvm' : 'tcg';
}

function budgetList(text: string | undefined, density: boolean): number[] {
  if (text === undefined) return [...DENSITY_BUDGETS];
  if (!density) throw new Error('--budgets: only with --density');
  const list = text.split(',').map((t) => positive('budgets', t.trim(), 0));
  if (list.some((b) => b > 100)) throw new Error(`--budgets: a budget over 100% in '${text}'`);
  return [...new Set(list)].sort((a, b) => b - a);
}

/** Whether a variant runs the default policy folder (--default-policy). */
export function usesDefaultPolicy(variant: Variant): boolean {
  return variant === 'default' || variant === 'default-zswap';
}

/** The policy folder a variant runs, relative to the repository; null: none (ceiling, none). */
export function variantPolicy(variant: Variant, opts: Options): string | null {
  if (variant === 'classic') return 'policies/classic';
  if (usesDefaultPolicy(variant)) return opts.defaultPolicy;
  if (variant === 'candidate') return opts.candidatePolicy ?? null;
  return null;
}

/** Whether a variant runs with zswap on: momd drives it (default-zswap), or the benchmark turns it on (none-zswap). */
export function variantUsesZswap(variant: Variant): boolean {
  return variant === 'default-zswap' || variant === 'none-zswap';
}

/** Whether the benchmark itself turns zswap on for the run (and puts it back): none-zswap. */
export function benchTurnsZswapOn(variant: Variant): boolean {
  return variant === 'none-zswap';
}

/** The mom.conf [main] keys a variant itself sets; --momd-set comes after them and may override. */
export function variantMomdSettings(variant: Variant): Record<string, string> {
  return variant === 'default-zswap' ? { 'zswap-owned': 'true' } : {};
}

export interface PlannedRun {
  variant: Variant;
  /** null: the ceiling (no limit). */
  budgetPct: number | null;
  repeat: number;
}

/**
 * The runs of an invocation, interleaved: every repeat makes one run of each variant (and, with
 * --density, of each managed variant at each budget, plus one ceiling run) before the next repeat
 * starts, so that a slow stretch of this shared machine hits all variants alike.
 */
export function planRuns(
  o: Pick<Options, 'variants' | 'repeats' | 'density' | 'budgetPct'> & { densityBudgets?: number[] },
): PlannedRun[] {
  const runs: PlannedRun[] = [];
  const managed = o.variants.filter((v) => v !== 'ceiling');
  const budgets = o.density ? [...(o.densityBudgets ?? DENSITY_BUDGETS)] : [o.budgetPct];
  for (let repeat = 1; repeat <= o.repeats; repeat++) {
    if (o.variants.includes('ceiling')) runs.push({ variant: 'ceiling', budgetPct: null, repeat });
    for (const budgetPct of budgets) for (const variant of managed) runs.push({ variant, budgetPct, repeat });
  }
  return runs;
}
