// momd's Prometheus metrics: one registry, fed by the engine's events only (never by reaching into
// the engine). `attach` subscribes to one engine's events; the daemon attaches each engine it
// builds (a reload builds a new one) and detaches the old, which forgets its guests. The HTTP side
// is server.ts. Every metric is described in docs/metrics.md.
import { collectDefaultMetrics, Counter, Registry, type Metric } from 'prom-client';
import type { EngineEvents } from '../engine/events.js';
import { Actions } from './actions.js';
import { registerBuildInfo } from './build-info.js';
import { Cycles } from './cycles.js';
import { Statistics } from './statistics.js';
import { BalloonTargets } from './targets.js';

export { startMetricsServer, type MetricsServer } from './server.js';

export interface Metrics {
  readonly registry: Registry;
  /** Listens to an engine's events; the returned function stops listening and forgets its guests. */
  attach(events: EngineEvents): () => void;
}

export function createMetrics(opts: { version: string; process?: boolean }): Metrics {
  const registry = new Registry();
  registerBuildInfo(registry, opts.version);
  if (opts.process !== false) registerProcessMetrics(registry);
  const statistics = new Statistics(registry);
  const targets = new BalloonTargets(registry);
  const actions = new Actions(registry);
  const cycles = new Cycles(registry);
  return {
    registry,
    attach(events) {
      const off = [
        events.on('collection', (e) => statistics.onCollection(e)),
        events.on('guest', (e) => {
          statistics.onGuest(e);
          targets.onGuest(e);
        }),
        events.on('outcome', (e) => {
          actions.onOutcome(e);
          targets.onOutcome(e);
        }),
        events.on('cycle', (e) => cycles.onCycle(e)),
        events.on('evaluation', (e) => cycles.onEvaluation(e)),
        events.on('contention', (e) => cycles.onContention(e)),
        events.on('pause', (e) => cycles.onPause(e)),
      ];
      return () => {
        for (const f of off) f();
        statistics.clearGuests();
        targets.clearGuests();
      };
    },
  };
}

/**
 * prom-client's metrics of the process (CPU, memory, file descriptors: process_*) and of Node.js
 * (heap, event loop lag, GC: nodejs_*), less the three gauges named `*_total` (active handles,
 * requests, resources), which Prometheus's naming rules reserve for counters (`promtool check
 * metrics` rejects them).
 */
function registerProcessMetrics(registry: Registry): void {
  const scratch = new Registry();
  collectDefaultMetrics({ register: scratch });
  for (const metric of scratch.getMetricsAsArray()) {
    if (metric.name.endsWith('_total') && !(metric instanceof Counter)) continue;
    // getMetricsAsArray() is typed as plain objects; they are the registered metrics themselves.
    registry.registerMetric(metric as unknown as Metric);
  }
}
