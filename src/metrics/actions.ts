// What the controllers did, counted from the engine's 'outcome' events: one counter by controller,
// control and outcome ("balloon_target of web1 was applied" adds 1 to Balloon/balloon_target/applied).
import { Counter, type Registry } from 'prom-client';
import type { EngineEventMap } from '../engine/events.js';

export class Actions {
  private readonly counter: Counter<'controller' | 'control' | 'outcome'>;

  constructor(registry: Registry) {
    this.counter = new Counter({
      name: 'momd_controller_actions_total',
      help: 'controls handled by the controllers, by outcome: applied (changed), unchanged (already as wanted), skipped (not possible now, e.g. a stuck balloon), failed',
      labelNames: ['controller', 'control', 'outcome'],
      registers: [registry],
    });
  }

  onOutcome(e: EngineEventMap['outcome']): void {
    // A disk's throttle is the outcome of `io_tune[vda]`: counted under its control, io_tune, so
    // that disk names do not become label values.
    const control = e.control.replace(/\[.*\]$/, '');
    this.counter.inc({ controller: e.controller, control, outcome: e.outcome });
  }
}
