// The series the dashboard charts, declared once: each is a catalogue statistic (its unit and
// meaning come from src/fields/catalogue.ts) or a value worked out from a few of them (declared
// here with its own unit and meaning). The timeline keeps them, the API serves them under these
// keys, and the page labels its charts from the same table.
import { HOST_FIELDS, GUEST_FIELDS, type Unit } from '../fields/catalogue.js';
import type { Sample } from '../entities/entity.js';

export interface SeriesSpec {
  /** The key in the timeline's JSON. */
  readonly key: string;
  readonly unit: Unit;
  /** One line, shown as the chart's legend tooltip. */
  readonly help: string;
  /** The value in a sample; null when the sample lacks what it needs. */
  read(sample: Sample): number | null;
}

/** The series of a catalogue statistic, read as is. */
function stat<F extends Record<string, { readonly unit: Unit; readonly help: string }>>(
  fields: F,
  name: keyof F & string,
): SeriesSpec {
  const spec = fields[name];
  if (spec === undefined) throw new Error(`no catalogue field ${name}`);
  return { key: name, unit: spec.unit, help: spec.help, read: (s) => num(s[name]) };
}

/** The host's memory, stacked on the dashboard: used + cache + free = total, swap above it. */
export const HOST_SERIES: readonly SeriesSpec[] = [
  {
    key: 'mem_used',
    unit: 'KiB',
    help: 'memory in use by guests and host processes: total - MemFree - page cache',
    read: (s) => {
      const total = num(s['mem_total']);
      const free = num(s['mem_unused']);
      const cache = num(s['mem_cached']);
      return total === null || free === null || cache === null ? null : Math.max(0, total - free - cache);
    },
  },
  stat(HOST_FIELDS, 'mem_cached'),
  stat(HOST_FIELDS, 'mem_unused'),
  stat(HOST_FIELDS, 'swap_usage'),
  stat(HOST_FIELDS, 'mem_total'),
  stat(HOST_FIELDS, 'psi_some_avg10'),
  stat(HOST_FIELDS, 'psi_full_avg10'),
  stat(HOST_FIELDS, 'ksm_pages_shared'),
  stat(HOST_FIELDS, 'ksm_pages_sharing'),
  stat(HOST_FIELDS, 'ksmd_cpu_usage'),
  stat(HOST_FIELDS, 'swap_in_rate'),
  stat(HOST_FIELDS, 'swap_out_rate'),
];

/** A guest's memory and its paging (its floor and ceiling rarely change: the page takes them from its row). */
export const GUEST_SERIES: readonly SeriesSpec[] = [
  stat(GUEST_FIELDS, 'balloon_cur'),
  stat(GUEST_FIELDS, 'mem_usable'),
  stat(GUEST_FIELDS, 'mem_unused'),
  stat(GUEST_FIELDS, 'mem_cache'),
  stat(GUEST_FIELDS, 'swap_in_rate'),
  stat(GUEST_FIELDS, 'swap_out_rate'),
  stat(GUEST_FIELDS, 'major_fault_rate'),
];

/** What the page needs to label a series. */
export interface SeriesLabel {
  readonly key: string;
  readonly unit: Unit;
  readonly help: string;
}

export const labels = (series: readonly SeriesSpec[]): SeriesLabel[] =>
  series.map(({ key, unit, help }) => ({ key, unit, help }));

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
