// Prometheus names for the field catalogue's statistics: `momd_<scope>_<field>_<unit>`, in base
// units (bytes, seconds, ratios). Units are converted here and nowhere else; the help text is the
// catalogue's. A field the backends report as a cumulative counter becomes a `_total` counter.
import type { AnyFieldSpec, Scope, Unit } from '../fields/catalogue.js';

export interface StatisticMetric {
  /** The field's catalogue name. */
  readonly field: string;
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  /** Multiplies a sample's value into the metric's unit (KiB → bytes: 1024). */
  readonly factor: number;
}

interface PromUnit {
  /** Appended to the name; empty for plain numbers. */
  readonly suffix: string;
  readonly factor: number;
  /** Said in the help text when the suffix does not say it. */
  readonly note?: string;
}

const UNITS: Readonly<Record<Unit, PromUnit>> = {
  KiB: { suffix: '_bytes', factor: 1024 },
  pages: { suffix: '_pages', factor: 1 },
  count: { suffix: '', factor: 1 },
  ms: { suffix: '_seconds', factor: 1e-3 },
  s: { suffix: '_seconds', factor: 1 },
  us: { suffix: '_seconds', factor: 1e-6 },
  percent: { suffix: '_ratio', factor: 0.01, note: '0 to 1' },
  enum: { suffix: '', factor: 1 },
  bool: { suffix: '', factor: 1, note: '1 or 0' },
  'pages/s': { suffix: '_pages_per_second', factor: 1 },
  '1/s': { suffix: '_per_second', factor: 1 },
  'ms/s': { suffix: '_seconds_per_second', factor: 1e-3, note: '1 is one CPU kept busy' },
  // Not a number: statistics.ts makes no metric of such a field.
  list: { suffix: '', factor: 1 },
};

/** Endings of field names that state a unit or a kind the metric name states again. */
const STATED = /_(s|ms|millisecs|rate)$/;
/** A counter's `_total` comes last, after the unit (`psi_some_total` → `psi_some_seconds_total`). */
const COUNTER_TOTAL = /_total$/;

export function statisticMetric(scope: Scope, field: string, spec: AnyFieldSpec): StatisticMetric {
  const unit = UNITS[spec.unit];
  const counter = spec.counter === true;
  const stem = spec.metric ?? field.replace(counter ? COUNTER_TOTAL : STATED, '');
  // `ksm_pages_shared` is already in pages: no `_pages` again.
  const suffix = unit.suffix === '_pages' && stem.includes('pages') ? '' : unit.suffix;
  const note = unit.note ?? (suffix === '' && spec.unit === 'pages' ? 'pages' : undefined);
  // A counter counts from when momd began watching, not per sample as the policy sees it.
  const help = counter
    ? spec.help.replace(' since the previous sample', ' since momd began watching')
    : spec.help;
  return {
    field,
    name: `momd_${scope}_${stem}${suffix}${counter ? '_total' : ''}`,
    help: note === undefined ? help : `${help} (${note})`,
    type: counter ? 'counter' : 'gauge',
    factor: unit.factor,
  };
}
