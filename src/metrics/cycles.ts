// Policy cycles from the engine's 'cycle' and 'evaluation' events: how long each took (a
// histogram), how many ran by status, how many evaluations failed (nothing applied then), and
// whether the last cycle was a dry run (evaluated and logged, nothing applied).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EngineEventMap } from '../engine/events.js';

/** Cycles take milliseconds on a small host and up to seconds with many guests or slow backends. */
const BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Cycles {
  private readonly duration: Histogram;
  private readonly count: Counter<'status'>;
  private readonly errors: Counter;
  private readonly dryRun: Gauge;
  private readonly fallback: Gauge;
  private readonly contention: Gauge;
  private readonly contentionEpisodes: Counter;
  private readonly paused: Gauge;
  private readonly pauses: Counter;

  constructor(registry: Registry) {
    this.duration = new Histogram({
      name: 'momd_policy_cycle_duration_seconds',
      help: 'time a policy cycle took: snapshot, policy evaluation and every controller',
      buckets: BUCKETS_S,
      registers: [registry],
    });
    this.count = new Counter({
      name: 'momd_policy_cycles_total',
      help: 'policy cycles by status: done, policy-error (nothing applied), skipped (host statistics not ready)',
      labelNames: ['status'],
      registers: [registry],
    });
    this.errors = new Counter({
      name: 'momd_policy_evaluation_errors_total',
      help: 'policy evaluations that failed with an error: no control was applied in that cycle',
      registers: [registry],
    });
    this.dryRun = new Gauge({
      name: 'momd_dry_run',
      help: 'whether the last policy cycle was a dry run (momd --dry-run, dry-run key or momctl dry-run on): evaluated and logged, nothing applied; 1 or 0',
      registers: [registry],
    });
    this.fallback = new Gauge({
      name: 'momd_policy_fallback',
      help: 'whether the safe fallback acts: the policy failed policy-fallback-after cycles in a row, and guests get their memory back slowly until it evaluates again; 1 or 0',
      registers: [registry],
    });
    this.fallback.set(0);
    this.contention = new Gauge({
      name: 'momd_contention',
      help: 'whether a contention episode is on: host memory PSI full over contention-psi-full while every guest is at its floor or short of memory; 1 or 0',
      registers: [registry],
    });
    this.contention.set(0);
    this.contentionEpisodes = new Counter({
      name: 'momd_contention_episodes_total',
      help: 'contention episodes started (each ran contention-hook when one is configured)',
      registers: [registry],
    });
    this.paused = new Gauge({
      name: 'momd_contention_paused',
      help: 'whether momd holds a guest paused for contention (contention-pause); it is resumed when the episode ends or momd stops; 1 or 0',
      registers: [registry],
    });
    this.paused.set(0);
    this.pauses = new Counter({
      name: 'momd_contention_pauses_total',
      help: 'guests momd paused for contention (contention-pause), one at most per episode',
      registers: [registry],
    });
    for (const status of ['done', 'policy-error', 'skipped']) this.count.inc({ status }, 0);
  }

  onCycle(e: EngineEventMap['cycle']): void {
    this.duration.observe(e.durationMs / 1000);
    this.count.inc({ status: e.status });
    this.dryRun.set(e.dryRun ? 1 : 0);
    if (e.status === 'done') this.fallback.set(0);
    else if (e.status === 'policy-error') this.fallback.set(e.fallback.since === null ? 0 : 1);
  }

  onContention(e: EngineEventMap['contention']): void {
    this.contention.set(e.change === 'started' ? 1 : 0);
    if (e.change === 'started') this.contentionEpisodes.inc();
  }

  onPause(e: EngineEventMap['pause']): void {
    this.paused.set(e.change === 'paused' ? 1 : 0);
    if (e.change === 'paused') this.pauses.inc();
  }

  onEvaluation(e: EngineEventMap['evaluation']): void {
    if (!e.ok) this.errors.inc();
  }
}
