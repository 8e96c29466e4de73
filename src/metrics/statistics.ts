// The host's and each guest's statistics as Prometheus metrics, one per field of the catalogue,
// fed by the engine's 'collection' and 'guest' events. A statistic that is nil (a kernel without
// PSI, a guest without balloon statistics) has no series rather than a made-up 0, and a guest that
// is gone loses all its series.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Sample } from '../entities/entity.js';
import type { EngineEventMap } from '../engine/events.js';
import { catalogue, type Scope } from '../fields/catalogue.js';
import { statisticMetric, type StatisticMetric } from './names.js';

interface Series {
  readonly metric: StatisticMetric;
  readonly gauge?: Gauge<string>;
  readonly counter?: Counter<string>;
}

export class Statistics {
  private readonly host: Series[];
  private readonly guest: Series[];
  /** Host metrics have no labels, so a nil one is taken out of the registry: these are in it. */
  private readonly hostShown = new Set<string>();

  constructor(private readonly registry: Registry) {
    this.host = seriesOf('host', []);
    this.guest = seriesOf('guest', ['guest']);
    for (const s of this.guest) registry.registerMetric(s.gauge ?? (s.counter as Counter<string>));
  }

  /** The names of every statistic metric, for the docs and tests. */
  get names(): { host: string[]; guest: string[] } {
    return { host: this.host.map((s) => s.metric.name), guest: this.guest.map((s) => s.metric.name) };
  }

  onCollection(e: EngineEventMap['collection']): void {
    if (e.scope === 'host') this.recordHost(e.sample);
    else this.recordGuest(e.entity, e.sample);
  }

  onGuest(e: EngineEventMap['guest']): void {
    if (e.change === 'gone') this.forgetGuest(e.entity);
  }

  /** Every guest's series removed (a new engine lists its guests again). */
  clearGuests(): void {
    for (const s of this.guest) (s.gauge ?? s.counter)?.reset();
  }

  private recordHost(sample: Sample | null): void {
    for (const s of this.host) {
      const v = sample === null ? null : valueOf(sample[s.metric.field], s.metric.factor);
      const shown = this.hostShown.has(s.metric.name);
      const metric = s.gauge ?? (s.counter as Counter<string>);
      if (v === null) {
        // A counter keeps its total through a missing sample; a gauge with no value goes.
        if (shown && s.gauge) {
          this.registry.removeSingleMetric(s.metric.name);
          this.hostShown.delete(s.metric.name);
        }
        continue;
      }
      if (!shown) {
        this.registry.registerMetric(metric);
        this.hostShown.add(s.metric.name);
      }
      if (s.gauge) s.gauge.set(v);
      else if (v >= 0) s.counter?.inc(v);
    }
  }

  private recordGuest(guest: string, sample: Sample | null): void {
    const labels = { guest };
    for (const s of this.guest) {
      const v = sample === null ? null : valueOf(sample[s.metric.field], s.metric.factor);
      if (s.gauge) {
        if (v === null) s.gauge.remove(labels);
        else s.gauge.set(labels, v);
      } else if (v !== null && v >= 0) s.counter?.inc(labels, v);
    }
  }

  private forgetGuest(guest: string): void {
    for (const s of this.guest) (s.gauge ?? s.counter)?.remove({ guest });
  }
}

function seriesOf(scope: Scope, labelNames: string[]): Series[] {
  // A list (io_tune) is no number: it has no series.
  return catalogue(scope)
    .filter(([, spec]) => spec.unit !== 'list')
    .map(([field, spec]) => {
      const metric = statisticMetric(scope, field, spec);
      const config = { name: metric.name, help: metric.help, labelNames, registers: [] };
      return metric.type === 'counter'
        ? { metric, counter: new Counter(config) }
        : { metric, gauge: new Gauge(config) };
    });
}

/** A sample's value in the metric's unit; null when missing or not a finite number. */
function valueOf(v: Sample[string] | undefined, factor: number): number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  return v * factor;
}
