// The balloon size the policy wants for each guest, after the controller's clamping to the guest's
// floor and ceiling, from the engine's 'outcome' events. It stands beside momd_guest_balloon_cur_bytes
// (the size now): a gap that stays open is a balloon that does not follow.
import { Gauge, type Registry } from 'prom-client';
import type { EngineEventMap } from '../engine/events.js';

const KIB = 1024;

export class BalloonTargets {
  private readonly gauge: Gauge<'guest'>;

  constructor(registry: Registry) {
    this.gauge = new Gauge({
      name: 'momd_guest_balloon_target_bytes',
      help: "the balloon size the policy wants for the guest, within its floor and ceiling (the policy's balloon_target)",
      labelNames: ['guest'],
      registers: [registry],
    });
  }

  onOutcome(e: EngineEventMap['outcome']): void {
    if (e.control !== 'balloon_target' || e.entity === '*') return;
    const kib = e.desired ?? e.new;
    if (kib === null || !Number.isFinite(kib)) this.gauge.remove({ guest: e.entity });
    else this.gauge.set({ guest: e.entity }, kib * KIB);
  }

  onGuest(e: EngineEventMap['guest']): void {
    if (e.change === 'gone') this.gauge.remove({ guest: e.entity });
  }

  clearGuests(): void {
    this.gauge.reset();
  }
}
