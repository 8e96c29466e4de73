// The outcome log: per entity and control, what was desired and sent, when, how often it was sent
// again, when the actual state last moved toward it, and the latest outcome. Controllers read it
// (ControlContext.previous) to decide whether to send again; the engine derives balloon_stuck
// from it and the guest's newest balloon size, and logs an outcome only when it changes.
import type { ControlRecord, Outcome } from '../controllers/controller.js';

interface MutableRecord {
  desired: number | null;
  sent: number | null;
  sentAt: number | null;
  resends: number;
  movedAt: number | null;
  disturbedAt: number | null;
  outcome: ControlRecord['outcome'];
  reason: string | null;
  /** The actual value seen last, to tell movement toward `sent`. */
  actual: number | null;
  stuck: boolean;
}

export interface StuckChange {
  readonly stuck: boolean;
  /** Set when the state changed with this observation (to log it once). */
  readonly changed: boolean;
}

export class ControlLog {
  private readonly records = new Map<string, MutableRecord>();

  constructor(
    /** Within this of `sent`, the actual state has reached it. */
    private readonly band: number,
  ) {}

  private key(entity: string, control: string): string {
    return `${entity}\u0000${control}`;
  }

  previous(entity: string, control: string): ControlRecord | undefined {
    return this.records.get(this.key(entity, control));
  }

  /**
   * Records a cycle's outcome. Returns whether it differs from the previous one of that control
   * (outcome or reason), so that the same skip or failure is logged once, not every cycle.
   */
  record(o: Outcome, now: number): boolean {
    const key = this.key(o.entity, o.control);
    const r: MutableRecord = this.records.get(key) ?? {
      desired: null,
      sent: null,
      sentAt: null,
      resends: 0,
      movedAt: null,
      disturbedAt: null,
      outcome: null,
      reason: null,
      actual: o.old,
      stuck: false,
    };
    const changed = r.outcome !== o.outcome || r.reason !== (o.reason ?? null);
    if (o.outcome === 'applied') {
      const desired = o.desired ?? o.new;
      if (r.sentAt !== null && r.desired === desired) r.resends++;
      else r.resends = 0;
      // The stuck clock runs from the last time the state was seen at or moving toward a target;
      // a new target does not restart it (a policy changing its mind every cycle cannot hide a
      // balloon that never moves).
      r.movedAt ??= now;
      r.desired = desired;
      r.sent = o.new;
      r.sentAt = now;
    }
    r.outcome = o.outcome;
    r.reason = o.reason ?? null;
    this.records.set(key, r);
    return changed;
  }

  /**
   * A new reading of the actual state of a control (a guest's balloon_cur for balloon_target).
   * Notes movement toward what was sent, and works out whether the control is stuck: sent, not
   * reached, and not seen moving toward it for `timeoutS`.
   */
  observe(
    entity: string,
    control: string,
    actual: number | null,
    now: number,
    timeoutS: number,
  ): StuckChange {
    const r = this.records.get(this.key(entity, control));
    if (r === undefined || r.sent === null || r.sentAt === null) return { stuck: false, changed: false };
    const before = r.stuck;
    if (actual !== null) {
      const gap = Math.abs(actual - r.sent);
      if (gap <= this.band) {
        r.resends = 0;
        r.movedAt = now;
      } else if (r.actual !== null && gap < Math.abs(r.actual - r.sent) - this.band) {
        r.movedAt = now;
      } else if (r.actual !== null && gap > Math.abs(r.actual - r.sent) + this.band) {
        r.disturbedAt = now;
      }
      r.actual = actual;
      r.stuck = gap > this.band && now - (r.movedAt ?? r.sentAt) >= timeoutS;
    }
    // Unknown size (no statistics): a stuck balloon stays stuck until it is seen moving.
    return { stuck: r.stuck, changed: r.stuck !== before };
  }

  /** Forgets an entity (a guest that is gone). */
  forget(entity: string): void {
    const prefix = `${entity}\u0000`;
    for (const key of [...this.records.keys()]) if (key.startsWith(prefix)) this.records.delete(key);
  }
}
