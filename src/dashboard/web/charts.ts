// The charts: uPlot, drawn once and updated in place (setData) at each cycle.
import uPlot from 'uplot';
import { memory, rate } from './format.js';

export interface Line {
  readonly label: string;
  readonly stroke: string;
  readonly fill?: string;
  /** 'y' (default) or 'y2', the right-hand axis. */
  readonly scale?: 'y' | 'y2';
  readonly dash?: number[];
  /** What the legend shows for point `i` (default: the plotted value, formatted by the axis). */
  readonly legend?: (i: number) => string;
}

export interface ChartSpec {
  readonly lines: readonly Line[];
  readonly y: (v: number) => string;
  readonly y2?: (v: number) => string;
  readonly yMin0?: boolean;
}

export class Chart {
  private readonly plot: uPlot;
  private readonly el: HTMLElement;
  private hovering = false;
  private length = 0;

  constructor(el: HTMLElement, spec: ChartSpec) {
    this.el = el;
    const width = (): number => Math.max(280, el.clientWidth - 10);
    const axisValues =
      (f: (v: number) => string) =>
      (_u: uPlot, splits: number[]): string[] =>
        splits.map(f);
    const opts: uPlot.Options = {
      width: width(),
      height: 190,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        y: spec.yMin0 ? { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] } : {},
        ...(spec.y2
          ? { y2: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(1, max * 1.1)] } }
          : {}),
      },
      axes: [
        {},
        { values: axisValues(spec.y), size: 70 },
        ...(spec.y2
          ? [{ scale: 'y2', side: 1, values: axisValues(spec.y2), grid: { show: false }, size: 50 }]
          : []),
      ],
      series: [
        {},
        ...spec.lines.map((l): uPlot.Series => ({
          label: l.label,
          stroke: l.stroke,
          width: 1.5,
          scale: l.scale ?? 'y',
          points: { show: false },
          ...(l.fill ? { fill: l.fill } : {}),
          ...(l.dash ? { dash: l.dash } : {}),
          value: (_u, v, _si, idx) =>
            l.legend && idx !== null && idx !== undefined
              ? l.legend(idx)
              : v === null || v === undefined
                ? '–'
                : (l.scale === 'y2' && spec.y2 ? spec.y2 : spec.y)(v),
        })),
      ],
    };
    this.plot = new uPlot(opts, [[], ...spec.lines.map(() => [])], el);
    // Away from the cursor, the legend shows the newest values.
    this.plot.over.addEventListener('mouseenter', () => (this.hovering = true));
    this.plot.over.addEventListener('mouseleave', () => {
      this.hovering = false;
      this.showLatest();
    });
    new ResizeObserver(() => this.plot.setSize({ width: width(), height: 190 })).observe(el);
  }

  update(data: uPlot.AlignedData): void {
    this.plot.setData(data);
    this.length = data[0].length;
    this.el.dataset['points'] = String(this.length);
    if (!this.hovering) this.showLatest();
  }

  private showLatest(): void {
    if (this.length > 0) this.plot.setLegend({ idx: this.length - 1 });
  }
}

export const mib = (kib: number): string => memory(kib);
export const perSecond = (v: number): string => rate(v);
export const percent = (v: number): string => `${v.toFixed(v < 10 ? 1 : 0)}%`;
