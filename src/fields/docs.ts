// The field tables of docs/policy-language.md, made from the catalogue: `npm run docs` writes
// them between their markers, and a test fails when the document and the catalogue disagree.
import { catalogue, type Scope } from './catalogue.js';

export const FIELD_TABLE_MARKERS = (scope: Scope): { begin: string; end: string } => ({
  begin: `<!-- fields:${scope}:begin (generated from src/fields/catalogue.ts by npm run docs) -->`,
  end: `<!-- fields:${scope}:end -->`,
});

/** A markdown table of a scope's fields: name, unit, collector, meaning. */
export function fieldTable(scope: Scope): string {
  const rows = catalogue(scope).map(([name, spec]) => {
    const notes = [
      spec.mandatory ? 'mandatory' : '',
      spec.counter ? 'per sample' : '',
      spec.source === 'engine' ? 'worked out by momd' : '',
      spec.momd ? 'momd' : '',
    ].filter((n) => n !== '');
    return [
      `\`${name}\``,
      spec.unit,
      `\`${spec.group}\``,
      spec.help + (notes.length ? ` (${notes.join(', ')})` : ''),
    ];
  });
  const header = ['Field', 'Unit', 'Collector', 'Meaning'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** `text` with the section between a scope's markers replaced by its generated table. */
export function withFieldTable(text: string, scope: Scope): string {
  const { begin, end } = FIELD_TABLE_MARKERS(scope);
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`the markers of the ${scope} field table are missing`);
  return `${text.slice(0, i + begin.length)}\n\n${fieldTable(scope)}\n\n${text.slice(j)}`;
}
