// The metrics table of docs/metrics.md, made from the metrics themselves (their names, types,
// labels and help come from the registry, and the statistics' from the field catalogue): `npm run
// docs` writes it between its markers, and a test fails when the document and the code disagree.
import { catalogue } from '../fields/catalogue.js';
import { createMetrics } from './index.js';
import { statisticMetric } from './names.js';

export const METRICS_TABLE_MARKERS = {
  begin: '<!-- metrics:begin (generated from src/metrics/ by npm run docs) -->',
  end: '<!-- metrics:end -->',
};

/** What the registry holds of each metric at run time (prom-client's typings leave these out). */
interface Described {
  readonly name: string;
  readonly help: string;
  readonly type: unknown;
  readonly labelNames?: readonly string[];
}

export function metricsTable(): string {
  const rows: string[][] = [];
  const row = (name: string, type: string, labels: readonly string[], help: string): void => {
    rows.push([`\`${name}\``, type, labels.map((l) => `\`${l}\``).join(', '), help]);
  };
  // Host statistics are registered only once they have a value: list them from the catalogue.
  for (const [field, spec] of catalogue('host')) {
    const m = statisticMetric('host', field, spec);
    row(m.name, m.type, [], `${m.help} [\`Host.${field}\`]`);
  }
  const guestFields = new Map(
    catalogue('guest').map(([field, spec]) => [statisticMetric('guest', field, spec).name, field]),
  );
  const { registry } = createMetrics({ version: '', process: false });
  for (const metric of registry.getMetricsAsArray() as unknown as Described[]) {
    const field = guestFields.get(metric.name);
    row(
      metric.name,
      String(metric.type),
      metric.labelNames ?? [],
      field === undefined ? metric.help : `${metric.help} [\`Guest.${field}\`]`,
    );
  }
  const header = ['Metric', 'Type', 'Labels', 'Meaning'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** `text` with the section between the markers replaced by the generated table. */
export function withMetricsTable(text: string): string {
  const { begin, end } = METRICS_TABLE_MARKERS;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error('the markers of the metrics table are missing');
  return `${text.slice(0, i + begin.length)}\n\n${metricsTable()}\n\n${text.slice(j)}`;
}
